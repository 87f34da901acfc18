"""Backbone: torchvision's parameter names/shapes, strict local loading, clear errors, norms."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from smhr.errors import ModelFileError
from smhr.model.backbone import FrozenBatchNorm2d, build_backbone

# torchvision's documented structure, written independently of smhr.model.backbone:
# (block kind, blocks per stage); BasicBlock expansion 1, Bottleneck expansion 4.
ARCH = {"resnet18": ("basic", (2, 2, 2, 2)), "resnet34": ("basic", (3, 4, 6, 3)),
        "resnet50": ("bottleneck", (3, 4, 6, 3))}
# Parameter counts (with the 1000-class fc) that torchvision's model docs list.
TORCHVISION_PARAMS = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032}


def _bn(prefix: str, c: int) -> dict[str, tuple[int, ...]]:
    return {f"{prefix}.weight": (c,), f"{prefix}.bias": (c,), f"{prefix}.running_mean": (c,),
            f"{prefix}.running_var": (c,), f"{prefix}.num_batches_tracked": ()}


def torchvision_keys(name: str) -> dict[str, tuple[int, ...]]:
    """Every state-dict key of torchvision's ``resnetXX()`` with its shape."""
    kind, layers = ARCH[name]
    exp = 1 if kind == "basic" else 4
    keys = {"conv1.weight": (64, 3, 7, 7), **_bn("bn1", 64)}
    cin = 64
    for s, (planes, n) in enumerate(zip((64, 128, 256, 512), layers), start=1):
        for b in range(n):
            p = f"layer{s}.{b}"
            if kind == "basic":
                keys[f"{p}.conv1.weight"] = (planes, cin, 3, 3)
                keys.update(_bn(f"{p}.bn1", planes))
                keys[f"{p}.conv2.weight"] = (planes, planes, 3, 3)
                keys.update(_bn(f"{p}.bn2", planes))
            else:
                keys[f"{p}.conv1.weight"] = (planes, cin, 1, 1)
                keys.update(_bn(f"{p}.bn1", planes))
                keys[f"{p}.conv2.weight"] = (planes, planes, 3, 3)
                keys.update(_bn(f"{p}.bn2", planes))
                keys[f"{p}.conv3.weight"] = (planes * 4, planes, 1, 1)
                keys.update(_bn(f"{p}.bn3", planes * 4))
            if b == 0 and (s > 1 or cin != planes * exp):
                keys[f"{p}.downsample.0.weight"] = (planes * exp, cin, 1, 1)
                keys.update(_bn(f"{p}.downsample.1", planes * exp))
            cin = planes * exp
    keys["fc.weight"] = (1000, cin)
    keys["fc.bias"] = (1000,)
    return keys


def fake_checkpoint(name: str, path: Path, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    state = {}
    for k, shape in torchvision_keys(name).items():
        if k.endswith("num_batches_tracked"):
            state[k] = torch.tensor(7)
        elif k.endswith("running_var"):
            state[k] = torch.rand(shape, generator=g) + 0.5
        else:
            state[k] = torch.randn(shape, generator=g)
    torch.save(state, path)
    return state


@pytest.mark.parametrize("name", sorted(ARCH))
def test_state_dict_matches_torchvision_layout(name: str) -> None:
    expected = torchvision_keys(name)
    n_params = sum(torch.Size(s).numel() for k, s in expected.items()
                   if not k.split(".")[-1] in ("running_mean", "running_var", "num_batches_tracked"))
    assert n_params == TORCHVISION_PARAMS[name]  # the independent key list is right
    net = build_backbone(name, width=1.0)
    got = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    without_fc = {k: s for k, s in expected.items() if not k.startswith("fc.")}
    assert got == without_fc


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
@pytest.mark.parametrize("norm", ["batch", "frozen_batch"])
def test_torchvision_file_loads_strictly(tmp_path: Path, name: str, norm: str) -> None:
    path = tmp_path / f"{name}.pth"
    state = fake_checkpoint(name, path)
    net = build_backbone(name, width=1.0, norm=norm, pretrained=path)
    own = net.state_dict()
    for k, v in own.items():
        torch.testing.assert_close(v, state[k])
    if norm == "frozen_batch":
        assert isinstance(net.bn1, FrozenBatchNorm2d)


def test_frozen_batch_norm_matches_eval_batch_norm() -> None:
    torch.manual_seed(0)
    bn = torch.nn.BatchNorm2d(5).eval()
    bn.running_mean.normal_()
    bn.running_var.uniform_(0.5, 2.0)
    bn.weight.data.normal_()
    bn.bias.data.normal_()
    frozen = FrozenBatchNorm2d(5)
    frozen.load_state_dict(bn.state_dict())
    x = torch.randn(2, 5, 4, 4)
    torch.testing.assert_close(frozen(x), bn(x))
    assert not list(frozen.parameters())  # nothing trains


def test_wrong_architecture_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "resnet34.pth"
    fake_checkpoint("resnet34", path)
    with pytest.raises(ModelFileError, match=r"resnet34\.pth.*not a checkpoint of this backbone.*unexpected"):
        build_backbone("resnet18", pretrained=path)
    path50 = tmp_path / "resnet50.pth"
    fake_checkpoint("resnet50", path50)
    with pytest.raises(ModelFileError, match="wrong shape"):
        build_backbone("resnet18", pretrained=path50)


def test_truncated_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "r18.pth"
    fake_checkpoint("resnet18", path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match=r"r18\.pth: not a readable"):
        build_backbone("resnet18", pretrained=path)
    with pytest.raises(ModelFileError, match="not found"):
        build_backbone("resnet18", pretrained=tmp_path / "absent.pth")
    torch.save({"model": {"a": torch.zeros(1)}}, path)
    with pytest.raises(ModelFileError, match="plain state dict"):
        build_backbone("resnet18", pretrained=path)


def test_pretrained_needs_width_one_and_batch_statistics(tmp_path: Path) -> None:
    path = tmp_path / "r18.pth"
    fake_checkpoint("resnet18", path)
    with pytest.raises(ModelFileError, match="width 1.0"):
        build_backbone("resnet18", width=0.5, pretrained=path)
    with pytest.raises(ModelFileError, match="norm 'group'"):
        build_backbone("resnet18", norm="group", pretrained=path)


@pytest.mark.parametrize("norm", ["batch", "frozen_batch", "group"])
def test_features_and_channels_at_small_width(norm: str) -> None:
    net = build_backbone("resnet18", width=0.25, norm=norm)
    feats = net(torch.randn(2, 3, 64, 64))
    assert [f.shape[1] for f in feats] == list(net.channels) == [16, 32, 64, 128]
    assert [f.shape[-1] for f in feats] == [16, 8, 4, 2]
    net50 = build_backbone("resnet50", width=0.25)
    assert net50.channels == (64, 128, 256, 512)
