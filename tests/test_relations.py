"""Relations between objects: pairs, true relations, pair geometry and crops, matching, the model's input."""

import pytest
import torch

from cnncourse import relations as R


def test_ordered_pairs_are_every_pair_both_ways():
    assert R.ordered_pairs(3).tolist() == [[0, 1], [0, 2], [1, 0], [1, 2], [2, 0], [2, 1]]
    assert R.ordered_pairs(1).shape == (0, 2)


def test_relation_labels_by_hand():
    boxes = torch.tensor([[0.0, 0, 10, 10], [20, 30, 40, 50], [5, 5, 25, 25]])
    areas = torch.tensor([100.0, 300.0, 200.0])
    occludes = torch.zeros(3, 3, dtype=torch.bool)
    occludes[2, 0] = True  # object 2 is drawn over object 0
    got = R.relation_labels(boxes, areas, occludes)
    pairs = R.ordered_pairs(3).tolist()
    row = {tuple(p): dict(zip(R.RELATIONS, r.tolist())) for p, r in zip(pairs, got)}
    assert row[(0, 1)] == {"left of": True, "above": True, "overlaps": False, "larger than": False,
                           "in front of": False}
    assert row[(2, 0)]["in front of"] and row[(2, 0)]["overlaps"] and row[(2, 0)]["larger than"]
    assert row[(0, 2)]["overlaps"] and not row[(0, 2)]["in front of"]
    # each pair's left-of, above and larger-than are the reverse pair's negation (no ties here)
    for (s, o), r in row.items():
        for name in ("left of", "above", "larger than"):
            assert r[name] != row[(o, s)][name]


def test_relation_scenes_are_consistent_with_their_scenes():
    scenes = R.relation_scenes(12, seed=3)
    assert scenes.images.shape == (12, 3, 64, 64)
    for boxes, labels, pairs, relations in zip(scenes.boxes, scenes.labels, scenes.pairs, scenes.relations):
        k = len(boxes)
        assert 2 <= k <= 3 and len(labels) == k and pairs.shape == (k * (k - 1), 2) and relations.shape == (len(pairs), 5)
        front = relations[:, R.RELATIONS.index("in front of")]
        assert not (front & ~relations[:, R.RELATIONS.index("overlaps")]).any(), "in front of implies overlaps"
    with pytest.raises(ValueError, match=r"objects must be \(min, max\) with min >= 2 \(a pair\); got \(1, 3\)"):
        R.relation_scenes(2, objects=(1, 3))


def test_union_boxes_and_pair_geometry_by_hand():
    boxes = torch.tensor([[0.0, 0, 10, 20], [20, 10, 40, 30]])
    pairs = torch.tensor([[0, 1]])
    assert R.union_boxes(boxes, pairs).tolist() == [[0.0, 0, 40, 30]]
    g = R.pair_geometry(boxes, pairs, size=40)[0]
    assert g.shape == (R.GEOMETRY,)
    torch.testing.assert_close(g[:8], torch.tensor([0, 0, 0.25, 0.5, 0.5, 0.25, 1.0, 0.75]))
    dx, dy = (30 - 5) / 10, (20 - 10) / 20  # centre offsets in units of the subject's width and height
    expected = torch.tensor([dx, dy, torch.tensor(2.0).log().item(), 0.0, 0.0])  # widths 10 -> 20, heights equal
    torch.testing.assert_close(g[8:], expected)


def test_pair_crops_warp_the_union_and_mark_each_box():
    image = torch.zeros(1, 3, 32, 32)
    image[0, 0, :, 16:] = 1.0  # red on the right half
    boxes = [torch.tensor([[0.0, 0, 16, 32], [16, 0, 32, 32]])]
    crops = R.pair_crops(image, boxes, [torch.tensor([[0, 1]])], crop=8)
    assert crops.shape == (1, 5, 8, 8)
    assert crops[0, 0, :, :4].max() == 0 and crops[0, 0, :, 4:].min() == 1  # the union is the whole image
    assert crops[0, 3, :, :4].min() == 1 and crops[0, 3, :, 4:].max() == 0  # the subject's box: left half
    assert crops[0, 4, :, 4:].min() == 1 and crops[0, 4, :, :4].max() == 0  # the object's box: right half


@pytest.mark.parametrize("pixels", [False, True])
def test_relation_net_reads_pair_inputs(pixels):
    scenes = R.relation_scenes(3, seed=1)
    x = R.pair_inputs(scenes.images, scenes.boxes, scenes.pairs, crop=12)
    assert x.shape == (sum(len(p) for p in scenes.pairs), R.GEOMETRY + 5 * 12 * 12)
    model = R.RelationNet(pixels=pixels, crop=12)
    assert model(x).shape == (len(x), 5)
    if not pixels:  # the geometry-only model never looks at the crops
        torch.testing.assert_close(model(x), model(torch.cat([x[:, :R.GEOMETRY], torch.rand_like(x[:, R.GEOMETRY:])], 1)))
    with pytest.raises(ValueError, match=r"RelationNet: input must be pair inputs \(P, 733\) for crop=12; got \(4, 10\)"):
        model(torch.zeros(4, 10))


def test_match_takes_the_best_overlaps_first_and_each_truth_once():
    truth = torch.tensor([[0.0, 0, 10, 10], [20, 20, 30, 30]])
    detected = torch.tensor([[1.0, 1, 10, 10], [0, 0, 10, 11], [50, 50, 60, 60], [20, 20, 30, 29]])
    assert R.match(detected, truth).tolist() == [-1, 0, -1, 1]
    assert R.match(detected[:0], truth).tolist() == []


def test_accuracy_and_triplets():
    logits = torch.tensor([[1.0, -1, -1, 1, 1], [-1, 1, -1, -1, -1]])
    truth = torch.tensor([[True, False, False, True, False], [False, True, True, False, False]])
    assert R.accuracy(logits, truth).tolist() == [1.0, 1.0, 0.5, 1.0, 0.5]
    got = R.triplets(torch.tensor([1, 3]), R.ordered_pairs(2), logits > 0)
    assert got == [("circle 0", "left of", "triangle 1"), ("circle 0", "larger than", "triangle 1"),
                   ("circle 0", "in front of", "triangle 1"), ("triangle 1", "above", "circle 0")]


def test_draw_scene_graph_draws_one_arrow_per_chosen_relation():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    boxes = torch.tensor([[2.0, 2, 20, 20], [30, 30, 60, 60]])
    predicted = torch.tensor([[True, True, False, True, True], [False, False, False, False, False]])
    fig, ax = plt.subplots()
    R.draw_scene_graph(ax, torch.rand(3, 64, 64), boxes, torch.tensor([1, 2]), R.ordered_pairs(2), predicted)
    arrows = [t for t in ax.texts if t.get_text() in R.RELATIONS]
    assert sorted(t.get_text() for t in arrows) == ["in front of", "larger than"]
    plt.close(fig)
