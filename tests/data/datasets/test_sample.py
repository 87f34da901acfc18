import numpy as np
import pytest

from smhr.data.datasets.sample import ContractError, Hand, Sample, bbox_from_points


def _hand(**kw):
    base = dict(
        side="right",
        joints2d=np.zeros((21, 2), np.float32),
        visible=np.ones(21, bool),
        bbox=np.array([0, 0, 10, 10], np.float32),
        K=np.eye(3, dtype=np.float32),
    )
    base.update(kw)
    return Hand(**base)


def test_valid_sample_passes():
    Sample(np.zeros((8, 8, 3), np.uint8), [_hand(mask=np.zeros((8, 8), bool))], "x").validate()


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(side="both"), "side must be"),
        (dict(joints2d=np.zeros((20, 2))), "joints2d has shape"),
        (dict(joints3d=np.full((21, 3), np.nan)), "joints3d contains NaN"),
        (dict(bbox=np.array([5, 0, 1, 10.0])), "x1 < x0"),
        (dict(mask=np.zeros((4, 4), bool)), "mask shape"),
    ],
)
def test_invalid_hand_names_source_and_field(kw, message):
    with pytest.raises(ValueError, match=message) as err:
        Sample(np.zeros((8, 8, 3), np.uint8), [_hand(**kw)], "freihand/training/7").validate()
    assert "freihand/training/7 hand 0" in str(err.value)


def test_bbox_from_points_uses_visible_only():
    pts = np.array([[0, 0], [10, 20], [100, 100]], np.float32)
    np.testing.assert_array_equal(bbox_from_points(pts, np.array([True, True, False])), [0, 0, 10, 20])
    np.testing.assert_allclose(bbox_from_points(pts[:2], pad=0.1), [-1, -2, 11, 22])


def test_hand_from_joints3d_projects_and_masks_visibility():
    from smhr.data.datasets.sample import hand_from_joints3d

    K = np.array([[100.0, 0, 31.5], [0, 100.0, 31.5], [0, 0, 1]])
    joints = np.tile([0.0, 0.0, 0.5], (21, 1))
    joints[1] = [0.2, 0.0, 0.5]  # projects to u = 71.5: right of a 64-px image
    joints[2] = [0.0, 0.0, -0.5]  # behind the camera
    annotated = np.ones(21, bool)
    annotated[3] = False
    hand = hand_from_joints3d("left", joints, K, (64, 64), visible=annotated)
    np.testing.assert_allclose(hand.joints2d[0], [31.5, 31.5])
    assert hand.visible.tolist() == [True, False, False, False] + [True] * 17
    np.testing.assert_allclose(hand.bbox, [31.5, 31.5, 31.5, 31.5])  # visible points only
    with pytest.raises(ContractError, match=r"joints3d \[2\] are behind the camera"):
        hand.validate()
    joints[2] = [0.0, 0.0, 0.5]
    hand_from_joints3d("left", joints, K, (64, 64), visible=annotated).validate("x", (64, 64), own_camera=True)
