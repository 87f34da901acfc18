"""Preview pictures of a hand model: named gestures and shape extremes, palm and side views.

Matplotlib's 3-D mesh plot (Agg backend) with Lambert-shaded faces; a stand-in until the renderer
exists. One PNG per gesture, two panels each.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mpl_toolkits.mplot3d.art3d import Poly3DCollection  # noqa: E402

from smhr.hand.layer import HandModel  # noqa: E402
from smhr.hand.model_file import ModelData  # noqa: E402
from smhr.hand.prior import named_pose  # noqa: E402
from smhr.outputs import atomic_write  # noqa: E402

PREVIEW_GESTURES = ("open", "fist", "pointing", "thumbs_up")
SHAPE_EXTREMES = {"shape_small": -2.0, "shape_large": 2.0}
"""Shape previews: every beta set to this value."""
VIEWS = {"palm": (0.0, -90.0), "side": (90.0, -90.0)}
"""(elevation, azimuth) in degrees of matplotlib's camera: palm from -y, side from +z (thumb side)."""


def _shade(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    tri = verts[faces]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
    light = np.array([0.3, -0.8, 0.5])
    light /= np.linalg.norm(light)
    lam = np.abs(n @ light)  # two-sided: a view from either side is lit
    base = np.array([0.93, 0.76, 0.65])
    return np.clip((0.3 + 0.7 * lam)[:, None] * base, 0.0, 1.0)


def draw(ax: "plt.Axes", verts: np.ndarray, faces: np.ndarray, view: tuple[float, float], title: str) -> None:
    """Draws one shaded mesh into a 3-D axis.

    Args:
        ax: a ``projection="3d"`` axis.
        verts: (V, 3) metres.
        faces: (F, 3).
        view: (elevation, azimuth) degrees.
        title: panel title.
    """
    coll = Poly3DCollection(verts[faces], facecolors=_shade(verts, faces), edgecolors=(0, 0, 0, 0.08), linewidths=0.2)
    ax.add_collection3d(coll)
    centre = 0.5 * (verts.min(0) + verts.max(0))
    r = 0.5 * (verts.max(0) - verts.min(0)).max()
    for setter, c in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim), centre):
        setter(c - r, c + r)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=view[0], azim=view[1])
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)


def preview_cases(data: ModelData) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Named (hand_pose (45,), betas (10,)) cases for the previews (hands_mean convention)."""
    cases = {}
    for name in PREVIEW_GESTURES:
        cases[name] = (named_pose(data, name) - data.hands_mean, np.zeros(10))
    flat = named_pose(data, "open") - data.hands_mean
    for name, value in SHAPE_EXTREMES.items():
        cases[name] = (flat, np.full(10, value))
    return cases


def write_previews(data: ModelData, out_dir: str | Path, cases: tuple[str, ...] | None = None) -> list[Path]:
    """Writes ``<side>_<case>.png`` (palm and side views) for each preview case, atomically.

    Args:
        data: the model to show.
        out_dir: destination folder (created).
        cases: names from :func:`preview_cases` (default: all).

    Returns:
        The written paths, sorted.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = HandModel(data).double()
    written = []
    for name, (pose, betas) in preview_cases(data).items():
        if cases is not None and name not in cases:
            continue
        with torch.no_grad():
            out = model(hand_pose=torch.tensor(pose[None]), betas=torch.tensor(betas[None]))
        verts = out.vertices[0].numpy()
        fig = plt.figure(figsize=(6.4, 3.4), dpi=100)
        for k, (view_name, view) in enumerate(VIEWS.items()):
            ax = fig.add_subplot(1, 2, k + 1, projection="3d")
            draw(ax, verts, data.f, view, f"{name} ({data.side}, {view_name})")
        fig.subplots_adjust(left=0, right=1, bottom=0, top=0.92, wspace=0)
        path = out_dir / f"{data.side}_{name}.png"
        try:
            atomic_write(path, lambda fh: fig.savefig(fh, format="png", metadata={"Software": None}))
        finally:
            plt.close(fig)
        written.append(path)
    return sorted(written)
