"""Geometry: rotations (:mod:`.rotations`), cameras and projection (:mod:`.camera`), Procrustes (:mod:`.procrustes`)."""

from smhr.geometry.camera import (
    crop_intrinsics,
    crop_resize_intrinsics,
    flip_intrinsics_x,
    project,
    scale_intrinsics,
    unproject,
    weak_perspective_project,
    weak_perspective_to_translation,
)
from smhr.geometry.procrustes import Similarity, similarity_align, similarity_transform
from smhr.geometry.rotations import (
    axis_angle_to_matrix,
    axis_angle_to_matrix_np,
    matrix_to_axis_angle,
    matrix_to_axis_angle_np,
    matrix_to_rot6d,
    rot6d_to_matrix,
    skew,
)

__all__ = [
    "Similarity",
    "axis_angle_to_matrix",
    "axis_angle_to_matrix_np",
    "crop_intrinsics",
    "crop_resize_intrinsics",
    "flip_intrinsics_x",
    "matrix_to_axis_angle",
    "matrix_to_axis_angle_np",
    "matrix_to_rot6d",
    "project",
    "rot6d_to_matrix",
    "scale_intrinsics",
    "similarity_align",
    "similarity_transform",
    "skew",
    "unproject",
    "weak_perspective_project",
    "weak_perspective_to_translation",
]
