"""``HandModel``: the MANO layer (any MANO-format file), skinning by ``smplx.lbs.lbs``.

Outputs are in metres and the 21 joints in OpenPose order (:mod:`smhr.hand.joints`): the 16
regressed joints plus the five fingertip vertices of the model file, permuted.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from smplx.lbs import lbs

from smhr.errors import ModelFileError
from smhr.hand.joints import HO3D_TO_OPENPOSE
from smhr.hand.model_file import ModelData, load_model_data


class HandOutput(NamedTuple):
    """Result of :meth:`HandModel.forward` (metres).

    Attributes:
        vertices: (B, V, 3) posed mesh vertices.
        joints: (B, 21, 3) joints, OpenPose order (tips from the fingertip vertices).
        joints_mano: (B, 16, 3) the regressed joints, MANO native order.
        full_pose: (B, 48) axis-angle actually applied (global + 15 joints, hands_mean included).
    """

    vertices: torch.Tensor
    joints: torch.Tensor
    joints_mano: torch.Tensor
    full_pose: torch.Tensor


class HandModel(torch.nn.Module):
    """A MANO-format hand model as a differentiable layer.

    Every array of the model file is a buffer, so ``.to(device, dtype)`` moves them all.

    Attributes:
        data: the :class:`~smhr.hand.model_file.ModelData` it was built from (numpy, float64).
        side: ``"left"`` or ``"right"``.
        num_verts: V.
        num_pca_comps: k when ``hand_pose`` is given as k PCA coefficients, else None.
        flat_hand_mean: if False, ``hands_mean`` is added to the finger pose (MANO's default).
        faces: (F, 3) int64 buffer, winding as in the file.
        fingertip_vertex_ids: (5,) int64 buffer, thumb to pinky.
    """

    def __init__(self, data: ModelData, num_pca_comps: int | None = None, flat_hand_mean: bool = False) -> None:
        super().__init__()
        if num_pca_comps is not None and not 1 <= num_pca_comps <= data.hands_components.shape[0]:
            raise ModelFileError(f"num_pca_comps must be in [1, {data.hands_components.shape[0]}], got {num_pca_comps}")
        self.data = data
        self.side = data.side
        self.num_verts = data.num_verts
        self.num_pca_comps = num_pca_comps
        self.flat_hand_mean = flat_hand_mean
        dt = torch.get_default_dtype()
        self.register_buffer("v_template", torch.tensor(data.v_template, dtype=dt))
        self.register_buffer("shapedirs", torch.tensor(data.shapedirs, dtype=dt))
        posedirs = data.posedirs.reshape(-1, data.posedirs.shape[-1]).T  # (135, V*3) as smplx wants
        self.register_buffer("posedirs", torch.tensor(np.ascontiguousarray(posedirs), dtype=dt))
        self.register_buffer("J_regressor", torch.tensor(data.J_regressor, dtype=dt))
        self.register_buffer("lbs_weights", torch.tensor(data.weights, dtype=dt))
        self.register_buffer("parents", torch.tensor(data.parents, dtype=torch.long))
        self.register_buffer("faces", torch.tensor(data.f, dtype=torch.long))
        self.register_buffer("hands_components", torch.tensor(data.hands_components, dtype=dt))
        self.register_buffer("hands_mean", torch.tensor(data.hands_mean, dtype=dt))
        self.register_buffer("fingertip_vertex_ids", torch.tensor(data.fingertip_vertex_ids, dtype=torch.long))
        self.register_buffer("openpose_from_ho3d", torch.tensor(HO3D_TO_OPENPOSE, dtype=torch.long))

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        side: str | None = None,
        num_pca_comps: int | None = None,
        flat_hand_mean: bool = False,
        fix_left_shapedirs: bool = True,
    ) -> "HandModel":
        """Loads a MANO-format file (see :func:`smhr.hand.model_file.load_model_data`).

        Args:
            path: ``MANO_RIGHT.pkl``, ``MANO_LEFT.pkl``, or a ``.pkl``/``.npz`` written by smhr.
            side: needed only when neither the file nor its name says.
            num_pca_comps: if set, ``hand_pose`` is that many PCA coefficients.
            flat_hand_mean: if True, a zero ``hand_pose`` is the flat hand (hands_mean not added).
            fix_left_shapedirs: fix the official left model's shapedirs sign (see conventions).
        """
        data = load_model_data(path, side=side, fix_left_shapedirs=fix_left_shapedirs)
        return cls(data, num_pca_comps=num_pca_comps, flat_hand_mean=flat_hand_mean)

    def finger_pose(self, hand_pose: torch.Tensor) -> torch.Tensor:
        """Axis-angle of the 15 finger joints as applied (PCA expanded, hands_mean added).

        Args:
            hand_pose: (B, 45) axis-angle, or (B, k) PCA coefficients when ``num_pca_comps=k``.

        Returns:
            (B, 45) axis-angle.
        """
        if self.num_pca_comps is not None:
            hand_pose = hand_pose @ self.hands_components[: self.num_pca_comps]
        return hand_pose if self.flat_hand_mean else hand_pose + self.hands_mean

    def forward(
        self,
        global_orient: torch.Tensor | None = None,
        hand_pose: torch.Tensor | None = None,
        betas: torch.Tensor | None = None,
        transl: torch.Tensor | None = None,
    ) -> HandOutput:
        """Poses and shapes the hand. Missing arguments are zeros; batch sizes must agree.

        Args:
            global_orient: (B, 3) wrist rotation, axis-angle (rotates about the wrist joint).
            hand_pose: (B, 45) axis-angle or (B, k) PCA coefficients (``num_pca_comps=k``).
            betas: (B, 10) shape coefficients.
            transl: (B, 3) translation in metres, added last.

        Returns:
            :class:`HandOutput` in metres.

        Raises:
            ValueError: on a wrong shape, disagreeing batch sizes, or NaN/inf input.
        """
        n_pose = self.num_pca_comps or 45
        widths = {"global_orient": 3, "hand_pose": n_pose, "betas": self.shapedirs.shape[-1], "transl": 3}
        given = {"global_orient": global_orient, "hand_pose": hand_pose, "betas": betas, "transl": transl}
        batch = {name: t.shape[0] for name, t in given.items() if t is not None and t.dim() >= 1}
        if len(set(batch.values())) > 1:
            raise ValueError(f"HandModel.forward: batch sizes disagree: {batch}")
        b = next(iter(batch.values()), 1)
        ref = self.v_template
        args = {}
        for name, t in given.items():
            if t is None:
                t = ref.new_zeros(b, widths[name])
            if t.dim() != 2 or t.shape[1] != widths[name]:
                raise ValueError(f"HandModel.forward: {name} must be (B, {widths[name]}), got {tuple(t.shape)}")
            if not torch.isfinite(t).all():
                raise ValueError(f"HandModel.forward: {name} contains NaN or inf")
            args[name] = t.to(ref.dtype)
        full_pose = torch.cat([args["global_orient"], self.finger_pose(args["hand_pose"])], dim=1)
        verts, joints = lbs(
            args["betas"], full_pose, ref, self.shapedirs, self.posedirs,
            self.J_regressor, self.parents, self.lbs_weights, pose2rot=True,
        )
        transl = args["transl"][:, None, :]
        verts = verts + transl
        joints = joints + transl
        tips = verts[:, self.fingertip_vertex_ids]
        joints21 = torch.cat([joints, tips], dim=1)[:, self.openpose_from_ho3d]
        return HandOutput(vertices=verts, joints=joints21, joints_mano=joints, full_pose=full_pose)
