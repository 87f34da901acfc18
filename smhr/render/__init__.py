"""Differentiable renderer in plain PyTorch: many hands per image, soft and sharp modes.

``render_hands`` glues a tiled rasteriser (:mod:`.rasterize`, no gradients, memory-bounded),
differentiable fragments (:mod:`.fragments`) and shaders (:mod:`.shaders`, SH lighting in
:mod:`.sh`). See ``docs/render.md``.
"""

from smhr.render.renderer import render_hands
from smhr.render.settings import RenderOutput, RenderSettings
from smhr.render.sh import sh_ambient, sh_basis, sh_shading, vertex_normals

__all__ = ["RenderOutput", "RenderSettings", "render_hands", "sh_ambient", "sh_basis", "sh_shading", "vertex_normals"]
