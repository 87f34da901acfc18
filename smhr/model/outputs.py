"""What the network's decoding returns: every detected hand of a batch, padded, with a mask.

Written first so that the model, the two-stage baseline, ``smhr predict``, the trainer's
validation and evaluation all read one type. Units: metres in the camera frame (OpenCV axes:
x right, y down, z forward), pixels in the *network input* image (pixel centres at integers),
joints in OpenPose/FreiHAND order (:mod:`smhr.hand.joints`). Letters: B images, K hand slots
(the decoder's top-K), V vertices, J = 21 joints.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from smhr.data.datasets.sample import SIDES


@dataclass
class PredictedHand:
    """One detected hand as NumPy arrays (one entry of :meth:`HandPredictions.per_image`).

    Attributes:
        side: ``"left"`` or ``"right"``.
        score: centre-heatmap confidence in [0, 1].
        box: (4,) ``[x0, y0, x1, y1]`` px.
        center: (2,) px.
        global_orient: (3,) axis-angle.
        hand_pose: (45,) axis-angle of the 15 finger joints, as ``HandModel``'s ``hand_pose``.
        betas: (10,).
        transl: (3,) metres.
        vertices: (V, 3) metres, camera frame.
        joints3d: (21, 3) metres, camera frame.
        joints2d: (21, 2) px, ``joints3d`` projected with the image's K (global evidence).
        keypoints2d: (21, 2) px from the local keypoint head (local evidence).
    """

    side: str
    score: float
    box: np.ndarray
    center: np.ndarray
    global_orient: np.ndarray
    hand_pose: np.ndarray
    betas: np.ndarray
    transl: np.ndarray
    vertices: np.ndarray
    joints3d: np.ndarray
    joints2d: np.ndarray
    keypoints2d: np.ndarray


@dataclass
class HandPredictions:
    """Decoded hands of a batch, padded to K slots per image; ``mask`` says which are real.

    Slots are ordered by decreasing score; padded slots hold zeros (and ``side`` 0) and must be
    ignored. Produced by ``smhr.model.decode`` (single-stage) and by the two-stage baseline alike.

    Attributes:
        mask: (B, K) bool, True where the slot holds a detected hand (score >= threshold).
        score: (B, K) float, centre confidence in [0, 1].
        side: (B, K) int64, 0 left, 1 right (:data:`smhr.data.datasets.sample.SIDES` order).
        center: (B, K, 2) px, decoded hand centre (cell + sub-cell offset).
        box: (B, K, 4) px ``[x0, y0, x1, y1]``.
        global_orient: (B, K, 3) axis-angle.
        hand_pose: (B, K, 45) axis-angle, ``HandModel``'s ``hand_pose`` input.
        betas: (B, K, 10).
        transl: (B, K, 3) metres, camera frame.
        vertices: (B, K, V, 3) metres, camera frame, through the hand model of ``side``.
        joints3d: (B, K, 21, 3) metres, camera frame.
        joints2d: (B, K, 21, 2) px, ``joints3d`` projected with ``K``.
        keypoints2d: (B, K, 21, 2) px, from the local keypoint head.
        K: (B, 3, 3) intrinsics the translation was decoded with (the image's camera).
        albedo: (B, K, V, 3) per-vertex albedo in [0, 1], or None when not predicted.
        sh: (B, K, 9, 3) SH lighting (:mod:`smhr.render.sh`), or None when not predicted.
    """

    mask: torch.Tensor
    score: torch.Tensor
    side: torch.Tensor
    center: torch.Tensor
    box: torch.Tensor
    global_orient: torch.Tensor
    hand_pose: torch.Tensor
    betas: torch.Tensor
    transl: torch.Tensor
    vertices: torch.Tensor
    joints3d: torch.Tensor
    joints2d: torch.Tensor
    keypoints2d: torch.Tensor
    K: torch.Tensor
    albedo: torch.Tensor | None = None
    sh: torch.Tensor | None = None

    @property
    def num_images(self) -> int:
        """B."""
        return int(self.mask.shape[0])

    def to(self, device: torch.device | str) -> HandPredictions:
        """A copy with every tensor on ``device``."""
        return HandPredictions(**{
            f.name: None if getattr(self, f.name) is None else getattr(self, f.name).to(device)
            for f in dataclasses.fields(self)
        })

    def per_image(self) -> list[list[PredictedHand]]:
        """The real hands of each image as NumPy records, in decreasing score order.

        Returns:
            B lists (possibly empty) of :class:`PredictedHand`.
        """
        arrays = {f.name: getattr(self, f.name) for f in dataclasses.fields(PredictedHand)
                  if f.name not in ("side", "score")}
        arrays = {k: v.detach().cpu().double().numpy() for k, v in arrays.items()}
        mask = self.mask.detach().cpu().numpy()
        side = self.side.detach().cpu().numpy()
        score = self.score.detach().cpu().double().numpy()
        out: list[list[PredictedHand]] = []
        for b in range(mask.shape[0]):
            hands = [
                PredictedHand(side=SIDES[int(side[b, k])], score=float(score[b, k]),
                              **{name: a[b, k] for name, a in arrays.items()})
                for k in np.flatnonzero(mask[b])
            ]
            out.append(hands)
        return out
