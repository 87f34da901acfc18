"""Pickle safety: crafted files are refused before their payload runs; real data pickles still load."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from smhr import safe_pickle
from smhr.data.datasets.ho3d import HO3D, read_meta
from smhr.data.datasets.imageio import read_pickle
from smhr.data.datasets.rhd import RHD
from smhr.errors import DatasetError, ModelFileError
from smhr.hand.model_file import load_model_data
from tests.data.fixtures_ho3d import write_ho3d_fixture
from tests.data.fixtures_rhd import write_rhd_fixture
from tests.py2_pickle import Call, dumps_py2, write_py2


def _payloads(marker: Path) -> dict[str, Call]:
    """Each creates ``marker`` when a plain unpickler loads it."""
    code = f"open({str(marker)!r}, 'w').close()"
    return {
        "os.system": Call("os", "system", (f"touch {marker}",)),
        "posix.system": Call("posix", "system", (f"touch {marker}",)),
        "builtins.eval": Call("builtins", "eval", (code,)),
        "__builtin__.eval": Call("__builtin__", "eval", (code,)),
        "builtins.exec": Call("builtins", "exec", (code,)),
        "subprocess.Popen": Call("subprocess", "Popen", (["touch", str(marker)],)),
        "numpy.testing._private.utils.runstring": Call("numpy.testing._private.utils", "runstring", (code, {})),
    }


PAYLOADS = sorted(_payloads(Path("m")))


@pytest.mark.parametrize("name", PAYLOADS)
def test_payloads_are_live(name, tmp_path):
    """Control: a plain ``pickle.loads`` of each payload does run it (so the refusals below mean something)."""
    marker = tmp_path / "ran"
    result = pickle.loads(dumps_py2({"K": _payloads(marker)[name]}), encoding="latin1")
    if hasattr(result["K"], "wait"):
        result["K"].wait()
    assert marker.exists()


def _rhd_with(payload: Call, root: Path) -> None:
    write_rhd_fixture(root, "training")
    anno = {0: {"xyz": payload, "uv_vis": np.zeros((42, 3)), "K": np.eye(3)}}
    write_py2(anno, root / "training" / "anno_training.pickle")
    RHD(root, "training")


def _ho3d_with(payload: Call, root: Path) -> None:
    write_ho3d_fixture(root, "train", "v3")
    path = next((root / "train").glob("*/meta/*.pkl"))
    write_py2({"camMat": payload, "handJoints3D": np.zeros((21, 3))}, path)
    read_meta(path)


def _model_with(payload: Call, root: Path) -> None:
    load_model_data(write_py2({"v_template": payload}, root / "MANO_RIGHT.pkl"))


@pytest.mark.parametrize("name", PAYLOADS)
@pytest.mark.parametrize(("target", "error", "read"), [
    ("rhd", DatasetError, _rhd_with), ("ho3d", DatasetError, _ho3d_with), ("model", ModelFileError, _model_with),
])
def test_crafted_pickle_is_refused_and_does_not_run(name, target, error, read, tmp_path):
    marker = tmp_path / "ran"
    root = tmp_path / target
    root.mkdir()
    refused = rf"\.(pickle|pkl): refused to load {name.replace('.', '[.]')}: .*may hold only"
    with pytest.raises(error, match=refused) as info:
        read(_payloads(marker)[name], root)
    assert "\n" not in str(info.value)
    assert not marker.exists()


def test_only_latin1_codecs_are_allowed(tmp_path):
    path = tmp_path / "anno.pickle"
    write_py2({"x": Call("_codecs", "encode", ("abc", "rot13"))}, path)
    with pytest.raises(DatasetError, match=r"refused to load _codecs\.encode\(encoding='rot13'\)"):
        read_pickle(path)


def test_python2_rhd_annotations_load_unchanged(tmp_path):
    write_rhd_fixture(tmp_path, "training")
    python3 = RHD(tmp_path, "training")
    path = tmp_path / "training" / "anno_training.pickle"
    anno = pickle.loads(path.read_bytes())  # our own fixture, written by Python 3
    write_py2(anno, path)  # the same content as Python 2 wrote the official file
    assert b"numpy.core.multiarray" in path.read_bytes()
    python2 = RHD(tmp_path, "training")
    assert python2.ids == python3.ids
    for sid in python2.ids:
        for key, value in python3.records[sid].items():
            np.testing.assert_array_equal(python2.records[sid][key], value)


def test_python2_ho3d_meta_loads_unchanged(tmp_path):
    write_ho3d_fixture(tmp_path, "train", "v3")
    before = HO3D(tmp_path, "train", "v3")
    expected = [before[i] for i in range(len(before))]
    for path in (tmp_path / "train").glob("*/meta/*.pkl"):
        meta = pickle.loads(path.read_bytes())
        meta["objName"] = "021_bleach_cleanser"
        meta["scale"] = np.float64(0.25)
        write_py2(meta, path)
        back = read_meta(path)
        assert back["objName"] == "021_bleach_cleanser" and back["scale"] == np.float64(0.25)
    after = HO3D(tmp_path, "train", "v3")
    for old, new in zip(expected, (after[i] for i in range(len(after)))):
        for a, b in zip(old.hands, new.hands):
            np.testing.assert_array_equal(a.joints3d, b.joints3d)
            np.testing.assert_array_equal(a.K, b.K)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_python3_pickles_of_plain_data_load(protocol):
    data = {"a": np.arange(12, dtype=np.float32).reshape(3, 4), "b": b"\x00\xff", "c": [1, 2.5, None, "x"],
            "d": (True, np.int64(3)), "e": {1, 2}, "f": np.zeros((2, 2), dtype=np.uint8)}
    back = safe_pickle.load(pickle.dumps(data, protocol=protocol))
    assert back.keys() == data.keys()
    for key in ("b", "c", "d", "e"):
        assert back[key] == data[key]
    for key in ("a", "f"):
        np.testing.assert_array_equal(back[key], data[key])
        assert back[key].dtype == data[key].dtype


def test_numpy_names_beyond_reconstruction_are_refused():
    for module, name in (("numpy", "load"), ("numpy.core.multiarray", "frombuffer"), ("numpy.lib.npyio", "load"),
                         ("builtins", "getattr"), ("copyreg", "_reconstructor")):
        with pytest.raises(safe_pickle.RefusedClassError, match=f"{module}.{name}"):
            safe_pickle.load(dumps_py2(Call(module, name, ())))
