"""``smhr hand-model``: generate the procedural MANO-format hand models and their previews."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from smhr.config import load_section
from smhr.outputs import check_output_dir, staged_files

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
    """Generates both hands and their previews, then puts every file in place together. Returns 0.

    Everything is written under temporary names first; the previews and ``summary.json`` are
    renamed into place before the model files, so a failure or an interrupt never leaves new
    models without their previews and summary.
    """
    from smhr.hand.model_file import save_model_data
    from smhr.hand.preview import write_previews
    from smhr.hand.procedural import ProceduralConfig, build_models

    cfg = load_section(ProceduralConfig, "hand_model", args.params)
    check_output_dir(args.out_dir, "--out-dir")
    check_output_dir(args.preview_dir, "--preview-dir")
    right, left = build_models(cfg)
    with staged_files() as staged:
        scratch = staged.scratch_dir(args.preview_dir)
        previews = write_previews(right, scratch) + write_previews(left, scratch, cases=("open",))
        for path in previews:
            staged.adopt(path, args.preview_dir / path.name)
        facts = json.dumps(summary(right, left), indent=2, sort_keys=True) + "\n"
        staged.path(args.preview_dir / "summary.json").write_text(facts)
        for data, name in ((right, RIGHT_NAME), (left, LEFT_NAME)):
            save_model_data(data, staged.path(args.out_dir / name))
    for data, name in ((right, RIGHT_NAME), (left, LEFT_NAME)):
        log.info("wrote %s (%d vertices, %d faces)", args.out_dir / name, data.num_verts, len(data.f))
    log.info("wrote %d previews into %s", len(previews), args.preview_dir)
    return 0
