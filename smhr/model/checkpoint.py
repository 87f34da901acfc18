"""Self-describing checkpoints: weights, resolved config, hand-model files and their hashes.

Layout of the file (``torch.save`` of a dict, read with ``weights_only=True``)::

    {"format": "smhr-checkpoint", "version": 1,
     "model": {"state_dict": ..., "config": {...ModelConfig...},
               "hand_models": {"right": {"path": str, "sha256": str}, "left": {...}}},
     "extra": {...}}                      # the trainer's part (optimiser, step, ...)

The hand models' arrays are *not* stored (the real MANO may not be redistributed): the
checkpoint names the files and their sha256, and loading refuses a file whose hash differs.
:func:`load_checkpoint` rebuilds the network from the stored config alone (no params file).
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import torch

from smhr.config import from_dict, to_dict
from smhr.errors import ConfigError, ModelFileError
from smhr.model.backbone import state_dict_mismatch
from smhr.model.build import build_model, load_hand_models
from smhr.model.config import ModelConfig
from smhr.model.network import SMHRNet
from smhr.model.two_stage import TwoStageNet
from smhr.outputs import atomic_write

FORMAT = "smhr-checkpoint"
VERSION = 1
"""Version of the layout above; bumped when it changes incompatibly."""

_HAND_PREFIX = "hand_models."


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_checkpoint(path: str | Path, model: SMHRNet | TwoStageNet, cfg: ModelConfig,
                    hand_model_paths: tuple[str | Path, str | Path], extra: dict | None = None) -> Path:
    """Writes a checkpoint atomically.

    Args:
        path: the output file (``.pt``).
        model: the network, single-stage or two-stage (its hand-model buffers are not stored).
        cfg: its resolved config (``architecture`` says which network it is).
        hand_model_paths: ``(right, left)`` hand-model files the model was built with.
        extra: more entries for the trainer (optimiser state, step, ...); must be loadable with
            ``torch.load(weights_only=True)`` (tensors, numbers, strings, lists, dicts).

    Returns:
        ``path``.
    """
    path = Path(path)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items() if not k.startswith(_HAND_PREFIX)}
    hands = {side: {"path": str(p), "sha256": file_sha256(p)}
             for side, p in zip(("right", "left"), hand_model_paths)}
    payload = {"format": FORMAT, "version": VERSION,
               "model": {"state_dict": state, "config": to_dict(cfg), "hand_models": hands},
               "extra": dict(extra or {})}
    atomic_write(path, lambda fh: torch.save(payload, fh))
    return path


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Reads and checks a checkpoint's layout (no model is built).

    Raises:
        ModelFileError: missing, corrupt or truncated file, not an smhr checkpoint, a newer
            version, or a missing entry; the message names the file.
    """
    path = Path(path)
    fix = "re-create it (re-run the training stage) or point at another checkpoint"
    if not path.is_file():
        raise ModelFileError(f"{path}: checkpoint not found; {fix}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # corrupt, truncated, or holding objects weights_only refuses
        raise ModelFileError(f"{path}: not a readable checkpoint, corrupt or truncated "
                             f"({type(err).__name__}); {fix}") from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not an smhr checkpoint (no format marker); {fix}")
    if not isinstance(payload.get("version"), int) or payload["version"] > VERSION:
        raise ModelFileError(f"{path}: checkpoint version {payload.get('version')!r} is newer than this "
                             f"smhr reads ({VERSION}); update smhr or {fix}")
    model = payload.get("model")
    for key in ("state_dict", "config", "hand_models"):
        if not isinstance(model, dict) or key not in model:
            raise ModelFileError(f"{path}: checkpoint lacks model.{key}; {fix}")
    for side in ("right", "left"):
        entry = model["hand_models"].get(side)
        if not isinstance(entry, dict) or not {"path", "sha256"} <= set(entry):
            raise ModelFileError(f"{path}: checkpoint lacks model.hand_models.{side}.path/sha256; {fix}")
    return payload


def load_checkpoint(path: str | Path, hand_model_right: str | Path | None = None,
                    hand_model_left: str | Path | None = None,
                    map_location: str | torch.device = "cpu",
                    architecture: str | None = None) -> tuple[SMHRNet | TwoStageNet, dict[str, Any]]:
    """Rebuilds the network of a checkpoint from its stored config and loads its weights.

    Args:
        path: the checkpoint.
        hand_model_right, hand_model_left: hand-model files to use instead of the stored paths
            (e.g. on another machine); their sha256 must equal the stored ones.
        map_location: where tensors are loaded.
        architecture: ``single_stage`` or ``two_stage`` to refuse a checkpoint of the other
            network; None accepts either (the stored config says which is built).

    Returns:
        ``(model, meta)``: the model in eval mode; ``meta`` holds ``config`` (the
        :class:`ModelConfig`), ``hand_models`` (``{side: {"path", "sha256"}}`` as used),
        ``extra`` and ``version``.

    Raises:
        ModelFileError: see :func:`read_checkpoint`; a hand-model file missing or with another
            hash (naming the checkpoint and the file); weights of another architecture; a
            checkpoint of the other network than ``architecture``.
    """
    path = Path(path)
    payload = read_checkpoint(path, map_location)
    stored = payload["model"]
    config = stored["config"]
    if isinstance(config, dict):  # written before camera_ref_size existed: the camera's scale was the input size
        config = {"camera_ref_size": None, **config}
    try:
        cfg = from_dict(ModelConfig, config, f"{path}:model.config")
    except ConfigError as err:
        raise ModelFileError(f"{err}; the checkpoint was written by another smhr version or architecture") from err
    if architecture is not None and cfg.architecture != architecture:
        raise ModelFileError(f"{path}: a {cfg.architecture} checkpoint, but a {architecture} network is needed here; "
                             f"point at a checkpoint trained with model.architecture {architecture}")
    used = {}
    for side, override in (("right", hand_model_right), ("left", hand_model_left)):
        entry = stored["hand_models"][side]
        file = Path(override) if override is not None else Path(entry["path"])
        if not file.is_file():
            raise ModelFileError(f"{path}: its {side} hand model {file} is not found; pass the file it was "
                                 f"trained with (hand_model_{side}=...)")
        digest = file_sha256(file)
        if digest != entry["sha256"]:
            raise ModelFileError(f"{path} was trained with the {side} hand model {entry['path']} "
                                 f"(sha256 {entry['sha256'][:12]}...), but {file} has sha256 {digest[:12]}...; "
                                 f"pass the hand-model file the checkpoint was trained with")
        used[side] = {"path": str(file), "sha256": digest}
    right, left = load_hand_models(used["right"]["path"], used["left"]["path"])
    model = build_model(dataclasses.replace(cfg, pretrained=None), right, left)
    own = {k: v for k, v in model.state_dict().items() if not k.startswith(_HAND_PREFIX)}
    state = stored["state_dict"]
    detail = state_dict_mismatch(own, state)
    if detail:
        raise ModelFileError(f"{path}: weights do not fit the architecture of its config ({detail}); "
                             f"the file is damaged or from another smhr version; re-create it")
    model.load_state_dict(state, strict=False)
    model.to(map_location).eval()
    meta = {"config": cfg, "hand_models": used, "extra": payload["extra"], "version": payload["version"]}
    return model, meta
