"""Hand model: MANO-format files (real MANO without chumpy, or our procedural hand), the layer, conventions."""
