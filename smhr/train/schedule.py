"""Learning-rate schedules as pure functions of the step: linear warm-up, then cosine or step decay."""

from __future__ import annotations

import math
from collections.abc import Sequence


def lr_factor(step: int, total_steps: int, warmup_steps: int = 0, kind: str = "cosine", min_factor: float = 0.0,
              milestones: Sequence[float] = (), gamma: float = 0.1) -> float:
    """Multiplier of the base learning rate at ``step`` (0-based).

    Args:
        step: the optimiser step about to be taken.
        total_steps: steps of the whole stage.
        warmup_steps: linear ramp from ``1 / warmup_steps`` to 1 over these first steps.
        kind: ``"cosine"`` (half cosine from 1 to ``min_factor`` after warm-up), ``"step"``
            (times ``gamma`` at each milestone) or ``"constant"``.
        min_factor: the cosine's floor.
        milestones: for ``"step"``, fractions of ``total_steps`` in (0, 1] where the rate drops.
        gamma: the drop of each milestone.

    Returns:
        The factor, in (0, 1].
    """
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if kind == "constant":
        return 1.0
    if kind == "step":
        return gamma ** sum(step >= m * total_steps for m in milestones)
    if kind == "cosine":
        span = max(1, total_steps - warmup_steps)
        t = min(1.0, (step - warmup_steps) / span)
        return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + math.cos(math.pi * t))
    raise ValueError(f"lr_factor: unknown schedule {kind!r}; use cosine, step or constant")
