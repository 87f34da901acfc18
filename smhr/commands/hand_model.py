"""``smhr hand-model``: generate the procedural MANO-format hand models and their previews."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from smhr.config import load_section

log = logging.getLogger(__name__)

RIGHT_NAME = "procedural_right.pkl"
LEFT_NAME = "procedural_left.pkl"


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds the options of ``smhr hand-model``."""
    parser.add_argument("--params", type=Path, default=Path("params.yaml"),
                        help="params file; reads its 'hand_model' section (default: params.yaml)")
    parser.add_argument("--out-dir", type=Path, default=Path("data/hand_models"),
                        help=f"where {RIGHT_NAME} and {LEFT_NAME} are written (default: data/hand_models)")
    parser.add_argument("--preview-dir", type=Path, default=Path("reports/hand_model"),
                        help="where the preview PNGs and summary.json go (default: reports/hand_model)")


def summary(right, left) -> dict[str, float | int | str]:
    """Facts about the generated right/left models (sorted keys, units in names)."""
    joints = right.rest_joints()
    tips = right.v_template[right.fingertip_vertex_ids]
    extent = right.v_template.max(0) - right.v_template.min(0)
    return {
        "num_faces": int(len(right.f)),
        "num_verts": int(right.num_verts),
        "hand_length_mm": float(np.round(1000 * np.linalg.norm(tips[2] - joints[0]), 3)),
        "extent_x_mm": float(np.round(1000 * extent[0], 3)),
        "extent_z_mm": float(np.round(1000 * extent[2], 3)),
        "left_is_mirror": bool(np.allclose(left.v_template, right.v_template * [-1, 1, 1])),
        "pose_pca_std_first_rad": float(np.round(right.hands_components_std[0], 6)),
    }


def run(args: argparse.Namespace) -> int:
    """Generates both hands, writes them atomically, then the previews. Returns 0."""
    from smhr.hand.model_file import save_model_data
    from smhr.hand.preview import write_previews
    from smhr.hand.procedural import ProceduralConfig, build_models

    cfg = load_section(ProceduralConfig, "hand_model", args.params)
    right, left = build_models(cfg)
    for data, name in ((right, RIGHT_NAME), (left, LEFT_NAME)):
        path = save_model_data(data, args.out_dir / name)
        log.info("wrote %s (%d vertices, %d faces)", path, data.num_verts, len(data.f))
    paths = write_previews(right, args.preview_dir) + write_previews(left, args.preview_dir, cases=("open",))
    facts = json.dumps(summary(right, left), indent=2, sort_keys=True) + "\n"
    tmp = args.preview_dir / "summary.json.tmp"
    tmp.write_text(facts)
    tmp.replace(args.preview_dir / "summary.json")
    log.info("wrote %d previews into %s", len(paths), args.preview_dir)
    return 0
