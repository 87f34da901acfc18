"""``smhr predict``: run a trained checkpoint on your own images, folders or a video.

Writes per image an overlay PNG and a JSON (optionally meshes), and per run the multi-hand
prediction file ``smhr evaluate --protocol multihand`` reads (FreiHAND/HO3D ``pred.json`` on
request). The checkpoint carries the model config and the hand-model hashes: no params file.
See :mod:`smhr.predict.run` for the output layout and ``docs/model.md`` ("Predict").
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds the options of ``smhr predict``."""
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT",
                        help="image files, folders (searched recursively, images recognised by content) or video files")
    parser.add_argument("--checkpoint", required=True, type=Path, help="checkpoint written by smhr train")
    parser.add_argument("--out", required=True, type=Path,
                        help="output folder (new or empty; a previous predict output needs --overwrite)")
    parser.add_argument("--overwrite", action="store_true", help="replace a previous smhr predict output in --out")
    parser.add_argument("--device", default="cpu", help="torch device: cpu (default), cuda, cuda:1, ...")
    parser.add_argument("--batch-size", type=int, default=8, help="images per forward pass (default %(default)s)")
    parser.add_argument("--score-threshold", type=float, default=None,
                        help="drop hands scoring below this (default: the checkpoint's model.score_threshold)")
    parser.add_argument("--top-k", type=int, default=None,
                        help="at most this many hands per image (default: the checkpoint's model.max_hands)")
    parser.add_argument("--focal", type=float, default=None,
                        help="focal length in pixels of the original image (principal point at its centre); "
                        "default: the model's default camera of its input, mapped to the image")
    parser.add_argument("--meshes", choices=("obj", "ply"), default=None, help="also write one mesh file per hand")
    parser.add_argument("--no-overlay", action="store_true", help="skip the overlay PNGs (faster)")
    parser.add_argument("--overlay-max-side", type=int, default=1024,
                        help="overlays of larger images are shrunk to this longer side (default %(default)s)")
    parser.add_argument("--freihand", action="store_true",
                        help="also write FreiHAND's pred.json/pred.zip (top hand per image, input order)")
    parser.add_argument("--ho3d", action="store_true",
                        help="also write HO3D's pred.json/pred.zip (OpenGL axes, HO3D joint order)")
    parser.add_argument("--every", type=int, default=1, help="videos: keep every N-th frame (default %(default)s)")
    parser.add_argument("--max-frames", type=int, default=None, help="videos: at most this many frames each")
    parser.add_argument("--hand-model-right", type=Path, default=None,
                        help="right hand-model file (default: the path stored in the checkpoint; its hash must match)")
    parser.add_argument("--hand-model-left", type=Path, default=None,
                        help="left hand-model file (default: the path stored in the checkpoint; its hash must match)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    """Builds the options and runs :func:`smhr.predict.run.predict`."""
    from smhr.predict.run import PredictOptions, predict

    opts = PredictOptions(
        checkpoint=args.checkpoint, out=args.out, hand_model_right=args.hand_model_right,
        hand_model_left=args.hand_model_left, device=args.device, batch_size=args.batch_size,
        score_threshold=args.score_threshold, top_k=args.top_k, focal=args.focal, meshes=args.meshes,
        overlay=not args.no_overlay, overlay_max_side=args.overlay_max_side, freihand=args.freihand,
        ho3d=args.ho3d, every=args.every, max_frames=args.max_frames, overwrite=args.overwrite,
        progress=not args.no_progress,
    )
    summary = predict(args.inputs, opts)
    if summary.skipped:
        log.warning("skipped %d files (reasons in %s)", len(summary.skipped), summary.out / "run.json")
    log.info("wrote %d images (%d hands) to %s", len(summary.images), summary.num_hands, summary.out)
    return 0
