"""selective_search: proposals that cover the objects, the whole image at the top of the hierarchy, seeded order."""

import pytest
import torch

from cnncourse import data
from cnncourse.boxes import box_iou
from cnncourse.detection import selective_search
from cnncourse.detection.selective_search import opencv_selective_search, proposal_recall


def two_rectangles():
    image = torch.tensor([0.2, 0.5, 0.3])[:, None, None].expand(3, 64, 64).clone()
    image[:, 5:20, 8:30] = torch.tensor([0.9, 0.1, 0.1])[:, None, None]
    image[:, 35:60, 40:55] = torch.tensor([0.1, 0.1, 0.9])[:, None, None]
    return image, torch.tensor([[8.0, 5, 30, 20], [40, 35, 55, 60]])


def test_flat_rectangles_are_found_and_the_whole_image_is_proposed():
    image, objects = two_rectangles()
    boxes = selective_search(image)
    assert boxes.dtype == torch.float32 and boxes.shape[1] == 4
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2:] <= 64).all() and (boxes[:, 2:] > boxes[:, :2]).all()
    assert box_iou(objects, boxes).max(1).values.min() > 0.85
    assert (boxes == torch.tensor([0.0, 0, 64, 64])).all(1).any()
    assert len(torch.unique(boxes, dim=0)) == len(boxes)  # duplicates dropped


def test_shapes_scenes_have_a_proposal_near_every_object():
    scenes = data.single_objects(6, 64, seed=3)
    for image, box in zip(scenes.images, scenes.boxes):
        assert box_iou(selective_search(image), box[None]).max() > 0.7


def test_the_seed_orders_the_same_set_of_proposals():
    image, _ = data.single_objects(1, 64, seed=4).images[0], None
    a, b, c = selective_search(image, seed=0), selective_search(image, seed=0), selective_search(image, seed=1)
    assert torch.equal(a, b)
    assert not torch.equal(a, c) and torch.equal(torch.unique(a, dim=0), torch.unique(c, dim=0))
    single = selective_search(image, colour_spaces=("rgb",), scales=(100,), similarity_sets=("ctsf",))
    assert len(single) < len(a)  # one strategy proposes fewer than the fast mode's eight


@pytest.mark.parametrize("kwargs, message", [
    ({"image": torch.rand(64, 64)}, r"image must be a \(3, H, W\) tensor in \[0, 1\]; got \(64, 64\)"),
    ({"colour_spaces": ("ycbcr",)}, r"colour_spaces must be some of \('rgb', 'hsv', 'lab'\); got \('ycbcr',\)"),
    ({"similarity_sets": ("cx",)}, r"similarity_sets must be strings of the letters 'ctsf'"),
    ({"scales": (0,)}, r"scales must be positive numbers; got \(0,\)"),
])
def test_bad_input_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        selective_search(**{"image": torch.rand(3, 16, 16), **kwargs})


def opencv_fast(image):
    pytest.importorskip("cv2")
    return opencv_selective_search(image)


def test_recall_matches_opencvs_at_a_similar_number_of_proposals():
    scenes = data.shapes(20, size=64, seed=5)
    recall, proposals = {}, {}
    for name, search in (("ours", selective_search), ("opencv", opencv_fast)):
        found = [box_iou(scene["boxes"], search(scene["image"])).max(1).values for scene in scenes]
        recall[name] = torch.cat(found).ge(0.7).float().mean().item()
        proposals[name] = sum(len(search(scene["image"])) for scene in list(scenes)[:5])
    assert recall["ours"] >= recall["opencv"] - 0.05, recall
    assert proposals["ours"] < 3 * proposals["opencv"], proposals


def test_proposal_recall_counts_objects_covered_by_the_first_k():
    truths = [torch.tensor([[0.0, 0, 10, 10], [20, 20, 30, 30]]), torch.tensor([[5.0, 5, 9, 9]])]
    proposals = [torch.tensor([[50.0, 50, 60, 60], [0, 0, 10, 10], [20, 20, 31, 30]]), torch.zeros(0, 4)]
    assert proposal_recall(proposals, truths, (1, 2, 3)) == [0.0, 1 / 3, 2 / 3]
    with pytest.raises(ValueError, match="one proposal tensor per image of truths, 2; got 1"):
        proposal_recall(proposals[:1], truths, (1,))
