"""``smhr predict`` as a library call: inputs -> batches -> network -> files, whole or not at all.

Order of work: check ``--out`` (:mod:`smhr.predict.outdir`), list the inputs
(:mod:`smhr.predict.inputs`), load the checkpoint (which carries the resolved model config and
the hand-model files' hashes), then per batch: letterbox (:mod:`smhr.predict.letterbox`), one
forward pass, decoding through the image's K, mapping back to the original pixels
(:mod:`smhr.predict.results`), and per image an overlay PNG, a JSON and optionally meshes. The
run-level files (the multi-hand prediction file ``smhr evaluate --protocol multihand`` reads,
FreiHAND/HO3D ``pred.json`` on request, and the manifest ``run.json``) are written last, and the
staged folder replaces ``--out`` only when everything succeeded.

Layout of ``--out``::

    run.json                      manifest: checkpoint, options, images, skipped files
    multihand_pred.json           {"images": {name: [hand, ...]}} (smhr.eval.multihand format)
    images/<name>.json, .png      per-image predictions and overlay
    meshes/<name>_<k>_<side>.obj  with --meshes obj|ply (k = rank by score)
    freihand/pred.{json,zip}      with --freihand; ho3d/pred.{json,zip} with --ho3d
"""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from smhr.errors import SmhrError
from smhr.eval.submission import write_freihand, write_ho3d
from smhr.model.camera import default_intrinsics
from smhr.model.outputs import PredictedHand
from smhr.predict.inputs import Frame, InputError, Skipped, discover, iter_frames
from smhr.predict.letterbox import Letterbox, focal_intrinsics, normalise
from smhr.predict.outdir import MARKER, StagedOutput, check_out_dir
from smhr.predict.results import ImageResult, image_record, multihand_record, to_source
from smhr.viz.files import current_umask, write_bytes_atomic, write_json_atomic
from smhr.viz.mesh import MESH_FORMATS, outward_faces, write_mesh
from smhr.viz.predictions import MAX_SIDE, OverlayHand, draw_predictions

log = logging.getLogger(__name__)

MULTIHAND_FILE = "multihand_pred.json"


class CheckpointError(SmhrError, ValueError):
    """A checkpoint cannot be read or does not fit this version of the network."""


@dataclass(frozen=True)
class PredictOptions:
    """Options of one ``smhr predict`` run (the command line's flags).

    Attributes:
        checkpoint: the checkpoint file.
        out: output folder.
        hand_model_right: right hand-model file; None: the path stored in the checkpoint.
        hand_model_left: left hand-model file; None: the stored path.
        device: torch device of the network (``cpu``, ``cuda``, ``cuda:1``).
        batch_size: images per forward pass.
        score_threshold: hands scoring below it are dropped; None: the checkpoint config's.
        top_k: at most this many hands per image; None: the config's ``max_hands``.
        focal: focal length in original-image pixels (principal point at the centre); None: the
            model's default camera of the letterboxed input, mapped to the original image.
        meshes: ``"obj"`` or ``"ply"`` to write one mesh per hand, or None.
        overlay: write the overlay PNGs.
        overlay_max_side: overlays of larger images are shrunk to this longer side.
        freihand: also write FreiHAND's ``pred.json``/``pred.zip`` (top hand per image).
        ho3d: also write HO3D's (OpenGL axes, HO3D joint order).
        every: keep every N-th video frame.
        max_frames: at most this many frames per video.
        overwrite: replace a previous ``smhr predict`` output in ``out``.
        progress: show a progress bar.
    """

    checkpoint: Path
    out: Path
    hand_model_right: Path | None = None
    hand_model_left: Path | None = None
    device: str = "cpu"
    batch_size: int = 8
    score_threshold: float | None = None
    top_k: int | None = None
    focal: float | None = None
    meshes: str | None = None
    overlay: bool = True
    overlay_max_side: int = MAX_SIDE
    freihand: bool = False
    ho3d: bool = False
    every: int = 1
    max_frames: int | None = None
    overwrite: bool = False
    progress: bool = False


@dataclass
class PredictSummary:
    """What a run wrote.

    Attributes:
        out: the output folder.
        images: output names of the processed images, in order.
        skipped: files not processed, and why.
        num_hands: hands written over all images.
    """

    out: Path
    images: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    num_hands: int = 0


def check_options(opts: PredictOptions) -> None:
    """Raises SmhrError naming the first option with a bad value."""
    if opts.batch_size < 1:
        raise SmhrError(f"--batch-size {opts.batch_size}: must be >= 1")
    if opts.score_threshold is not None and not 0.0 <= opts.score_threshold <= 1.0:
        raise SmhrError(f"--score-threshold {opts.score_threshold}: must be in [0, 1]")
    if opts.top_k is not None and opts.top_k < 1:
        raise SmhrError(f"--top-k {opts.top_k}: must be >= 1")
    if opts.focal is not None and not opts.focal > 0:
        raise SmhrError(f"--focal {opts.focal}: must be > 0 (pixels of the original image)")
    if opts.meshes is not None and opts.meshes not in MESH_FORMATS:
        raise SmhrError(f"--meshes {opts.meshes}: must be one of {', '.join(MESH_FORMATS)}")
    if opts.every < 1 or (opts.max_frames is not None and opts.max_frames < 1):
        raise SmhrError("--every and --max-frames: must be >= 1")
    if opts.overlay_max_side < 16:
        raise SmhrError(f"--overlay-max-side {opts.overlay_max_side}: must be >= 16")
    if opts.device.startswith("cuda") and not torch.cuda.is_available():
        raise SmhrError(f"--device {opts.device}: no CUDA device is available here; use --device cpu")


