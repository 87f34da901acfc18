"""The synthetic single-hand dataset: viewpoints, appearance, backgrounds, rendering into FreiHAND's layout."""
