"""The synthetic single-hand dataset, rendered from a MANO-format hand model into FreiHAND's layout.

Every sample is drawn from its own random generator, seeded by ``(seed, split, index)``, so a
sample does not depend on the batch size or on the other samples. One sample:

* pose from the model's pose prior (:func:`smhr.hand.prior.sample_hand_pose`, within joint
  limits), shape ``betas ~ N(0, betas_std)`` clipped to ``+-betas_clip``;
* a global rotation (palm/back views, tilt, any wrist roll) and a FreiHAND-like camera, placed so
  the hand fills part of the image or crosses a border (:mod:`smhr.data.synth.cameras`);
* per-vertex skin albedo and SH lighting (:mod:`smhr.data.synth.appearance`);
* a background (:mod:`smhr.data.synth.backgrounds`).

Batches of hands are rendered with the renderer's sharp mode (supersampled, so ``alpha`` is
antialiased), composited over the background with ``alpha``, and written by
:class:`~smhr.data.datasets.freihand.FreiHANDWriter`: rgb, mask (pixel centres covered by the hand),
``K``, ``xyz`` (metres, camera frame, OpenPose order), ``verts``, ``mano`` (FreiHAND's convention)
and ``scale``. :func:`synthesize` writes into a hidden temporary folder and renames it to the
output only when both splits are complete.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from tqdm import tqdm

from smhr.config import save_resolved
from smhr.data.synth.appearance import AppearanceRanges, sample_sh_lighting, sample_skin_albedo, surface_regions
from smhr.data.synth.backgrounds import BackgroundSource, make_background_source
from smhr.data.synth.cameras import CameraRanges, hand_frame, place_hand, sample_global_rotation, sample_intrinsics
from smhr.data.datasets.freihand import FreiHANDWriter
from smhr.data.datasets.sample import ManoParams
from smhr.errors import ConfigError, ModelFileError
from smhr.geometry.rotations import matrix_to_axis_angle_np
from smhr.hand import HandModel
from smhr.hand.prior import sample_hand_pose
from smhr.outputs import replace_dir
from smhr.render import RenderSettings, render_hands

log = logging.getLogger(__name__)

SPLIT_CODES = {"training": 0, "evaluation": 1}
"""Second element of every sample's seed, so the two splits never share a random stream."""

RESOLVED_CONFIG = "synth_config.yaml"
"""File beside the dataset holding the configuration that produced it."""


@dataclass(frozen=True)
class SynthConfig:
    """The ``synth`` section of ``params.yaml``.

    Attributes:
        out: dataset root to write (FreiHAND layout).
        hand_model: MANO-format model file; None means ``base.hand_model_right``.
        num_training: unique training samples (one version, ``gs``).
        num_evaluation: evaluation samples.
        image_size: image side in pixels (FreiHAND: 224).
        seed: base seed; sample ``i`` of a split uses ``(seed, split code, i)``.
        batch_size: hands rendered per renderer call (does not change the output).
        supersample: sharp-mode samples per pixel side (odd; antialiasing of the edges).
        betas_std: std of the shape coefficients.
        betas_clip: shape coefficients are clipped to ``[-betas_clip, betas_clip]``.
        background_folder: a folder of background images; None means procedural backgrounds.
        skin_distractor_prob: probability of a skin-coloured shape in a procedural background.
        camera: viewpoint, intrinsics and placement ranges.
        appearance: skin albedo and lighting ranges.
    """

    out: Path = Path("data/synth/freihand")
    hand_model: Path | None = None
    num_training: int = 1000
    num_evaluation: int = 100
    image_size: int = 224
    seed: int = 0
    batch_size: int = 16
    supersample: int = 3
    betas_std: float = 1.0
    betas_clip: float = 2.5
    background_folder: Path | None = None
    skin_distractor_prob: float = 0.2
    camera: CameraRanges = field(default_factory=CameraRanges)
    appearance: AppearanceRanges = field(default_factory=AppearanceRanges)

    def validate(self, where: str = "synth") -> None:
        """Raises ConfigError naming ``where`` and the key for an out-of-range value."""
        problems = [
            ("num_training", self.num_training < 0, "must be >= 0"),
            ("num_evaluation", self.num_evaluation < 0, "must be >= 0"),
            ("num_evaluation", self.num_training == 0 and self.num_evaluation == 0,
             "and num_training are both 0: nothing to write; set at least one > 0"),
            ("image_size", self.image_size < 8, "must be >= 8"),
            ("seed", self.seed < 0, "must be >= 0"),
            ("batch_size", self.batch_size < 1, "must be >= 1"),
            ("supersample", self.supersample < 1 or self.supersample % 2 == 0, "must be an odd integer >= 1"),
            ("betas_std", not self.betas_std >= 0, "must be >= 0"),
            ("betas_clip", not self.betas_clip > 0, "must be > 0"),
            ("skin_distractor_prob", not 0 <= self.skin_distractor_prob <= 1, "must be in [0, 1]"),
        ]
        for key, bad, rule in problems:
            if bad:
                raise ConfigError(f"{where}.{key} = {getattr(self, key)!r} {rule}")
        for key in ("palm_lighten", "nail_strength"):
            lo, hi = getattr(self.appearance, key)
            if not 0.0 <= lo <= hi <= 1.0:
                raise ConfigError(f"{where}.appearance.{key} = {[lo, hi]!r} must be [low, high] with 0 <= low <= high <= 1")


