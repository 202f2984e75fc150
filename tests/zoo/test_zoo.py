"""The zoo's cache: trained once, loaded after, retrained when anything that changes the weights changes,
never loading a corrupt file, atomic writes, clear errors. A tiny recipe stands in for the real ones."""

import time

import pytest
import torch
from torch import nn

from cnncourse import zoo
from cnncourse.zoo.recipes import RECIPES, Recipe

CALLS = []


def _train_tiny(model, settings, progress):
    CALLS.append(settings)
    with torch.no_grad():
        model.weight.add_(settings["step"])
    return {"test_accuracy": 0.5}


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNCOURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CNNCOURSE_PROFILE", "quick")
    CALLS.clear()
    recipe = Recipe("a 3 -> 2 linear layer", lambda: nn.Linear(3, 2), _train_tiny,
                    {"step": {"quick": 1.0, "full": 2.0}}, seed=7)
    monkeypatch.setitem(RECIPES, "tiny", recipe)
    return recipe


def test_trained_once_then_loaded_with_its_info(tiny, tmp_path):
    first = zoo.load("tiny", device="cpu")
    assert len(CALLS) == 1 and not first.training
    assert first.zoo_info["test_accuracy"] == 0.5 and first.zoo_info["settings"] == {"step": 1.0}
    start = time.perf_counter()
    second = zoo.load("tiny", device="cpu")
    assert time.perf_counter() - start < 1.0 and len(CALLS) == 1  # from the cache
    assert torch.equal(first.weight, second.weight)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(
        [zoo.path("tiny", "quick", "cpu").name, zoo.path("tiny", "quick", "cpu").with_suffix(".sha256").name])


def test_training_is_seeded_and_deterministic(tiny, tmp_path, monkeypatch):
    a = zoo.load("tiny", device="cpu").weight.clone()
    monkeypatch.setenv("CNNCOURSE_CACHE", str(tmp_path / "other"))
    assert torch.equal(zoo.load("tiny", device="cpu").weight, a) and len(CALLS) == 2


def test_the_key_covers_settings_profile_and_device(tiny, monkeypatch):
    zoo.load("tiny", device="cpu")
    monkeypatch.setenv("CNNCOURSE_PROFILE", "full")  # another profile: other settings, other weights
    assert zoo.load("tiny", device="cpu").zoo_info["settings"] == {"step": 2.0} and len(CALLS) == 2
    assert zoo.key("tiny", "quick", "cpu") != zoo.key("tiny", "quick", "cuda")
    monkeypatch.setitem(RECIPES, "tiny", Recipe(tiny.doc, tiny.build, tiny.train, {"step": 3.0}))
    zoo.load("tiny", device="cpu")  # an edited recipe trains again
    assert len(CALLS) == 3


def test_a_corrupt_or_truncated_file_is_retrained_with_a_warning(tiny):
    zoo.load("tiny", device="cpu")
    target = zoo.path("tiny", "quick", "cpu")
    target.write_bytes(target.read_bytes()[:-20])  # truncated
    with pytest.warns(UserWarning, match="does not match its checksum"):
        model = zoo.load("tiny", device="cpu")
    assert len(CALLS) == 2 and model.zoo_info["test_accuracy"] == 0.5
    assert zoo.load("tiny", device="cpu") is not None and len(CALLS) == 2  # the rewrite is valid


def test_train_false_on_an_empty_cache_and_unknown_names_are_clear_errors(tiny):
    with pytest.raises(FileNotFoundError, match=r"'tiny' is not trained for the quick profile on cpu.*zoo.load\('tiny'\)"):
        zoo.load("tiny", train=False, device="cpu")
    with pytest.raises(KeyError, match="unknown network 'nope'; the zoo has .*alexnet_shapes"):
        zoo.load("nope")


