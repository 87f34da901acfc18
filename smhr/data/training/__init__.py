"""Training-time loading: augmentation, targets at the output stride, the torch Dataset and collate."""
