"""ONNX export of the network's forward pass (backbone -> neck -> heads), batch size dynamic.

What is exported is :meth:`SMHRNet.forward`: one input ``image`` (B, 3, S, S), ImageNet-normalised
and letterboxed as in :mod:`smhr.predict.letterbox`, and the raw maps of
:class:`~smhr.model.heads.HeadMaps` as outputs with the same names. Decoding (NMS, top-K, the
hand models) stays in Python: it needs the hand-model files, which are not redistributable.
The TorchScript-based exporter (``dynamo=False``) is used: it handles this plain conv net and
needs no extra packages. Written atomically: a failed export leaves no file behind.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import torch

from smhr.errors import SmhrError
from smhr.viz.files import current_umask

ONNX_OPSET = 17
INPUT_NAME = "image"


class ExportError(SmhrError, ValueError):
    """The ONNX output path cannot be written, or the export failed."""


def output_names() -> tuple[str, ...]:
    """Names of the exported outputs: the fields of the model's ``HeadMaps``, in order."""
    from smhr.model.heads import HeadMaps

    return tuple(HeadMaps._fields)


def check_onnx_path(path: str | Path) -> Path:
    """Refuses an unusable ONNX output path before any work.

    Raises:
        ExportError: ``path`` is a folder, its folder does not exist, or is not writable.
    """
    path = Path(path)
    if path.is_dir():
        raise ExportError(f"--onnx {path}: is a folder; give a file path such as {path / 'model.onnx'}")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise ExportError(f"--onnx {path}: folder {parent} does not exist; create it or choose another path")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ExportError(f"--onnx {path}: not writable; choose a path you can write to")
    return path


class _Forward(torch.nn.Module):
    """The network's forward with a plain tuple output (what the exporter traces)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.model(image))


def export_onnx(model: torch.nn.Module, path: str | Path, opset: int = ONNX_OPSET, batch: int = 2) -> Path:
    """Exports ``model.forward`` to ONNX with a dynamic batch dimension.

    Args:
        model: an :class:`~smhr.model.network.SMHRNet` (put in eval mode here; on any device,
            exported from the CPU). A two-stage baseline is refused.
        path: the ``.onnx`` file to write.
        opset: ONNX opset (>= 17).
        batch: batch size of the example input used for tracing (any size works afterwards).

    Returns:
        ``path``.

    Raises:
        ExportError: bad path, a two-stage model, or the exporter failed (its message is included).
    """
    if opset < 17:
        raise ExportError(f"opset {opset}: must be >= 17")
    architecture = getattr(model.cfg, "architecture", "single_stage")
    if architecture != "single_stage":
        raise ExportError(f"--onnx {path}: the checkpoint is a {architecture} baseline; ONNX export covers the single-stage "
                          f"network only (the baseline cuts a data-dependent number of crops between its two networks); "
                          f"export a single_stage checkpoint")
    path = check_onnx_path(path)
    model = model.to("cpu").eval()
    size = int(model.cfg.input_size)
    example = torch.zeros(batch, 3, size, size)
    names = output_names()
    dynamic = {name: {0: "batch"} for name in (INPUT_NAME, *names)}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.absolute().parent)
    os.close(fd)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter announces its successor
            torch.onnx.export(_Forward(model).eval(), (example,), tmp, input_names=[INPUT_NAME], output_names=list(names),
                              dynamic_axes=dynamic, opset_version=opset, dynamo=False)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except Exception as err:
        Path(tmp).unlink(missing_ok=True)
        raise ExportError(f"--onnx {path}: export failed ({type(err).__name__}: {err})") from err
    return path