class HandScene(NamedTuple):
    """Everything drawn for one sample, in the model's forward convention.

    Attributes:
        rotation: (3, 3) global rotation (model -> camera frame, about the root joint).
        hand_pose: (45,) finger pose, axis-angle, forward's convention.
        betas: (10,) shape.
        K: (3, 3) intrinsics.
        albedo: (V, 3) per-vertex colour in [0, 1].
        sh: (9, 3) SH lighting coefficients.
        background: (S, S, 3) uint8.
        rng: the sample's generator, continued by :func:`place_hand`.
    """

    rotation: np.ndarray
    hand_pose: np.ndarray
    betas: np.ndarray
    K: np.ndarray
    albedo: np.ndarray
    sh: np.ndarray
    background: np.ndarray
    rng: np.random.Generator


class RenderedSample(NamedTuple):
    """One finished sample.

    Attributes:
        image: (S, S, 3) uint8 composite.
        mask: (S, S) bool, pixel centres covered by the hand.
        alpha: (S, S) float32 antialiased coverage.
        K: (3, 3) intrinsics.
        joints: (21, 3) metres, camera frame, OpenPose order.
        verts: (V, 3) metres, camera frame.
        mano: pose (48, FreiHAND's convention), betas (10), trans (3, metres).
    """

    image: np.ndarray
    mask: np.ndarray
    alpha: np.ndarray
    K: np.ndarray
    joints: np.ndarray
    verts: np.ndarray
    mano: ManoParams


class SynthResult(NamedTuple):
    """What :func:`synthesize` did: sample counts, wall time and throughput."""

    root: Path
    num_training: int
    num_evaluation: int
    seconds: float

    @property
    def images_per_s(self) -> float:
        return (self.num_training + self.num_evaluation) / max(self.seconds, 1e-9)


