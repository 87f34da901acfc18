import numpy as np

from smhr.hand.joints import (
    HO3D_JOINT_NAMES,
    HO3D_TO_OPENPOSE,
    MANO_JOINT_NAMES,
    OPENPOSE_BONES,
    OPENPOSE_JOINT_NAMES,
    OPENPOSE_PARENTS,
    OPENPOSE_TO_HO3D,
)


def test_openpose_order_is_wrist_then_fingers_base_to_tip():
    assert OPENPOSE_JOINT_NAMES[0] == "wrist"
    assert OPENPOSE_JOINT_NAMES[1:5] == ("thumb1", "thumb2", "thumb3", "thumb4")
    assert OPENPOSE_JOINT_NAMES[17:21] == ("pinky1", "pinky2", "pinky3", "pinky4")


def test_mano_native_order():
    # MANO's kinematic tree: index, middle, pinky, ring, thumb.
    assert MANO_JOINT_NAMES[1] == "index1" and MANO_JOINT_NAMES[7] == "pinky1" and MANO_JOINT_NAMES[13] == "thumb1"
    assert HO3D_JOINT_NAMES[16:] == ("thumb4", "index4", "middle4", "ring4", "pinky4")


def test_ho3d_permutation_known_value_and_inverse():
    # The widely used HO3D/MANO-with-tips -> OpenPose mapping.
    expected = [0, 13, 14, 15, 16, 1, 2, 3, 17, 4, 5, 6, 18, 10, 11, 12, 19, 7, 8, 9, 20]
    assert HO3D_TO_OPENPOSE.tolist() == expected
    x = np.arange(21)
    assert (x[HO3D_TO_OPENPOSE][OPENPOSE_TO_HO3D] == x).all()


def test_skeleton_tree():
    assert OPENPOSE_PARENTS[0] == -1 and len(OPENPOSE_BONES) == 20
    for parent, child in OPENPOSE_BONES:
        assert parent < child
        # Every bone stays within one finger or starts at the wrist.
        assert parent == 0 or (parent - 1) // 4 == (child - 1) // 4
