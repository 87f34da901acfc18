"""Training: losses (pure functions), the stage schedule, the trainer (checkpoints, exact resume, DDP)."""
