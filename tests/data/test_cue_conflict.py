import importlib
import math

import numpy as np
import pytest
import torch

from cnncourse import data
from cnncourse.data import cue_conflict, cue_decisions, shape_bias, texture_region

module = importlib.import_module("cnncourse.data.cue_conflict")  # the name cue_conflict is the function


@pytest.fixture(scope="module")
def sets():
    return {mode: cue_conflict(60, 32, mode=mode, seed=3) for mode in module.MODES}


def test_tensors_shapes_types_and_range(sets):
    for mode, s in sets.items():
        assert isinstance(s, data.CueSet)
        images, shape_labels, texture_labels = s  # unpacks like a tuple of three
        assert images.shape == (60, 3, 32, 32) and images.dtype == torch.float32, mode
        assert images.min() >= 0 and images.max() <= 1, mode
        assert shape_labels.shape == texture_labels.shape == (60,) and shape_labels.dtype == torch.int64
        assert set(shape_labels.tolist()) == {0, 1, 2}, mode
    assert data.TEXTURE_CLASSES == ("brick", "grass", "gravel")
    assert module.SHAPES == ("circle", "square", "triangle") == data.SHAPE_CLASSES[1:]


def test_seeded_and_deterministic(sets):
    again = cue_conflict(60, 32, mode="conflict", seed=3)
    for a, b in zip(sets["conflict"], again):
        assert torch.equal(a, b)
    other = cue_conflict(60, 32, mode="conflict", seed=4)
    assert not torch.equal(other.images, again.images)
    # image i depends on (seed, split, i) only: a shorter set is a prefix
    prefix = cue_conflict(7, 32, mode="conflict", seed=3)
    assert torch.equal(prefix.images, again.images[:7])


def test_labels_of_each_mode(sets):
    consistent, conflict, random = sets["consistent"], sets["conflict"], sets["random_texture"]
    assert torch.equal(consistent.shape_labels, consistent.texture_labels)
    assert (conflict.shape_labels != conflict.texture_labels).all()
    assert set(conflict.texture_labels.tolist()) == {0, 1, 2}
    assert (random.texture_labels == -1).all()
    # the modes share the shape and the background; only the texture changes
    assert torch.equal(consistent.shape_labels, conflict.shape_labels)
    assert torch.equal(consistent.shape_labels, random.shape_labels)
    same = (consistent.images == conflict.images).all(dim=1).float().mean(dim=(1, 2))
    assert (same > 0.2).all() and (same < 0.9).all()


def test_the_silhouette_is_textured_and_its_texture_is_the_class_texture(sets):
    """Inside the shape the fill varies (a texture); the three textures differ in their fine structure."""
    consistent = sets["consistent"]
    grey = consistent.images.mean(1)
    differences = (grey[:, 1:, :] - grey[:, :-1, :]).abs()  # vertical neighbours
    roughness = [differences[consistent.texture_labels == k].mean().item() for k in range(3)]
    assert min(roughness) > 0.03 and max(roughness) - min(roughness) > 0.005
    # grey textures on a plain grey background; only the fine grain differs between the channels
    assert (consistent.images[:, 0] - consistent.images[:, 2]).abs().max() <= 0.06 + 1e-6


def test_train_and_test_crop_from_disjoint_bands():
    for width in (96, 128, 333, 512, 640):
        train, test = texture_region("train", width), texture_region("test", width)
        assert train.start == 0 and train.stop < test.start and test.stop <= width
        assert test.stop - test.start >= 0.29 * width


@pytest.mark.parametrize("background", ["plain", "photos"])
def test_generated_crops_stay_in_their_band(monkeypatch, background):
    """With textures whose value is their column, every crop shows only columns of its split's band."""
    def ramps(names, side, grey):
        out = []
        for name in names:
            width = side + 5 * len(name)  # differently wide textures
            ramp = np.broadcast_to(np.arange(width, dtype=np.float32) / width, (side, width))
            out.append(np.repeat(ramp[None], 1 if grey else 3, axis=0).copy())
        return tuple(out)

    seen = []
    original = module._crop

    def spy(rng, image, size, split):
        crop = original(rng, image, size, split)
        width = image.shape[-1]
        seen.append((split, width, round(float(crop.min()) * width), round(float(crop.max()) * width)))
        return crop

    monkeypatch.setattr(module, "_textures", ramps)
    monkeypatch.setattr(module, "_crop", spy)
    for split in ("train", "test"):
        for mode in module.MODES:
            cue_conflict(20, 32, mode=mode, split=split, seed=1, background=background)
    assert {s for s, *_ in seen} == {"train", "test"}
    for split, width, low, high in seen:
        band = texture_region(split, width)
        assert band.start <= low and high < band.stop, (split, width, low, high)


