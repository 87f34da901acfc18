"""Argparse ``type=`` functions that range-check option values.

A value out of range raises ``argparse.ArgumentTypeError``, so argparse prints
``smhr CMD: error: argument --opt: ...`` and exits with status 2 before any work starts.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def int_at_least(low: int) -> Callable[[str], int]:
    """An option type accepting integers ``>= low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is out of range; give an integer >= {low}")
        return value

    return parse


def float_at_least(low: float) -> Callable[[str], float]:
    """An option type accepting finite numbers ``>= low``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or value < low:
            raise argparse.ArgumentTypeError(f"{text} is out of range; give a finite number >= {low:g}")
        return value

    return parse


def finite_float(text: str) -> float:
    """An option type accepting any finite number (not nan or inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not finite; give a finite number")
    return value


count = int_at_least(0)
"""Non-negative integers (sample counts that may be 0)."""

positive = int_at_least(1)
"""Integers >= 1."""

seed = int_at_least(0)
"""Random seeds (NumPy's generators refuse negative seeds)."""
