from pathlib import Path

import pytest
import torch
import torchvision

from cnncourse import models


def test_unknown_model_lists_the_available_ones():
    with pytest.raises(KeyError, match="unknown model 'resnet51'; available: .*resnet50.*vgg16"):
        models.get("resnet51")


@pytest.mark.parametrize("name", models.list_models())
def test_every_model_takes_num_classes_and_in_channels(name):
    size = 32 if name.startswith("lenet") else 96 if name.startswith("alexnet") else 64
    model = models.get(name, num_classes=7, in_channels=1).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 1, size, size)).shape == (1, 7)


def test_bad_state_dict_names_missing_unexpected_and_misshaped_keys():
    model = models.get("resnet18")
    state = torchvision.models.resnet18(num_classes=10).state_dict()
    state.pop("layer1.0.conv1.weight")
    state["extra.weight"] = torch.zeros(1)
    with pytest.raises(ValueError) as info:
        models.check_state_dict(model, state)
    message = str(info.value)
    assert "missing keys: layer1.0.conv1.weight" in message and "unexpected keys: extra.weight" in message
    assert "fc.weight: model (1000, 512), file (10, 512)" in message


def test_load_pretrained_from_a_local_file(tmp_path):
    reference = torchvision.models.resnet18()
    torch.save(reference.state_dict(), tmp_path / "resnet18.pth")
    model = models.load_pretrained(models.get("resnet18"), "resnet18", tmp_path / "resnet18.pth")
    assert torch.equal(model.fc.weight, reference.fc.weight)


def test_load_pretrained_offline_says_where_to_put_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))

    def offline(self, *args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(torchvision.models._api.WeightsEnum, "get_state_dict", offline)
    with pytest.raises(FileNotFoundError, match=r"download from torchvision failed .*put it at .*resnet18-.*\.pth"):
        models.load_pretrained(models.get("resnet18"), "resnet18")
    with pytest.raises(FileNotFoundError, match="no file at"):
        models.load_pretrained(models.get("resnet18"), "resnet18", tmp_path / "missing.pth")
    with pytest.raises(ValueError, match="no torchvision twin"):
        models.load_pretrained(models.get("bagnet9"), "bagnet9")


def test_pretrained_file_finds_the_hub_cache_and_never_downloads(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setattr(torchvision.models._api.WeightsEnum, "get_state_dict",
                        lambda *args, **kwargs: pytest.fail("pretrained_file must not download"))
    assert models.pretrained_file("resnet18") is None
    reference = torchvision.models.resnet18()
    target = tmp_path / "checkpoints" / Path(torchvision.models.ResNet18_Weights.DEFAULT.url).name
    target.parent.mkdir()
    torch.save(reference.state_dict(), target)
    assert models.pretrained_file("resnet18") == target
    model = models.load_pretrained(models.get("resnet18"), "resnet18")  # from the cache, no download
    assert torch.equal(model.fc.weight, reference.fc.weight)
    with pytest.raises(ValueError, match="no torchvision twin"):
        models.pretrained_file("bagnet9")


@pytest.mark.parametrize("name, minimum", [("vgg16", 32), ("alexnet", 63), ("bagnet9", 9)])
def test_too_small_input_states_the_minimum_size(name, minimum):
    assert models.min_input_size(name) == minimum
    model = models.get(name, num_classes=3).eval()
    with pytest.raises(ValueError, match=f"{name}: input of {minimum - 1}x{minimum - 1} is too small; this network needs at least {minimum}x{minimum}"):
        model(torch.zeros(1, 3, minimum - 1, minimum - 1))
    with torch.no_grad():
        assert model(torch.zeros(1, 3, minimum, minimum)).shape == (1, 3)


def test_models_built_by_get_still_pickle(tmp_path):
    model = models.get("resnet18", num_classes=2)
    torch.save(model, tmp_path / "m.pt")
    again = torch.load(tmp_path / "m.pt", weights_only=False)
    x = torch.randn(1, 3, 32, 32)
    torch.testing.assert_close(again.eval()(x), model.eval()(x))


def test_every_network_accepts_its_native_input_size():
    # benchmarks/kernels.py runs each network at the size its registry entry names
    from cnncourse.models.registry import get_entry

    sizes = {name: get_entry(name).input_size for name in models.list_models()}
    assert sizes["lenet5"] == 32 and sizes["cifar_resnet20"] == 32 and sizes["alexnet_mini"] == 64
    assert sizes["alexnet_paper"] == 227 and sizes["resnet50"] == 224
    for name, size in sizes.items():  # shapes only, on the meta device
        with torch.device("meta"):
            model = models.get(name).eval()
        channels = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d)).in_channels
        with torch.no_grad():
            logits = model(torch.empty(2, channels, size, size, device="meta"))
        assert logits.dim() == 2 and logits.shape[0] == 2, name