def load_model(opts: PredictOptions) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Loads the checkpoint (and its hand models) for inference, on ``opts.device``, in eval mode.

    Raises:
        SmhrError: missing or corrupt checkpoint, another architecture, or hand-model files that
            differ from the checkpoint's (raised by :func:`smhr.model.checkpoint.load_checkpoint`
            or wrapped here with the file's name).
    """
    from smhr.model.checkpoint import load_checkpoint

    path = Path(opts.checkpoint)
    if not path.is_file():
        raise CheckpointError(f"--checkpoint {path}: file not found; give the path of a checkpoint written by smhr train")
    try:
        model, meta = load_checkpoint(path, hand_model_right=opts.hand_model_right,
                                      hand_model_left=opts.hand_model_left, map_location="cpu")
    except SmhrError:
        raise
    except Exception as err:  # noqa: BLE001 - torch.load and state_dict failures have many types
        raise CheckpointError(f"{path}: not a readable smhr checkpoint ({type(err).__name__}: {err}); "
                              f"re-copy it or point --checkpoint at a checkpoint written by smhr train") from err
    return model.to(opts.device).eval(), meta


def _batches(frames: Iterator[Frame], size: int) -> Iterator[list[Frame]]:
    batch: list[Frame] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def png_bytes(image: np.ndarray) -> bytes:
    """PNG encoding of an (H, W, 3) uint8 image (deterministic, no metadata)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


class _Predictor:
    """The model and everything derived from it once per run."""

    def __init__(self, model: torch.nn.Module, opts: PredictOptions) -> None:
        self.model, self.opts = model, opts
        cfg = model.cfg
        self.size = int(cfg.input_size)
        self.threshold = cfg.score_threshold if opts.score_threshold is None else opts.score_threshold
        self.top_k = cfg.max_hands if opts.top_k is None else opts.top_k
        self.default_K = default_intrinsics(self.size, 1, torch.float64)[0].numpy()
        self.faces = {hm.side: outward_faces(hm.v_template.cpu().numpy(), hm.faces.cpu().numpy())
                      for hm in model.hand_models}

    def camera(self, letterbox: Letterbox) -> tuple[np.ndarray, np.ndarray, str]:
        """(K of the original image, K of the input, where it came from)."""
        if self.opts.focal is not None:
            K = focal_intrinsics(self.opts.focal, letterbox.src_hw)
            return K, letterbox.K_to_input(K), "focal"
        return letterbox.K_to_source(self.default_K), self.default_K, "default"

    @torch.no_grad()
    def __call__(self, frames: Sequence[Frame]) -> list[tuple[ImageResult, list[PredictedHand]]]:
        """Predicts a batch of decoded frames. Returns per frame (result, all top-K slots by score)."""
        boxes = [Letterbox.fit(f.image.shape[:2], self.size) for f in frames]
        cams = [self.camera(lb) for lb in boxes]
        x = torch.from_numpy(np.stack([normalise(lb.warp(f.image)) for lb, f in zip(boxes, frames)]))
        K_in = torch.from_numpy(np.stack([c[1] for c in cams])).float()
        device = self.opts.device
        maps = self.model(x.to(device))
        pred = self.model.decode(maps, K=K_in.to(device), score_threshold=0.0, top_k=self.top_k).to("cpu")
        finite = torch.stack([m.flatten(1).isfinite().all(1) for m in maps]).all(0).cpu()
        for name in ("score", "box", "joints2d", "keypoints2d", "vertices", "joints3d", "global_orient", "hand_pose", "betas"):
            finite &= getattr(pred, name).flatten(1).isfinite().all(1)
        if not finite.all():
            bad = frames[int((~finite).nonzero()[0])].path
            raise CheckpointError(f"{self.opts.checkpoint}: the network gives NaN or inf on {bad}; "
                                  f"the checkpoint is broken (diverged training?): use another one")
        out = []
        for frame, lb, (K, _, origin), slots in zip(frames, boxes, cams, pred.per_image()):
            slots = [to_source(h, lb) for h in slots]
            kept = [h for h in slots if h.score >= self.threshold]
            out.append((ImageResult(frame.name, frame.path, frame.frame, lb.src_hw, lb, K, origin, kept), slots))
        return out