def test_test_textures_are_new_crops():
    train = cue_conflict(40, 32, mode="consistent", split="train", seed=5)
    test = cue_conflict(40, 32, mode="consistent", split="test", seed=5)
    assert not torch.equal(train.images, test.images)  # the split is part of the seed: other images


def test_photo_background_is_colour_outside_the_shape():
    plain = cue_conflict(10, 32, mode="consistent", seed=2)
    photos = cue_conflict(10, 32, mode="consistent", seed=2, background="photos")
    assert torch.equal(plain.shape_labels, photos.shape_labels)
    assert (photos.images[:, 0] - photos.images[:, 2]).abs().amax() > 0.1


def test_dataset_pairs_images_with_the_chosen_label(sets):
    s = sets["conflict"]
    image, label = s.dataset()[4]
    assert torch.equal(image, s.images[4]) and label == s.shape_labels[4]
    assert s.dataset("texture")[4][1] == s.texture_labels[4]
    with pytest.raises(ValueError, match="labels must be 'shape' or 'texture'; got 'colour'"):
        s.dataset("colour")


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 0}, "n must be a positive int; got 0"),
    ({"size": 8}, "size must be an int >= 16; got 8"),
    ({"mode": "stylized"}, r"mode must be one of \('consistent', 'conflict', 'random_texture'\); got 'stylized'"),
    ({"split": "val"}, r"split must be one of \('train', 'test'\); got 'val'"),
    ({"background": "gratings"}, r"background must be one of \('plain', 'photos'\); got 'gratings'"),
    ({"radius": (0.3, 0.6)}, r"radius must be \(min, max\) with 0 < min <= max <= 0.5 .*got \(0.3, 0.6\)"),
    ({"texture_scale": 0.5}, r"texture_scale must be in \(0, 0.3\]; got 0.5"),
])
def test_bad_arguments_are_refused_with_what_was_expected_and_received(kwargs, message):
    with pytest.raises(ValueError, match="cue_conflict: " + message):
        cue_conflict(**{"n": 4, **kwargs})
    with pytest.raises(ValueError, match=r"texture_region: split must be one of \('train', 'test'\); got 'all'"):
        texture_region("all", 100)


# the metric


def test_shape_bias_extremes_and_what_it_leaves_out():
    shape, texture = [0, 1, 2, 0], [1, 2, 0, 2]
    assert shape_bias(shape, shape, texture) == 1.0  # every decision follows the shape
    assert shape_bias(texture, shape, texture) == 0.0  # every decision follows the texture
    # the second image is decided for a third class: left out, not counted against the shape
    assert shape_bias([0, 0, 2, 0], shape, texture) == 1.0
    assert cue_decisions([0, 0, 2, 0], shape, texture) == {"shape": 3, "texture": 0, "neither": 1, "conflict": 4}
    # consistent images (shape label == texture label) are not conflict images: left out
    assert shape_bias([0, 1, 1], [0, 1, 2], [0, 1, 1]) == 0.0
    assert cue_decisions([0, 1, 1], [0, 1, 2], [0, 1, 1])["conflict"] == 1
    assert math.isnan(shape_bias([2, 1], [0, 1], [1, 1]))  # no decision by either cue
    assert math.isnan(shape_bias([], [], []))


def test_shape_bias_takes_tensors_arrays_and_lists_on_any_device_alike():
    g = torch.Generator().manual_seed(0)
    shape = torch.randint(3, (50,), generator=g)
    texture = (shape + torch.randint(1, 3, (50,), generator=g)) % 3
    predictions = torch.randint(3, (50,), generator=g)
    expected = ((predictions == shape).sum() / ((predictions == shape) | (predictions == texture)).sum()).item()
    assert shape_bias(predictions, shape, texture) == pytest.approx(expected)
    assert shape_bias(predictions.numpy(), shape.tolist(), texture.int()) == pytest.approx(expected)


@pytest.mark.parametrize("args, message", [
    ((torch.zeros(4, 3, dtype=torch.long), [0] * 4, [1] * 4),
     r"predictions must be 1-D \(class indices: take logits.argmax\(1\)\); got shape \(4, 3\)"),
    (([0.0, 1.0], [0, 1], [1, 0]), "predictions must hold integer class indices; got dtype torch.float32"),
    (([0, 1], [0, 1, 2], [1, 0]), r"shape_labels must have one entry per prediction \(2\); got 3"),
    (([0, 1], [0, 1], [1]), r"texture_labels must have one entry per prediction \(2\); got 1"),
    (([0, 1], [0, 1], [-1, 0]), r"texture_labels must be class indices >= 0 .*got -1"),
])
def test_shape_bias_refuses_bad_input_naming_the_argument(args, message):
    with pytest.raises(ValueError, match="shape_bias: " + message):
        shape_bias(*args)
