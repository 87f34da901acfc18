"""The network on a CUDA device: forward, decoding and checkpoint loading never assume the CPU."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

from smhr.model.build import build_model
from smhr.model.checkpoint import load_checkpoint, save_checkpoint

from tests.model.conftest import TINY

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def test_predict_and_checkpoint_on_cuda(tmp_path: Path, hand_models, procedural_model_files) -> None:
    torch.manual_seed(0)
    net = build_model(TINY, *hand_models).eval()
    path = save_checkpoint(tmp_path / "m.pt", net, TINY, (procedural_model_files.right, procedural_model_files.left))
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ref = net.decode(net(x), score_threshold=0.0)
    loaded, _ = load_checkpoint(path, map_location="cuda")
    assert next(loaded.parameters()).is_cuda and loaded.hand_models[0].v_template.is_cuda
    with torch.no_grad():
        got = loaded.decode(loaded(x.cuda()), score_threshold=0.0)
    assert got.vertices.is_cuda and got.K.is_cuda
    assert_close(got.vertices.cpu(), ref.vertices, atol=1e-4, rtol=1e-4)
    assert_close(got.joints2d.cpu(), ref.joints2d, atol=1e-3, rtol=1e-4)
