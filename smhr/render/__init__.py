"""Differentiable renderer in plain PyTorch: many hands per image, soft and sharp modes.

``render_hands`` glues a tiled rasteriser (:mod:`.rasterize`, no gradients, memory-bounded),
differentiable fragments (:mod:`.fragments`, hand-written backward) and shaders
(:mod:`.shaders`, per-vertex SH lighting from :mod:`.sh`). :mod:`.dense` is the all-pairs
reference it is tested and benchmarked against; :mod:`.pytorch3d_backend` renders the same
interface through pytorch3d when asked to (``RenderSettings.backend``). See ``docs/render.md``.
"""

from smhr.render.renderer import render_hands
from smhr.render.settings import RenderOutput, RenderSettings
from smhr.render.sh import sh_ambient, sh_basis, sh_shading, vertex_normals

__all__ = ["RenderOutput", "RenderSettings", "render_hands", "sh_ambient", "sh_basis", "sh_shading", "vertex_normals"]
