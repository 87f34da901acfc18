import pytest

from smhr.cli import main
from smhr.data.datasets.check import DatasetOptions, check_dataset, open_dataset
from smhr.errors import DatasetError
from tests.data.fixtures_freihand import write_freihand_fixture
from tests.data.fixtures_ho3d import write_ho3d_fixture
from tests.data.fixtures_interhand import write_interhand_fixture
from tests.data.fixtures_rhd import write_rhd_fixture

WRITERS = {
    "freihand": lambda root: write_freihand_fixture(root, "training", n=3, versions=1),
    "ho3d": lambda root: write_ho3d_fixture(root, "train", "v3"),
    "interhand": lambda root: write_interhand_fixture(root, "train"),
    "rhd": lambda root: write_rhd_fixture(root, "training"),
}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_clean_fixture_passes(tmp_path, name):
    WRITERS[name](tmp_path)
    report = check_dataset(name, tmp_path, progress=False)
    assert report.ok, report.problems
    assert report.checked == len(open_dataset(name, tmp_path)) and report.hands > 0


def test_every_problem_is_listed_with_its_fix(tmp_path):
    write_freihand_fixture(tmp_path, "training", n=4, versions=1)
    (tmp_path / "training" / "rgb" / "00000000.jpg").write_bytes(b"\xff\xd8 truncated")
    (tmp_path / "training" / "rgb" / "00000002.jpg").unlink()
    (tmp_path / "training" / "mask" / "00000003.jpg").unlink()
    report = check_dataset("freihand", tmp_path, progress=False)
    assert [p.where for p in report.problems] == ["sample 0", "sample 2", "sample 3"]
    assert "00000000.jpg: unreadable or corrupt image" in report.problems[0].message
    assert "00000002.jpg: image file not found" in report.problems[1].message
    assert "mask/00000003.jpg" in report.problems[2].message and "load_mask=False" in report.problems[2].message


def test_malformed_annotation_is_reported_not_raised(tmp_path):
    write_rhd_fixture(tmp_path, "training")
    (tmp_path / "training" / "anno_training.pickle").write_bytes(b"not a pickle")
    report = check_dataset("rhd", tmp_path, progress=False)
    assert not report.ok and "anno_training.pickle: unreadable pickle" in report.problems[0].message
    assert (
        check_dataset("rhd", tmp_path / "nope", progress=False)
        .problems[0]
        .message.endswith("pass the dataset's root folder")
    )


def test_options_reach_the_adapter(tmp_path):
    write_ho3d_fixture(tmp_path, "evaluation", "v2")
    ds = open_dataset("ho3d", tmp_path, DatasetOptions(split="evaluation", version="v2"))
    assert ds.split == "evaluation" and ds.version == "v2"
    with pytest.raises(DatasetError, match="unknown dataset"):
        open_dataset("coco", tmp_path)


@pytest.mark.pipeline
def test_cli_exit_status_and_output(tmp_path, capsys):
    write_interhand_fixture(tmp_path, "train")
    assert main(["data", "check", "--dataset", "interhand", "--root", str(tmp_path)]) == 0
    assert "4 samples, 5 hands checked: OK" in capsys.readouterr().out
    (tmp_path / "images" / "train" / "Capture0" / "0001_test_seq" / "cam400263" / "image1001.jpg").unlink()
    assert main(["data", "check", "--dataset", "interhand", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "sample 1:" in out and "image1001.jpg: image file not found" in out and "1 problem(s)" in out
