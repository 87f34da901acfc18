"""Submission writers: model predictions -> the files the benchmark servers expect.

Inputs are smhr's convention (metres, OpenCV camera axes, OpenPose joint order). FreiHAND's
CodaLab server takes ``pred.zip`` holding ``pred.json`` = ``[xyz_list, verts_list]`` in metres,
camera frame, FreiHAND (= OpenPose) order; HO3D's takes the same layout in OpenGL axes (y and z
negated) and HO3D order (MANO's 16 joints then the five tips).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from smhr.hand.conventions import OPENGL_TO_OPENCV
from smhr.hand.joints import OPENPOSE_TO_HO3D
from smhr.outputs import atomic_write
"""Axis change between OpenCV (x right, y down, z forward) and OpenGL (y up, z backward); its own inverse."""


class SubmissionFiles(NamedTuple):
    """Paths written by a submission writer.

    Attributes:
        json_path: the ``pred.json``.
        zip_path: ``pred.zip`` holding ``pred.json`` at its root (what CodaLab takes).
    """

    json_path: Path
    zip_path: Path


def pred_json_text(joints: np.ndarray, verts: np.ndarray) -> str:
    """The text of a FreiHAND/HO3D ``pred.json``: ``[xyz_list, verts_list]`` as given (no conversion).

    Args:
        joints: (N, 21, 3) metres; verts: (N, V, 3) metres, in the benchmark's own convention
            (:func:`to_ho3d` for HO3D).
    """
    return json.dumps([np.asarray(joints, np.float64).tolist(), np.asarray(verts, np.float64).tolist()])


def _write_pred(out_dir: str | Path, joints: np.ndarray, verts: np.ndarray) -> SubmissionFiles:
    out_dir = Path(out_dir)
    text = pred_json_text(joints, verts)
    json_path, zip_path = out_dir / "pred.json", out_dir / "pred.zip"
    atomic_write(json_path, text)

    def write_zip(fh) -> None:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            info = zipfile.ZipInfo("pred.json", date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, text, compress_type=zipfile.ZIP_DEFLATED)

    atomic_write(zip_path, write_zip)
    return SubmissionFiles(json_path, zip_path)


def write_freihand(out_dir: str | Path, joints: np.ndarray, verts: np.ndarray) -> SubmissionFiles:
    """Writes FreiHAND's ``pred.json`` and ``pred.zip``.

    Args:
        out_dir: output directory.
        joints: (N, 21, 3) metres, camera frame (OpenCV), OpenPose/FreiHAND order.
        verts: (N, V, 3) metres, camera frame.
    """
    return _write_pred(out_dir, joints, verts)


def to_ho3d(joints: np.ndarray, verts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """smhr convention -> HO3D's: OpenPose -> HO3D joint order, OpenCV -> OpenGL axes.

    Args:
        joints: (N, 21, 3); verts: (N, V, 3).

    Returns:
        (joints (N, 21, 3), verts (N, V, 3)) in HO3D's convention.
    """
    joints = np.asarray(joints, np.float64)[:, OPENPOSE_TO_HO3D] @ OPENGL_TO_OPENCV  # its own inverse
    return joints, np.asarray(verts, np.float64) @ OPENGL_TO_OPENCV


def write_ho3d(out_dir: str | Path, joints: np.ndarray, verts: np.ndarray) -> SubmissionFiles:
    """Writes HO3D's ``pred.json`` and ``pred.zip`` (v2 and v3 take the same format).

    Args:
        out_dir: output directory.
        joints: (N, 21, 3) metres, OpenCV camera frame, OpenPose order.
        verts: (N, V, 3) metres, OpenCV camera frame.
    """
    return _write_pred(out_dir, *to_ho3d(joints, verts))
