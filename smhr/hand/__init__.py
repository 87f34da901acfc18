"""Hand model: MANO-format files (real MANO without chumpy, or our procedural hand), the layer, conventions.

``HandModel`` and ``HandOutput`` are importable from here; they are loaded on first use so that
``smhr.hand.joints`` and ``smhr.hand.conventions`` stay cheap (no torch import).
"""

from __future__ import annotations

from typing import Any

__all__ = ["HandModel", "HandOutput"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from smhr.hand import layer

        return getattr(layer, name)
    raise AttributeError(f"module 'smhr.hand' has no attribute {name!r}")
