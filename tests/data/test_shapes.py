import pytest
import torch

from cnncourse import data
from cnncourse.data import SHAPE_CLASSES, collate, shapes


@pytest.fixture(scope="module")
def scenes():
    return shapes(n=200, size=64, seed=3)


def test_sample_fields_shapes_and_types(scenes):
    s = scenes[0]
    k = len(s["labels"])
    assert s["image"].shape == (3, 64, 64) and s["image"].dtype == torch.float32
    assert s["boxes"].shape == (k, 4) and s["masks"].shape == (k, 64, 64) and s["masks"].dtype == torch.bool
    assert s["semantic"].shape == (64, 64) and s["keypoints"].shape == (k, 4, 3)


def test_deterministic_by_seed_and_index(scenes):
    again = shapes(n=200, size=64, seed=3)
    for i in (0, 17, 199):
        for key, value in scenes[i].items():
            assert torch.equal(value, again[i][key])
    other = shapes(n=200, size=64, seed=4)
    assert not torch.equal(scenes[5]["image"], other[5]["image"])


def test_targets_are_consistent_with_each_other(scenes):
    seen_classes, occluded = set(), 0
    for i in range(100):
        s = scenes[i]
        masks, boxes, labels = s["masks"], s["boxes"], s["labels"]
        assert 1 <= len(labels) <= 4
        assert (masks.sum(0) <= 1).all(), "instance masks overlap"
        for m, box, label in zip(masks, boxes, labels):
            ys, xs = m.nonzero(as_tuple=True)
            assert box.tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
            assert (s["semantic"][m] == label).all()
        assert ((s["semantic"] > 0) == masks.any(0)).all()
        seen_classes.update(labels.tolist())
        visible = s["keypoints"][..., 2]
        occluded += int((visible == 0).sum())
        kx, ky = s["keypoints"][..., 0], s["keypoints"][..., 1]
        assert ((kx >= 0) & (kx <= 64) & (ky >= 0) & (ky <= 64)).all()
    assert seen_classes == {1, 2, 3} and len(SHAPE_CLASSES) == 4
    assert occluded > 0, "no scene exercises occlusion"


def test_objects_differ_from_background_and_vary(scenes):
    colours = []
    for i in range(30):
        s = scenes[i]
        for m in s["masks"]:
            colours.append(s["image"][:, m].mean(1))
    assert torch.stack(colours).std(0).min() > 0.15


def test_collate_keeps_variable_numbers_of_objects(scenes):
    images, targets = collate([scenes[i] for i in range(4)])
    assert images.shape == (4, 3, 64, 64)
    assert [len(t["labels"]) for t in targets] == [len(scenes[i]["labels"]) for i in range(4)]


@pytest.mark.parametrize("kwargs, words", [(dict(n=0), "n must"), (dict(size=8), "size must"), (dict(objects=(3, 1)), "objects must")])
def test_bad_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        shapes(**kwargs)


def test_index_out_of_range(scenes):
    with pytest.raises(IndexError, match="index 200 out of range for 200"):
        scenes[200]


def test_photo_backgrounds_and_single_objects():
    scenes = data.shapes(n=6, size=48, objects=(1, 1), background="photos", radius=(0.2, 0.3), seed=3)
    first = scenes[0]
    assert first["image"].shape == (3, 48, 48) and len(first["labels"]) == 1
    assert torch.equal(scenes[2]["image"], data.shapes(n=6, size=48, objects=(1, 1), background="photos",
                                                       radius=(0.2, 0.3), seed=3)[2]["image"])  # deterministic
    r = (first["boxes"][0, 2] - first["boxes"][0, 0]) / 2
    assert 0.2 * 48 * 0.5 <= r <= 0.3 * 48 + 1  # visible extent within the radius range
    single = data.single_objects(10, size=48, seed=1)
    assert single.images.shape == (10, 3, 48, 48) and single.masks.shape == (10, 48, 48)
    assert set(single.labels.tolist()) <= {0, 1, 2}
    assert all(single.masks[i].any() for i in range(10))
    images, labels = single.dataset()[0]
    assert images.shape == (3, 48, 48) and labels.dim() == 0
    image, (label, box) = single.localization_dataset()[4]
    assert label == single.labels[4] and torch.equal(box, single.boxes[4])
    ys, xs = single.masks[4].nonzero().T
    assert box.tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]  # the box encloses the mask
    with pytest.raises(ValueError, match="background must be one of .*got 'sky'"):
        data.shapes(background="sky")
    with pytest.raises(ValueError, match=r"radius must be \(min, max\) .*got \(0.3, 0.2\)"):
        data.shapes(radius=(0.3, 0.2))


def test_segmentation_scenes_stack_images_and_their_semantic_labels():
    pairs = data.segmentation_scenes(5, size=32, seed=4)
    images, labels = pairs.tensors
    assert images.shape == (5, 3, 32, 32) and labels.shape == (5, 32, 32) and labels.dtype == torch.int64
    assert torch.equal(labels[2], data.shapes(5, size=32, seed=4)[2]["semantic"])


def test_contains_shape_labels_whether_the_class_is_in_the_scene():
    from cnncourse.data.shapes import Shapes

    images, labels = data.contains_shape(40, size=48, seed=3, shape="square").tensors
    assert images.shape == (40, 3, 48, 48) and labels.dtype == torch.int64
    scenes = Shapes(n=40, size=48, objects=(2, 3), seed=3, background="photos", radius=(0.15, 0.25))
    expected = [int((scenes[i]["labels"] == 2).any()) for i in range(40)]
    assert labels.tolist() == expected and 0 < sum(expected) < 40
    torch.testing.assert_close(images[5], scenes[5]["image"])
    with pytest.raises(ValueError, match="contains_shape: shape must be one of .*'triangle'.*; got 'star'"):
        data.contains_shape(4, shape="star")


def test_layout_says_what_occlusion_hides():
    from cnncourse.data.shapes import Shapes

    scenes = Shapes(n=30, objects=(2, 4), seed=5)
    hidden_somewhere = 0
    for i in range(30):
        sample, layout = scenes[i], scenes.layout(i)
        k = len(sample["labels"])
        assert layout["areas"].shape == (k,) and layout["occludes"].shape == (k, k)
        assert not torch.tril(layout["occludes"].T, diagonal=0).any(), "only a later object covers an earlier one"
        visible = sample["masks"].sum((1, 2)).float()
        assert (layout["areas"] >= visible).all()
        covered = layout["occludes"].any(0)  # someone covers it
        assert torch.equal(layout["areas"] > visible, covered)
        hidden_somewhere += int(covered.any())
    assert hidden_somewhere > 3
