"""ONNX export: onnxruntime reproduces PyTorch's head maps for batch 1 and 3; bad paths are clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from smhr.model.export import INPUT_NAME, ExportError, export_onnx, output_names

from tests.model.conftest import TINY

TOLERANCE = 1e-4
"""Max abs difference allowed between onnxruntime and PyTorch on any head output (float32)."""


@pytest.fixture(scope="module")
def exported(tmp_path_factory, procedural_model_files):
    from smhr.model.build import build_model, load_hand_models

    torch.manual_seed(0)
    model = build_model(TINY, *load_hand_models(procedural_model_files.right, procedural_model_files.left)).eval()
    # non-trivial batch-norm statistics, so that eval-mode folding is exercised
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
    path = export_onnx(model, tmp_path_factory.mktemp("onnx") / "tiny.onnx")
    assert not any(m.training for m in model.modules())  # export leaves the model in eval mode
    return model, path


@pytest.mark.parametrize("batch", [1, 3])
def test_onnxruntime_matches_pytorch(exported, batch):
    import onnx
    import onnxruntime

    model, path = exported
    onnx.checker.check_model(str(path))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == list(output_names())
    x = torch.randn(batch, 3, TINY.input_size, TINY.input_size, generator=torch.Generator().manual_seed(batch))
    with torch.no_grad():
        expected = model(x)
    got = session.run(None, {INPUT_NAME: x.numpy()})
    for name, ours, theirs in zip(output_names(), expected, got):
        assert theirs.shape == tuple(ours.shape), name
        diff = float(np.abs(theirs - ours.numpy()).max())
        assert diff <= TOLERANCE, f"{name}: max abs diff {diff}"


def test_bad_output_paths(exported, tmp_path):
    model, _ = exported
    with pytest.raises(ExportError, match="is a folder"):
        export_onnx(model, tmp_path)
    with pytest.raises(ExportError, match="does not exist"):
        export_onnx(model, tmp_path / "missing" / "m.onnx")
    assert list(tmp_path.iterdir()) == []