class HandRig:
    """A hand model plus what sampling needs from it once: its rest pose, canonical frame and skin regions.

    Args:
        model: the loaded hand model (``HandModel``).
    """

    def __init__(self, model: HandModel) -> None:
        if model.flat_hand_mean or model.num_pca_comps is not None:
            raise ValueError("HandRig needs a HandModel with flat_hand_mean=False and full 45-number poses (FreiHAND's convention)")
        self.model = model.eval()
        self.faces = model.faces
        rest = self._forward(np.zeros(3), np.zeros(45), np.zeros(10))
        self.rest_verts, self.rest_joints = rest
        self.frame = hand_frame(self.rest_joints, str(model.side))
        # Skin regions are found on the flat hand (every phalanx in the palm's plane) and move with the skin.
        flat_verts, flat_joints = self._forward(np.zeros(3), -model.hands_mean.double().numpy(), np.zeros(10))
        self.regions = surface_regions(
            flat_verts, self.faces.numpy(), model.lbs_weights.double().numpy(), flat_joints, self.frame[:, 2]
        )

    @torch.no_grad()
    def _forward(self, global_orient: np.ndarray, hand_pose: np.ndarray, betas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = self.model(
            global_orient=torch.as_tensor(global_orient, dtype=torch.float32).reshape(1, 3),
            hand_pose=torch.as_tensor(hand_pose, dtype=torch.float32).reshape(1, 45),
            betas=torch.as_tensor(betas, dtype=torch.float32).reshape(1, 10),
            transl=torch.zeros(1, 3),
        )
        return out.vertices[0].double().numpy(), out.joints[0].double().numpy()

    def pose(self, scene: HandScene) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Poses one hand (one sample at a time, so results never depend on the batch).

        Returns:
            ``(global_orient (3,), verts (V, 3), joints (21, 3))`` with zero translation.
        """
        global_orient = matrix_to_axis_angle_np(scene.rotation)
        verts, joints = self._forward(global_orient, scene.hand_pose, scene.betas)
        return global_orient, verts, joints


def sample_seed(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator of sample ``index`` of ``split``: independent of every other sample."""
    return np.random.default_rng([seed, SPLIT_CODES[split], index])


def sample_scene(rig: HandRig, rng: np.random.Generator, cfg: SynthConfig, backgrounds: BackgroundSource) -> HandScene:
    """Draws everything but the translation of one sample from ``rng``."""
    hand_pose = sample_hand_pose(rig.model, 1, rng)[0].astype(np.float64)
    betas = np.clip(cfg.betas_std * rng.standard_normal(10), -cfg.betas_clip, cfg.betas_clip)
    rotation = sample_global_rotation(rig.frame, rng, cfg.camera)
    K = sample_intrinsics(cfg.image_size, rng, cfg.camera)
    albedo = sample_skin_albedo(rig.rest_verts, rng, cfg.appearance, rig.regions)
    sh = sample_sh_lighting(rng, cfg.appearance)
    background = backgrounds.sample(cfg.image_size, cfg.image_size, rng)
    return HandScene(rotation, hand_pose, betas, K, albedo, sh, background, rng)


def render_scenes(rig: HandRig, scenes: list[HandScene], cfg: SynthConfig) -> list[RenderedSample]:
    """Poses, places and renders a batch of scenes, and composites them over their backgrounds.

    Args:
        rig: the hand model and its canonical frame.
        scenes: B sampled scenes.
        cfg: configuration (image size, camera ranges, supersampling).

    Returns:
        B rendered samples, in order.
    """
    size = cfg.image_size
    posed = []
    for scene in scenes:
        global_orient, verts, joints = rig.pose(scene)
        transl = place_hand(verts, scene.K, size, scene.rng, cfg.camera)
        posed.append((global_orient, verts + transl, joints + transl, transl))
    verts = torch.as_tensor(np.stack([p[1] for p in posed]), dtype=torch.float32)[:, None]  # (B, 1, V, 3)
    K = torch.as_tensor(np.stack([s.K for s in scenes]), dtype=torch.float32)[:, None]  # (B, 1, 3, 3)
    colors = torch.as_tensor(np.stack([s.albedo for s in scenes]))[:, None]
    sh = torch.as_tensor(np.stack([s.sh for s in scenes]))[:, None]
    settings = RenderSettings(supersample=cfg.supersample)
    with torch.no_grad():
        out = render_hands(
            verts, rig.faces, K, torch.ones(len(scenes), 1, dtype=torch.bool), (size, size),
            colors=colors, sh=sh, mode="sharp", settings=settings,
        )
    samples = []
    for i, scene in enumerate(scenes):
        alpha = out.alpha[i].clamp(0.0, 1.0).numpy()
        rgb = out.rgb[i].clamp(0.0, 1.0).numpy()  # composited over black: premultiplied by alpha
        composite = rgb * 255.0 + (1.0 - alpha[..., None]) * scene.background.astype(np.float32)
        image = np.clip(composite + 0.5, 0.0, 255.0).astype(np.uint8)
        global_orient, v, j, transl = posed[i]
        # Forward's hand_pose with flat_hand_mean=False excludes hands_mean, as FreiHAND's does
        # (smhr.hand.conventions): the 48 numbers are stored unchanged.
        pose48 = np.concatenate([global_orient, scene.hand_pose])
        mano = ManoParams(pose=pose48, betas=scene.betas, trans=transl)
        mask = out.hand_index[i].numpy() >= 0
        samples.append(RenderedSample(image, mask, alpha.astype(np.float32), scene.K, j, v, mano))
    return samples


def write_split(
    rig: HandRig, root: Path, split: str, count: int, cfg: SynthConfig, backgrounds: BackgroundSource,
    progress: bool = True,
) -> None:
    """Renders ``count`` samples of ``split`` into ``root`` (FreiHAND layout), with a progress bar unless ``progress`` is False."""
    with FreiHANDWriter(root, split) as writer:
        starts = range(0, count, cfg.batch_size)
        for start in tqdm(starts, desc=f"synth {split}", unit="batch", leave=False, disable=not progress):
            indices = range(start, min(start + cfg.batch_size, count))
            scenes = [sample_scene(rig, sample_seed(cfg.seed, split, i), cfg, backgrounds) for i in indices]
            for sample in render_scenes(rig, scenes, cfg):
                writer.add(sample.image, sample.K, sample.joints, mask=sample.mask, mano=sample.mano, verts=sample.verts)


def synthesize(cfg: SynthConfig, hand_model: Path, progress: bool = True) -> SynthResult:
    """Writes the whole synthetic dataset to ``cfg.out``, atomically.

    Both splits are written into ``.<out>.tmp`` beside the output, then the temporary folder is
    swapped into place (:func:`smhr.outputs.replace_dir`: an existing output is removed only after
    the swap); on any error, KeyboardInterrupt included, the temporary folder is deleted and an
    existing output is left untouched.

    Args:
        cfg: the configuration.
        hand_model: the MANO-format model file to render.
        progress: show a progress bar per split.

    Returns:
        Counts, wall time and throughput.

    Raises:
        ConfigError: a value of ``cfg`` is out of range (nothing is written).
        ModelFileError: ``hand_model`` is unreadable, or a left hand: FreiHAND's format holds right
            hands only, so its readers would label a left hand right (nothing is written).
    """
    cfg.validate()
    t0 = time.perf_counter()
    model = HandModel.from_file(hand_model)
    if model.side != "right":
        raise ModelFileError(f"{hand_model}: is a {model.side}-hand model, but FreiHAND's format holds right hands "
                             "only; give the right-hand model (base.hand_model_right); left hands come from "
                             "'smhr compose', which mirrors")
    rig = HandRig(model)
    backgrounds = make_background_source(cfg.background_folder, cfg.skin_distractor_prob)
    out = Path(cfg.out)
    tmp = out.parent / f".{out.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for split, count in (("training", cfg.num_training), ("evaluation", cfg.num_evaluation)):
            if count > 0:
                write_split(rig, tmp, split, count, cfg, backgrounds, progress)
        save_resolved(dataclasses.replace(cfg, hand_model=Path(hand_model)), tmp / RESOLVED_CONFIG)
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    seconds = time.perf_counter() - t0
    log.info("wrote %d + %d samples to %s in %.1f s", cfg.num_training, cfg.num_evaluation, out, seconds)
    return SynthResult(out, cfg.num_training, cfg.num_evaluation, seconds)
