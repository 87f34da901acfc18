"""Exponential moving average of a model's weights (the evaluated model when enabled)."""

from __future__ import annotations

import copy

import torch


class ModelEMA:
    """Keeps ``shadow = decay * shadow + (1 - decay) * weights`` after every optimiser step.

    Floating-point parameters and buffers are averaged; integer buffers (BatchNorm's step counter)
    are copied. The warm-up ``decay_t = min(decay, (1 + t) / (10 + t))`` lets early averages
    follow the fast-moving weights (as timm's and YOLO's EMAs do).

    Attributes:
        shadow: a frozen deep copy of the model holding the averaged weights.
        decay: the final decay.
        updates: number of updates so far (part of the state, for exact resume).
    """

    def __init__(self, model: torch.nn.Module, decay: float = 0.999) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ModelEMA: decay must be in (0, 1), got {decay}")
        self.shadow = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay = decay
        self.updates = 0

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        """Folds the model's current weights into the average."""
        self.updates += 1
        d = min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        current = model.state_dict()
        for name, value in self.shadow.state_dict().items():
            new = current[name].detach()
            if value.dtype.is_floating_point:
                value.mul_(d).add_(new.to(value.dtype), alpha=1.0 - d)
            else:
                value.copy_(new)

    def state_dict(self) -> dict:
        """The averaged weights and the update count."""
        return {"shadow": self.shadow.state_dict(), "updates": self.updates, "decay": self.decay}

    def load_state_dict(self, state: dict) -> None:
        """Restores :meth:`state_dict`."""
        self.shadow.load_state_dict(state["shadow"])
        self.updates = int(state["updates"])
        self.decay = float(state["decay"])
