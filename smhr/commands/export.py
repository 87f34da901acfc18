"""``smhr export``: write a checkpoint's network (backbone to heads) as ONNX, batch size dynamic."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds the options of ``smhr export``."""
    parser.add_argument("--checkpoint", required=True, type=Path, help="checkpoint written by smhr train")
    parser.add_argument("--onnx", required=True, type=Path, help="ONNX file to write (inputs: image; outputs: the head maps)")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset, >= 17 (default %(default)s)")
    parser.add_argument("--hand-model-right", type=Path, default=None,
                        help="right hand-model file (default: the path stored in the checkpoint)")
    parser.add_argument("--hand-model-left", type=Path, default=None,
                        help="left hand-model file (default: the path stored in the checkpoint)")


def run(args: argparse.Namespace) -> int:
    """Checks the output path, loads the checkpoint and exports."""
    from smhr.model.export import check_onnx_path, export_onnx
    from smhr.predict.run import PredictOptions, load_model

    check_onnx_path(args.onnx)
    model, _ = load_model(PredictOptions(checkpoint=args.checkpoint, out=Path("."), hand_model_right=args.hand_model_right,
                                         hand_model_left=args.hand_model_left))
    path = export_onnx(model, args.onnx, opset=args.opset)
    log.info("wrote %s (input 'image' (B, 3, %d, %d))", path, model.cfg.input_size, model.cfg.input_size)
    return 0
