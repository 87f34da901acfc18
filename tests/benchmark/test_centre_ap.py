"""Centre AP: a detection is judged by its centre alone, against the labelled box moved there."""

from __future__ import annotations

import math

import numpy as np
import pytest

from smhr.benchmark.centre_ap import centre_metrics, shifted_box_iou
from smhr.eval.multihand import HandRecord, evaluate


def box(cx: float, cy: float, w: float, h: float) -> np.ndarray:
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def test_shifted_box_iou_is_the_overlap_of_a_box_with_itself_moved() -> None:
    gt = np.stack([box(50, 50, 30, 60), box(0, 0, 0, 10)])  # the second is degenerate
    iou = shifted_box_iou(np.array([[50.0, 50.0], [60.0, 50.0], [50.0, 120.0]]), gt)
    assert iou.shape == (3, 2)
    assert iou[0, 0] == pytest.approx(1.0)
    assert iou[1, 0] == pytest.approx((20 * 60) / (2 * 30 * 60 - 20 * 60))  # 10 px off along x
    assert iou[2, 0] == 0.0  # further than the box's height
    assert (iou[:, 1] == 0.0).all()


def test_centre_decides_where_box_iou_would_not() -> None:
    """A detection at the right centre with a box half the size is a centre hit and an IoU miss."""
    gt = {"a": [HandRecord(box=box(50, 50, 40, 40), side="right")]}
    right_place_wrong_size = {"a": [HandRecord(box=box(52, 49, 20, 20), side="left", score=0.9)]}
    assert evaluate(gt, right_place_wrong_size).metrics["ap"] == 0.0  # IoU 0.25
    got = centre_metrics(gt, right_place_wrong_size)
    assert got == {"centre_ap": 1.0, "centre_recall": 1.0}
    # a third of the side off along one axis is the IoU 0.5 boundary: just inside hits, just outside misses
    inside = {"a": [HandRecord(box=box(50 + 40 / 3 - 0.01, 50, 40, 40), side="right", score=0.9)]}
    outside = {"a": [HandRecord(box=box(50 + 40 / 3 + 0.01, 50, 40, 40), side="right", score=0.9)]}
    assert centre_metrics(gt, inside)["centre_recall"] == 1.0
    assert centre_metrics(gt, outside)["centre_recall"] == 0.0


def test_each_labelled_hand_is_taken_once_highest_score_first_and_misses_count() -> None:
    gt = {"a": [HandRecord(box=box(50, 50, 40, 40), side="right"), HandRecord(box=box(150, 50, 40, 40), side="left")],
          "b": [HandRecord(box=box(50, 50, 40, 40), side="right")]}
    pred = {"a": [HandRecord(box=box(51, 50, 10, 10), side="right", score=0.9),   # hit
                  HandRecord(box=box(49, 50, 10, 10), side="right", score=0.8),   # duplicate: false positive
                  HandRecord(box=box(300, 300, 10, 10), side="left", score=0.7)]}  # nowhere: false positive
    got = centre_metrics(gt, pred)  # image b has no predictions: its hand is a miss
    assert got["centre_recall"] == pytest.approx(1 / 3)
    # one hit ranked first among 3 detections, 3 labelled hands: precision 1 up to recall 1/3
    assert got["centre_ap"] == pytest.approx(np.mean(np.linspace(0, 1, 101) <= 1 / 3))
    assert math.isnan(centre_metrics({}, {})["centre_ap"])