class _ImagesJson:
    """``{"images": {name: value, ...}}`` written entry by entry (a long video's hands never sit in
    memory at once) into a hidden temporary file, renamed to ``path`` by :meth:`finish`."""

    def __init__(self, path: Path) -> None:
        self.path, self.tmp = path, path.with_name(f".{path.name}.tmp")
        self.handle = open(self.tmp, "w")
        self.handle.write('{"images":{')
        self.count = 0

    def add(self, name: str, value: Any) -> None:
        self.handle.write(("," if self.count else "") + json.dumps(name) + ":" +
                          json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False))
        self.count += 1

    def finish(self) -> None:
        self.handle.write("}}\n")
        self.handle.close()
        os.chmod(self.tmp, 0o666 & ~current_umask())
        os.replace(self.tmp, self.path)

    def __enter__(self) -> _ImagesJson:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()
        self.tmp.unlink(missing_ok=True)


def _write_image(stage: Path, frame: Frame, result: ImageResult, predictor: _Predictor) -> None:
    opts = predictor.opts
    write_json_atomic(stage / "images" / f"{result.name}.json", image_record(result))
    if opts.overlay:
        hands = [OverlayHand(h.side, h.score, h.box, h.joints2d, h.vertices, predictor.faces[h.side]) for h in result.hands]
        picture = draw_predictions(frame.image, hands, result.K, max_side=opts.overlay_max_side)
        write_bytes_atomic(stage / "images" / f"{result.name}.png", png_bytes(picture))
    if opts.meshes:
        for k, hand in enumerate(result.hands):
            write_mesh(stage / "meshes" / f"{result.name}_{k}_{hand.side}.{opts.meshes}",
                       hand.vertices, predictor.faces[hand.side], opts.meshes)  # type: ignore[arg-type]


def predict(inputs: Sequence[str | Path], opts: PredictOptions) -> PredictSummary:
    """Runs ``smhr predict``: see the module docstring for what is written.

    Args:
        inputs: image files, folders (recursive, images by content) and video files.
        opts: the run's options.

    Returns:
        A :class:`PredictSummary`.

    Raises:
        SmhrError: a bad option, ``--out``, input, checkpoint or hand-model file (before any work),
            a video that stops decoding part-way, or no image readable at all (``--out`` is then
            left as it was).
    """
    check_options(opts)
    out = check_out_dir(opts.out, opts.overwrite)
    sources, skipped = discover(inputs)
    model, meta = load_model(opts)
    predictor = _Predictor(model, opts)
    summary = PredictSummary(out=out, skipped=list(skipped))
    top_joints, top_verts = [], []
    submissions = opts.freihand or opts.ho3d
    total = sum(s.kind == "image" for s in sources) if all(s.kind == "image" for s in sources) else None
    with StagedOutput(out) as stage, tqdm(total=total, unit="img", desc="predict", disable=not opts.progress) as bar, \
            _ImagesJson(stage.path / MULTIHAND_FILE) as multihand:
        for batch in _batches(iter_frames(sources, opts.every, opts.max_frames), opts.batch_size):
            for bad in (f for f in batch if f.image is None):
                log.warning("%s", bad.error)
                summary.skipped.append(Skipped(bad.path, bad.error or "unreadable"))
            good = [f for f in batch if f.image is not None]
            for frame, (result, slots) in zip(good, predictor(good) if good else []):
                _write_image(stage.path, frame, result, predictor)
                multihand.add(result.name, [multihand_record(h) for h in result.hands])
                if submissions:
                    top_joints.append(slots[0].joints3d)
                    top_verts.append(slots[0].vertices)
                summary.images.append(result.name)
                summary.num_hands += len(result.hands)
            bar.update(len(batch))
        if not summary.images:
            reasons = "; ".join(f"{s.path}: {s.reason}" for s in summary.skipped[:3])
            raise InputError(f"no input image could be read ({reasons}); check the INPUT files")
        multihand.finish()
        for wanted, writer, folder in ((opts.freihand, write_freihand, "freihand"), (opts.ho3d, write_ho3d, "ho3d")):
            if wanted:
                for path in writer(stage.path / folder, np.stack(top_joints), np.stack(top_verts)):
                    os.chmod(path, 0o666 & ~current_umask())  # the submission writers keep mkstemp's 0600
        write_json_atomic(stage.path / MARKER, _manifest(opts, meta, predictor, summary), indent=1)
        stage.commit()
    return summary


def _manifest(opts: PredictOptions, meta: dict[str, Any], predictor: _Predictor, summary: PredictSummary) -> dict[str, Any]:
    options = {
        "batch_size": opts.batch_size, "device": opts.device, "every": opts.every, "focal": opts.focal,
        "freihand": opts.freihand, "ho3d": opts.ho3d, "max_frames": opts.max_frames, "meshes": opts.meshes,
        "overlay": opts.overlay, "score_threshold": predictor.threshold, "top_k": predictor.top_k,
    }
    hand_models = {side: dict(entry) for side, entry in (meta.get("hand_models") or {}).items()}
    return {
        "schema": "smhr.predict.run/1",
        "checkpoint": str(opts.checkpoint),
        "hand_models": hand_models,
        "input_size": predictor.size,
        "options": options,
        "images": summary.images,
        "num_hands": summary.num_hands,
        "skipped": [{"path": str(s.path), "reason": s.reason} for s in summary.skipped],
    }
