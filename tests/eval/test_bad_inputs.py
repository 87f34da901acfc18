"""Table-driven bad inputs for the evaluation protocols: corrupted official ground-truth files
(written by the dataset fixtures, then broken in their own on-disk format) and broken prediction
files of each protocol. Each must give one error naming the file (and the entry) and the fix."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from smhr.cli import main
from smhr.errors import DatasetError, PredictionError
from smhr.eval.protocols import evaluate_files
from tests.data.fixtures_interhand import (
    INTERHAND_CORRUPTIONS,
    corrupt_interhand,
    nan_on_invalid_joint,
    write_interhand_fixture,
)
from tests.data.fixtures_rhd import RHD_CORRUPTIONS, write_rhd_fixture
from tests.eval.conftest import write_json

pytestmark = pytest.mark.pipeline


def _interhand(tmp_path):
    write_interhand_fixture(tmp_path, "test")
    gt = tmp_path / "annotations" / "test"
    pred = {str(i): {"joints3d": np.zeros((42, 3)).tolist(), "hand_type": [0.9, 0.1]} for i in range(4)}
    return gt, pred


def _rhd(tmp_path):
    write_rhd_fixture(tmp_path, "evaluation")
    return tmp_path / "evaluation", {"xyz": np.ones((3, 21, 3)).tolist(), "uv": np.ones((3, 21, 2)).tolist()}


def _multihand(tmp_path):
    def hand(box, side):
        return {"box": box, "side": side, "joints3d": (np.arange(63).reshape(21, 3) * 0.001).tolist(), "verts": np.eye(3).tolist()}

    gt = {"images": {"a": [hand([0, 0, 10, 10], "left"), hand([20, 0, 30, 10], "right")], "b": [hand([0, 0, 10, 10], "right")]}}
    pred = copy.deepcopy(gt)
    for hands in pred["images"].values():
        for h in hands:
            h["score"] = 0.9
    return write_json(tmp_path / "gt.json", gt), pred


GT = {"interhand": _interhand, "rhd": _rhd, "multihand": _multihand}


def _del(key):
    return lambda p: p.pop(key)


def _set(path, value):
    def edit(p):
        target = p
        for k in path[:-1]:
            target = target[k]
        target[path[-1]] = value(target[path[-1]]) if callable(value) else value

    return edit


PREDICTION_CASES = [
    # protocol, case id, edit of the valid prediction, message
    ("interhand", "missing_id", _del("2"), r"pred.json: 3 predictions for 4 annotations .1 missing, e.g. \['2'\]"),
    ("interhand", "extra_id", _set(["99"], {}), r"pred.json: 5 predictions for 4 annotations"),
    ("interhand", "joints_21", _set(["1", "joints3d"], lambda j: j[:21]), r"pred.json: joints3d: entries have .* \(annotation 1 has shape \(21, 3\)\)"),
    ("interhand", "joints_nan", _set(["3", "joints3d", 5], [math.nan] * 3), r"pred.json: joints3d: NaN or inf in 1 entries .first: annotation 3"),
    ("interhand", "hand_type_null", _set(["0", "hand_type"], None), r"pred.json: hand_type: .*non-numeric|pred.json: hand_type: NaN"),
    ("interhand", "no_hand_type", _set(["0"], lambda e: {"joints3d": e["joints3d"]}), r"pred.json: every entry needs 'joints3d' and 'hand_type'"),
    ("rhd", "no_xyz", _del("xyz"), r"pred.json: expected a JSON object with 'xyz'"),
    ("rhd", "short_xyz", _set(["xyz"], lambda x: x[:2]), r"pred.json: 'xyz' needs 3 entries"),
    ("rhd", "uv_3d", _set(["uv"], lambda u: [[p + [0.0] for p in s] for s in u]), r"pred.json: uv: wrong shape \(3, 21, 3\)"),
    ("rhd", "xyz_null", _set(["xyz", 1, 4], [None, None, None]), r"pred.json: xyz: NaN or inf in 1 entries .first: row 1 .sample 1.."),
    ("multihand", "one_hand_lacks_joints3d", _set(["images", "b", 0], lambda h: {k: v for k, v in h.items() if k != "joints3d"}),
     r"pred.json: images\['b'\]\[0\] has no 'joints3d' but images\['a'\]\[0\] has one .1 of 3 hands lack it"),
    ("multihand", "one_hand_lacks_verts", _set(["images", "a", 1], lambda h: {k: v for k, v in h.items() if k != "verts"}),
     r"pred.json: images\['a'\]\[1\] has no 'verts'"),
    ("multihand", "score_nan", _set(["images", "a", 0, "score"], math.nan), r"pred.json: images\['a'\]\[0\].score: nan is not a confidence"),
    ("multihand", "score_above_one", _set(["images", "a", 0, "score"], 2.0), r"images\['a'\]\[0\].score: 2.0 is not a confidence in \[0, 1\]"),
    ("multihand", "no_score", _set(["images", "b", 0], lambda h: {k: v for k, v in h.items() if k != "score"}),
     r"images\['b'\]\[0\]: needs box, side, score"),
    ("multihand", "side_null", _set(["images", "a", 1, "side"], None), r"images\['a'\]\[1\].side: None is not 'left' or 'right'"),
    ("multihand", "box_3", _set(["images", "a", 1, "box"], [0, 0, 1]), r"images\['a'\]\[1\].box: wrong shape \(1, 3\)"),
    ("multihand", "hand_not_object", _set(["images", "b", 0], "hand"), r"images\['b'\]\[0\]: expected an object"),
    ("multihand", "joints_nan", _set(["images", "b", 0, "joints3d", 0], [math.nan] * 3), r"images\['b'\]\[0\].joints3d: NaN or inf"),
    ("multihand", "unknown_image", _set(["images", "zz"], []), r"predictions for images not in the ground truth: \['zz'\]"),
    ("multihand", "other_topology", _set(["images", "a", 0, "verts"], np.eye(4, 3).tolist()),
     r"hand a:0: predicted mesh has 4 vertices, the ground truth's hand model 3"),
]


@pytest.mark.parametrize("protocol, case, edit, message", PREDICTION_CASES, ids=[f"{c[0]}-{c[1]}" for c in PREDICTION_CASES])
def test_bad_prediction_files(tmp_path, capsys, protocol, case, edit, message):
    gt, pred = GT[protocol](tmp_path)
    good = write_json(tmp_path / "good.json", pred)
    evaluate_files(protocol, good, gt)  # the unedited prediction is valid
    edit(pred)
    bad = write_json(tmp_path / "pred.json", pred)
    with pytest.raises(PredictionError, match=message):
        evaluate_files(protocol, bad, gt)
    out = tmp_path / "never.json"
    assert main(["evaluate", "--protocol", protocol, "--pred", str(bad), "--gt", str(gt), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("name", sorted(INTERHAND_CORRUPTIONS))
def test_interhand_ground_truth_corruptions(tmp_path, name):
    gt, pred = _interhand(tmp_path)
    pred_path = write_json(tmp_path / "pred.json", pred)
    corrupt_interhand(tmp_path, "test", name)
    with pytest.raises(DatasetError, match=INTERHAND_CORRUPTIONS[name][1]):
        evaluate_files("interhand", pred_path, gt)


def test_interhand_nan_on_invalid_joint_is_masked(tmp_path):
    gt, pred = _interhand(tmp_path)
    pred_path = write_json(tmp_path / "pred.json", pred)
    before = evaluate_files("interhand", pred_path, gt).metrics
    nan_on_invalid_joint(tmp_path, "test")
    after = evaluate_files("interhand", pred_path, gt).metrics
    assert after == before and math.isfinite(after["mpjpe_all_mm"])


def test_interhand_null_hand_type_is_not_counted_as_interacting(tmp_path):
    gt, pred = _interhand(tmp_path)
    path = gt / "InterHand2.6M_test_data.json"
    data = json.loads(path.read_text())
    data["annotations"][0]["hand_type"] = None
    path.write_text(json.dumps(data))
    with pytest.raises(DatasetError, match="annotation 0 has hand_type None"):
        evaluate_files("interhand", write_json(tmp_path / "pred.json", pred), gt)


@pytest.mark.parametrize("name", sorted(RHD_CORRUPTIONS))
def test_rhd_ground_truth_corruptions(tmp_path, name):
    gt, pred = _rhd(tmp_path)
    pred_path = write_json(tmp_path / "pred.json", pred)
    corrupt, message = RHD_CORRUPTIONS[name]
    corrupt(tmp_path, "evaluation")
    with pytest.raises(DatasetError, match=message):
        evaluate_files("rhd", pred_path, gt)
