"""Fixtures of tests/benchmark: a tiny synthetic FreiHAND-layout set of the procedural hand, a tiny
composed set made from it by the composer, a random-weight tiny checkpoint and a params file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from smhr.data.datasets.sample import ManoParams
from smhr.geometry.camera import project

SIZE = 96
TINY_CONFIG = dict(width=0.25, input_size=64, neck_channels=16, head_channels=16, max_hands=4)
"""A network small enough for end-to-end runs in seconds (random weights)."""


def write_procedural_freihand(root: Path, right_file: Path, n_train: int = 4, n_eval: int = 5, seed: int = 0) -> Path:
    """A FreiHAND-layout set whose labels are procedural-hand meshes (756 vertices), with masks and MANO."""
    from smhr.data.datasets.freihand import FreiHANDWriter
    from smhr.hand.layer import HandModel

    model = HandModel.from_file(right_file, side="right")
    rng = np.random.default_rng(seed)
    for split, n in (("training", n_train), ("evaluation", n_eval)):
        with FreiHANDWriter(root, split) as writer:
            for _ in range(n):
                pose = (rng.normal(size=48) * 0.15).astype(np.float32)
                betas = (rng.normal(size=10) * 0.5).astype(np.float32)
                out = model(global_orient=torch.from_numpy(pose[None, :3]), hand_pose=torch.from_numpy(pose[None, 3:]),
                            betas=torch.from_numpy(betas[None]))
                shift = np.array([rng.uniform(-0.02, 0.02), rng.uniform(-0.02, 0.02), 0.7]) - out.joints[0, 9].numpy()
                xyz, verts = out.joints[0].numpy() + shift, out.vertices[0].numpy() + shift
                K = np.array([[1.6 * SIZE, 0, (SIZE - 1) / 2], [0, 1.6 * SIZE, (SIZE - 1) / 2], [0, 0, 1]])
                uv = project(verts, K)
                mask = np.zeros((SIZE, SIZE), bool)
                inside = np.all((uv >= 0) & (uv <= SIZE - 1), 1)
                mask[np.round(uv[inside, 1]).astype(int), np.round(uv[inside, 0]).astype(int)] = True
                image = rng.integers(0, 255, size=(SIZE, SIZE, 3), dtype=np.uint8)
                image[mask] = (200, 150, 120)
                writer.add(image, K, xyz, mask=mask, mano=ManoParams(pose, betas, np.zeros(3, np.float32)), verts=verts)
    return root


@pytest.fixture(scope="session")
def bench_data(tmp_path_factory, procedural_model_files) -> dict[str, Path]:
    """``{"synth": FreiHAND-layout root, "composed": composed root}`` (session-wide, read only)."""
    from smhr.data.compose.build import ComposeConfig, write_composed
    from smhr.data.datasets.freihand import FreiHAND
    from smhr.data.synth.backgrounds import ProceduralBackgrounds

    base = tmp_path_factory.mktemp("bench_data")
    synth = write_procedural_freihand(base / "synth", procedural_model_files.right)
    cfg = ComposeConfig(image_size=96, num_benchmark=4, num_train=1, hands_per_image=(0.5, 0.5), scale_range=(0.3, 0.5))
    sources = {"benchmark": FreiHAND(synth, "evaluation"), "train": FreiHAND(synth, "training")}
    composed = write_composed(sources, cfg, ProceduralBackgrounds(), base / "composed", progress=False)
    return {"synth": synth, "composed": composed}


def save_tiny_checkpoint(path: Path, procedural_model_files, **changes) -> Path:
    """A random-weight tiny network (``TINY_CONFIG`` + ``changes``) saved as a checkpoint."""
    from smhr.model.build import build_model, load_hand_models
    from smhr.model.checkpoint import save_checkpoint
    from smhr.model.config import ModelConfig

    torch.manual_seed(0)
    cfg = ModelConfig(**{**TINY_CONFIG, **changes})
    files = (procedural_model_files.right, procedural_model_files.left)
    return save_checkpoint(path, build_model(cfg, *load_hand_models(*files)).eval(), cfg, files)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, procedural_model_files) -> Path:
    """See :func:`save_tiny_checkpoint` (the config's score threshold)."""
    return save_tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt", procedural_model_files)


def write_params(path: Path, data: dict[str, Path], model_files, **roots: str | None) -> Path:
    """A params file with the sections ``smhr benchmark`` reads; ``roots`` override benchmark roots."""
    synth = roots.get("synth", str(data["synth"]))
    composed = roots.get("composed", str(data["composed"]))
    as_yaml = {None: "null"}
    path.write_text(
        "base:\n"
        f"  hand_model_right: {model_files.right}\n"
        f"  hand_model_left: {model_files.left}\n"
        "evaluate: {mode: official, match: iou, match_threshold: 0.5, min_score: 0.0}\n"
        "train:\n"
        f"  data: {{single_root: {data['synth']}}}\n"
        "benchmark:\n"
        "  batch_size: 3\n"
        f"  synth: {{root: {as_yaml.get(synth, synth)}}}\n"
        f"  composed: {{root: {as_yaml.get(composed, composed)}}}\n"
        "  freihand: {root: null}\n"
        "  ho3d: {root: null, version: v2, gt: null}\n"
        "  interhand: {root: null, split: test}\n"
        "  rhd: {root: null}\n"
    )
    return path
