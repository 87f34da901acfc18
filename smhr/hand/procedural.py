"""Our own licence-free hand model in MANO's format, right and (mirrored) left.

How it is built (see also ``docs/hand_model.md``):

1. **Mesh** (:mod:`smhr.hand.proc_geometry`): a palm tube and five finger tubes (thumb included),
   each closed and wound outward, rings exactly at the joints. Right hand in MANO's canonical
   frame (fingers along -x, palm facing -y, wrist near x = +0.09 m).
2. **J_regressor**: row j averages the ring of vertices around joint j, so the rest joints are
   exactly ``J_regressor @ v_template`` and follow every shape change.
3. **Skinning weights**: along each finger, telescoping smoothsteps over a zone around every joint
   (wrist -> base -> middle -> distal), so weights are non-negative, sum to one and blend smoothly;
   the palm's distal rim follows the nearest knuckle and the thenar region partly the thumb.
4. **Shape directions**: central differences of the mesh w.r.t. ten anatomical knobs
   (:data:`~smhr.hand.proc_geometry.SHAPE_STEPS`: size, palm width, finger length, thickness, thumb
   length, palm length, index/ring ratio, pinky length, taper, thenar).
5. **Pose space**: ``hands_mean`` and ``hands_components`` are the mean and principal axes of poses
   drawn from the finger-synergy distribution of :func:`smhr.hand.prior.synergy_angles` (rows
   orthonormal, sorted by variance, whose square roots are stored as ``hands_components_std``).
6. **posedirs** are zero: the model has no pose-corrective offsets.
7. **Left** = mirror of the right (x -> -x, reversed winding, mirrored axis-angle), exactly MANO's
   left/right relation.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from smhr.errors import ConfigError
from smhr.hand import conventions as C
from smhr.hand.model_check import NUM_JOINTS, NUM_POSEDIRS
from smhr.hand.model_file import ModelData
from smhr.hand.prior import angles_to_axis_angle, joint_frames, synergy_angles
from smhr.hand.proc_geometry import SHAPE_STEPS, GeometryConfig, ShapeParams, build_geometry


@dataclasses.dataclass(frozen=True)
class ProceduralConfig:
    """Parameters of the procedural hand (``params.yaml`` section ``hand_model``).

    Attributes:
        seed: seed of the pose samples behind the pose PCA.
        pose_samples: number of synergy poses for the PCA (>= 46, so that all 45 components exist).
        finger_ring_verts: points per finger ring (even, >= 4: a ring's mean must be its joint).
        palm_ring_verts: points per palm ring (multiple of 4, >= 8).
        palm_rings: palm rings between wrist and knuckles (>= 2).

    Raises:
        ConfigError: a value that would build a degenerate hand, naming the key and the allowed range.
    """

    seed: int = 0
    pose_samples: int = 20000
    finger_ring_verts: int = 10
    palm_ring_verts: int = 16
    palm_rings: int = 5

    def __post_init__(self) -> None:
        rules = (
            ("pose_samples", self.pose_samples >= C.NUM_POSE_PARAMS + 1, "an integer >= 46"),
            ("finger_ring_verts", self.finger_ring_verts >= 4 and self.finger_ring_verts % 2 == 0,
             "an even integer >= 4"),
            ("palm_ring_verts", self.palm_ring_verts >= 8 and self.palm_ring_verts % 4 == 0, "a multiple of 4, >= 8"),
            ("palm_rings", self.palm_rings >= 2, "an integer >= 2"),
        )
        for key, ok, allowed in rules:
            if not ok:
                raise ConfigError(f"hand_model.{key} = {getattr(self, key)!r} builds a degenerate hand; "
                                  f"allowed: {allowed}")


KINTREE_TABLE = np.stack([C.MANO_KINTREE_PARENTS, np.arange(NUM_JOINTS)]).astype(np.int64)


def _pose_pca(data: ModelData, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean (45,), components (45, 45) rows by decreasing variance, and their std (45,)."""
    rng = np.random.default_rng(seed)
    poses = angles_to_axis_angle(synergy_angles(n, rng), joint_frames(data))
    mean = poses.mean(axis=0)
    cov = np.cov(poses - mean, rowvar=False)
    eig, vec = np.linalg.eigh(cov)
    order = np.argsort(eig)[::-1]
    comps = vec[:, order].T
    signs = np.sign(comps[np.arange(45), np.abs(comps).argmax(axis=1)])
    return mean, comps * signs[:, None], np.sqrt(np.clip(eig[order], 0.0, None))


def build_right(cfg: ProceduralConfig) -> ModelData:
    """Generates the right procedural hand.

    Args:
        cfg: seed and resolution.

    Returns:
        A :class:`~smhr.hand.model_file.ModelData` with ``side="right"``.
    """
    gcfg = GeometryConfig(cfg.finger_ring_verts, cfg.palm_ring_verts, cfg.palm_rings)
    base = ShapeParams()
    geo = build_geometry(base, gcfg)
    n_v = len(geo.vertices)
    shapedirs = np.zeros((n_v, 3, C.NUM_BETAS))
    for k, (field, step) in enumerate(SHAPE_STEPS):
        value = getattr(base, field)
        plus = build_geometry(dataclasses.replace(base, **{field: value + step}), gcfg).vertices
        minus = build_geometry(dataclasses.replace(base, **{field: value - step}), gcfg).vertices
        shapedirs[:, :, k] = (plus - minus) / 2.0
    regressor = np.zeros((NUM_JOINTS, n_v))
    for j, ring in enumerate(geo.joint_rings):
        regressor[j, ring] = 1.0 / len(ring)
    data = ModelData(
        v_template=geo.vertices,
        f=geo.faces,
        J_regressor=regressor,
        weights=geo.weights,
        kintree_table=KINTREE_TABLE.copy(),
        shapedirs=shapedirs,
        posedirs=np.zeros((n_v, 3, NUM_POSEDIRS)),
        hands_components=np.eye(C.NUM_POSE_PARAMS),
        hands_mean=np.zeros(C.NUM_POSE_PARAMS),
        fingertip_vertex_ids=geo.tip_ids,
        side="right",
    )
    mean, comps, std = _pose_pca(data, cfg.pose_samples, cfg.seed)
    return dataclasses.replace(data, hands_mean=mean, hands_components=comps, hands_components_std=std)


def mirror_model(data: ModelData) -> ModelData:
    """The other hand: ``x -> -x``, reversed winding, mirrored axis-angle (MANO's left/right relation).

    Args:
        data: a model of either side.

    Returns:
        The mirrored model with the opposite ``side``.
    """
    m = C.MIRROR_POINTS
    aa = np.tile(C.MIRROR_AXIS_ANGLE, C.NUM_POSE_PARAMS // 3)
    # pose feature (R - I)_{ij} of a mirrored rotation M R M is m_i m_j (R - I)_{ij}
    feat = np.tile((m[:, None] * m[None, :]).reshape(-1), NUM_JOINTS - 1)
    return dataclasses.replace(
        data,
        v_template=data.v_template * m,
        f=data.f[:, ::-1].copy(),
        shapedirs=data.shapedirs * m[None, :, None],
        posedirs=data.posedirs * m[None, :, None] * feat[None, None, :],
        hands_components=data.hands_components * aa[None, :],
        hands_mean=data.hands_mean * aa,
        side="left" if data.side == "right" else "right",
    )


def build_models(cfg: ProceduralConfig) -> tuple[ModelData, ModelData]:
    """Right and left procedural hands. Deterministic for a given ``cfg``."""
    right = build_right(cfg)
    return right, mirror_model(right)
