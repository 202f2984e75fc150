"""Grading: the exercises of the chapter *Retrieval: what makes a unit fire*."""

import pytest
import torch
from torch import nn

from cnncourse import analysis

SEEN_BY = pytest.mark.forbid("cnncourse.analysis.Field.seen_by", "cnncourse.analysis.receptive_fields")


def support(net, index, size):
    """The input pixels unit ``index`` (row) of the net's output depends on, by gradient: (first, last + 1)."""
    x = torch.randn(1, 1, size, 1, requires_grad=True)
    out = net(x)
    (grad,) = torch.autograd.grad(out[0, 0, index, 0], x)
    rows = torch.nonzero(grad[0, 0, :, 0]).flatten()
    return int(rows.min()), int(rows.max()) + 1


STACKS = {  # 1-D stacks (kernels along the rows only): conv k/s/p, pool k/s/p
    "conv-pool-conv": [(3, 1, 1), (2, 2, 0), (5, 1, 2)],
    "stride-2-convs": [(7, 2, 3), (3, 2, 1), (3, 1, 1)],
    "no-padding": [(5, 1, 0), (3, 2, 0), (3, 1, 0)],
}


def stack(layers):
    torch.manual_seed(0)
    modules = []
    for k, s, p in layers:
        conv = nn.Conv2d(1, 1, (k, 1), (s, 1), (p, 0), bias=False)
        nn.init.uniform_(conv.weight, 0.5, 1.5)  # no zero weights: the gradient shows the whole field
        modules += [conv]
    return nn.Sequential(*modules).eval()


@SEEN_BY
@pytest.mark.points(3)
@pytest.mark.parametrize("name", STACKS)
def test_seen_by_matches_the_gradient_of_every_unit(submission, name):
    net, size = stack(STACKS[name]), 23
    field = analysis.receptive_fields(net, (1, size, 1))[str(len(net) - 1)]
    (start, end, jump) = field.start[0], field.end[0], field.jump[0]
    rows = net(torch.zeros(1, 1, size, 1)).shape[2]
    for index in range(rows):
        got = submission("retrieval").seen_by(start, end, jump, index, size)
        assert tuple(int(v) for v in got) == support(net, index, size), f"unit {index} of {rows}"


@SEEN_BY
@pytest.mark.points(2)
@pytest.mark.parametrize("start, end, jump, index, size, expected", [
    (-3, 4, 2, 0, 10, (0, 4)), (-3, 4, 2, 5, 10, (7, 10)), (0, 7, 3, 1, 20, (3, 10)),
    (-10, 30, 8, 2, 16, (6, 16)), (2, 5, 1, 0, 8, (2, 5))])
def test_seen_by_clips_to_the_image(submission, start, end, jump, index, size, expected):
    got = submission("retrieval").seen_by(start, end, jump, index, size)
    assert tuple(int(v) for v in got) == expected


PRECISION = pytest.mark.forbid("cnncourse.viz.precision_at_k", "cnncourse.viz.nearest_neighbours")


def directions_and_norms(n, seed):
    """The label is in the direction of a vector; its norm varies 100-fold and says nothing."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 3, (n,), generator=g)
    centres = torch.eye(8)[:3] * 3
    x = centres[labels] + torch.randn(n, 8, generator=g)
    return x * torch.logspace(-1, 1, n)[torch.randperm(n, generator=g)][:, None], labels


@PRECISION
@pytest.mark.points(3)
@pytest.mark.parametrize("k", [1, 5, 12])
def test_precision_at_k_uses_cosine_similarity(submission, k):
    queries, query_labels = directions_and_norms(40, 1)
    gallery, gallery_labels = directions_and_norms(90, 2)
    q, g = nn.functional.normalize(queries, dim=1), nn.functional.normalize(gallery, dim=1)
    expected = (gallery_labels[(q @ g.T).topk(k, dim=1).indices] == query_labels[:, None]).float().mean()
    got = submission("retrieval").precision_at_k(queries, query_labels, gallery, gallery_labels, k)
    assert abs(float(got) - float(expected)) < 1e-6, f"precision@{k} {got}, expected {float(expected):.4f}"


@PRECISION
@pytest.mark.points(1)
def test_precision_at_k_of_a_perfect_and_a_useless_feature(submission):
    labels = torch.arange(30) % 3
    perfect = nn.functional.one_hot(labels, 3).float() + 0.01 * torch.randn(30, 3)
    assert float(submission("retrieval").precision_at_k(perfect, labels, perfect, labels, 5)) == 1.0
    constant = torch.ones(30, 4)
    useless = submission("retrieval").precision_at_k(constant[:3], labels[:3], constant, labels, 30)
    assert abs(float(useless) - 1 / 3) < 1e-6
