"""Relations between objects: pairs, true relations, pair geometry and regions, the model, triplet recall."""

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
        assert 2 <= k <= 3 and len(labels) == k and pairs.shape == (k * (k - 1), 2)
        assert relations.shape == (len(pairs), 5)
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


def test_intersection_boxes_by_hand_and_against_torchvisions_iou():
    from torchvision.ops import box_iou

    boxes = torch.tensor([[0.0, 0, 10, 10], [5, 2, 20, 8], [30, 30, 40, 40]])
    pairs = R.ordered_pairs(3)
    got = R.intersection_boxes(boxes, pairs)
    assert got[0].tolist() == [5.0, 2, 10, 8] and got[1].tolist() == [30.0, 30, 30, 30]  # (0, 1), (0, 2)
    area = (got[:, 2] - got[:, 0]) * (got[:, 3] - got[:, 1])
    a = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    iou = box_iou(boxes, boxes)[pairs[:, 0], pairs[:, 1]]
    torch.testing.assert_close(area, iou * (a[pairs[:, 0]] + a[pairs[:, 1]]) / (1 + iou))
    regions = R.pair_regions(boxes, pairs)
    assert regions.shape == (6, len(R.REGIONS), 4)
    assert torch.equal(regions[:, 2], R.union_boxes(boxes, pairs)) and torch.equal(regions[:, 3], got)


def test_an_empty_intersection_pools_to_zero():
    from cnncourse.detection.roi import roi_align

    boxes = torch.tensor([[0.0, 0, 10, 10], [30, 30, 40, 40]])
    empty = R.intersection_boxes(boxes, torch.tensor([[0, 1]]))
    from torchvision.ops import roi_align as reference

    features = torch.rand(1, 4, 32, 32) + 1
    for align in (roi_align, reference):
        assert align(features, [empty], 4, 0.5, -1, aligned=True).abs().max() == 0


def test_relation_net_shapes_errors_and_geometry_only():
    scenes = R.relation_scenes(3, seed=1)
    pairs = sum(len(p) for p in scenes.pairs)
    for pixels in (False, True):
        torch.manual_seed(0)
        model = R.RelationNet(pixels=pixels)
        out = model(scenes.images, scenes.boxes, scenes.pairs)
        assert out.shape == (pairs, len(R.RELATIONS))
        noise = model(torch.rand_like(scenes.images), scenes.boxes, scenes.pairs)
        assert torch.allclose(out, noise) != pixels, "only the pixel model reads the pixels"
    empty = [torch.zeros(0, 2, dtype=torch.long)] * 3
    assert model(scenes.images, [b[:0] for b in scenes.boxes], empty).shape == (0, 5)
    with pytest.raises(ValueError, match=r"fit_relations: epochs must be a positive int; got 0"):
        R.fit_relations(model, scenes, epochs=0)
    with pytest.raises(ValueError, match=r"boxes and pairs must hold one tensor per image, 3; got 2 and 3"):
        model(scenes.images, scenes.boxes[:2], scenes.pairs)
    with pytest.raises(ValueError, match=r"RelationNet"):
        model(scenes.images[:, :1], scenes.boxes, scenes.pairs)


def test_fit_relations_learns_left_of_and_predict_matches_the_model():
    train, test = R.relation_scenes(60, seed=0), R.relation_scenes(20, seed=1)
    torch.manual_seed(0)
    model = R.RelationNet(pixels=False)
    losses = R.fit_relations(model, train, epochs=4, lr=3e-3, batch_size=8, progress=False)
    assert len(losses) == 4 and losses[-1] < losses[0]
    logits = R.predict_relations(model, test.images, test.boxes, test.pairs, batch_size=7)
    assert model.training, "predict_relations restores the model's mode"
    truth = torch.cat(test.relations)
    assert R.accuracy(logits, truth)[R.RELATIONS.index("left of")] > 0.9
    with torch.no_grad():
        torch.testing.assert_close(logits, model.eval()(test.images, test.boxes, test.pairs))


def test_detected_pairs_keeps_the_confident_ones():
    detections = [{"boxes": torch.tensor([[0.0, 0, 5, 5], [1, 1, 6, 6], [2, 2, 9, 9]]),
                   "scores": torch.tensor([0.9, 0.2, 0.6]), "labels": torch.tensor([1, 2, 3])},
                  {"boxes": torch.zeros(0, 4), "scores": torch.zeros(0), "labels": torch.zeros(0, dtype=torch.long)}]
    boxes, labels, pairs = R.detected_pairs(detections, min_score=0.5)
    assert boxes[0].tolist() == [[0.0, 0, 5, 5], [2, 2, 9, 9]] and labels[0].tolist() == [1, 3]
    assert pairs[0].tolist() == [[0, 1], [1, 0]] and pairs[1].shape == (0, 2) and len(boxes[1]) == 0


def test_relationship_recall_counts_triplets_by_hand():
    scenes = R.relation_scenes(2, seed=4)
    recall, precision = R.relationship_recall(scenes.boxes, scenes.labels, scenes.pairs, scenes.relations, scenes)
    for value in (recall, precision):  # true boxes and relations: every triplet found, every prediction right
        known = ~value.isnan()
        assert known.any() and torch.equal(value[known], torch.ones(int(known.sum())))
    # the first image's detections miss its first object: the triplets of its pairs are lost
    keep = torch.arange(1, len(scenes.boxes[0]))
    boxes, labels = [scenes.boxes[0][keep], scenes.boxes[1]], [scenes.labels[0][keep], scenes.labels[1]]
    pairs = [R.ordered_pairs(len(keep)), scenes.pairs[1]]
    predicted = [torch.ones(len(pairs[0]), 5, dtype=torch.bool), torch.zeros(len(pairs[1]), 5, dtype=torch.bool)]
    recall, precision = R.relationship_recall(boxes, labels, pairs, predicted, scenes)
    kept = scenes.relations[0][(scenes.pairs[0] != 0).all(1)].sum(0).float()
    torch.testing.assert_close(recall, kept / (scenes.relations[0].sum(0) + scenes.relations[1].sum(0)))
    torch.testing.assert_close(precision, kept / len(pairs[0]))


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