def test_writes_are_atomic(tiny, monkeypatch):
    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(zoo.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        zoo.load("tiny", device="cpu")
    assert not any(zoo.cache_dir().iterdir())  # no partial file, no temporary left behind


def test_the_zoo_lists_its_networks():
    assert {"lenet5", "alexnet_shapes", "alexnet_shapes_untrained"} <= set(zoo.list())
    assert all(isinstance(line, str) and line for line in zoo.describe().values())


def test_every_segmenter_is_registered_with_one_data_set_and_builds_for_its_size():
    import torch

    from cnncourse.zoo.segmenters import SEGMENTERS
    assert set(SEGMENTERS) <= set(zoo.list())
    for profile in ("quick", "full"):
        data_keys = {"size", "train_scenes", "test_scenes", "data_seed", "objects", "radius"}
        shared = {name: {k: zoo.settings(name, profile)[k] for k in data_keys} for name in SEGMENTERS}
        assert len({repr(v) for v in shared.values()}) == 1, "every segmenter trains on the same scenes"
    size = zoo.settings("fcn8s_shapes", "quick")["size"]
    for name, recipe in SEGMENTERS.items():
        assert recipe.build().eval()(torch.zeros(1, 3, size, size)).shape == (1, 4, size, size), name


def test_the_command_line_trains_then_loads_and_prints_the_scores(tiny, capsys):
    from cnncourse.zoo.__main__ import main

    main(["tiny"])
    main(["tiny"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("profile quick, cache ") and len(CALLS) == 1  # the second run loaded it
    assert [line.split()[0] for line in lines if not line.startswith("profile")] == ["tiny", "tiny"]
    assert "test_accuracy 0.500" in lines[1]
    with pytest.raises(SystemExit):
        main(["no_such_net"])
    assert "unknown network(s) ['no_such_net']" in capsys.readouterr().err


def test_every_detector_is_registered_scored_on_one_test_set_and_detects():
    import torch

    from cnncourse.detection.training import needs_proposals
    from cnncourse.zoo.detectors import DETECTORS
    assert set(DETECTORS) <= set(zoo.list())
    for profile in ("quick", "full"):
        tests = {(zoo.settings(n, profile)["test_scenes"], zoo.settings(n, profile)["data_seed"]) for n in DETECTORS}
        assert len(tests) == 1, "every detector is scored on the same test scenes"
    images, boxes = torch.rand(2, 3, 64, 64), [torch.tensor([[4.0, 4, 30, 30]])] * 2
    for name, recipe in DETECTORS.items():
        model = recipe.build().eval()
        with torch.no_grad():
            out = model(images, proposals=boxes) if needs_proposals(model) else model(images)
        assert len(out) == 2 and all({"boxes", "scores", "labels"} <= set(r) for r in out), name


def test_compare_times_each_detector_and_charges_selective_search_to_those_that_read_it():
    import torch

    from cnncourse.detection import YOLO
    from cnncourse.detection.training import macs_per_image
    from cnncourse.detection.two_stage import two_stage
    from cnncourse.zoo.detectors import compare, format_table

    models = {"Fast R-CNN": two_stage("fast_rcnn", widths=(8, 16, 16), representation=32), "YOLO": YOLO()}
    for k, model in enumerate(models.values()):
        model.zoo_info = {"map50": 0.5 + k / 10, "map_coco": 0.25}
    images = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    table = compare(models, images)
    fast, yolo = table["Fast R-CNN"], table["YOLO"]
    assert fast["search"] > 0 and yolo["search"] == 0 and (fast["map50"], yolo["map50"]) == (0.5, 0.6)
    for row in table.values():
        assert row["network"] > 0 and row["total"] == row["search"] + row["network"]
    assert yolo["macs"] == macs_per_image(models["YOLO"], (64, 64))
    assert fast["macs"] > macs_per_image(models["Fast R-CNN"], (64, 64), 0)  # the head, once per proposal
    text = format_table(table).splitlines()
    assert len(text) == 3 and text[1].split()[:3] == ["Fast", "R-CNN", "0.500"]
