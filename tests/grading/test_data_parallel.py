"""Grading: the exercises of the chapter *Training on more than one device*."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnncourse import distributed

RING = pytest.mark.forbid("cnncourse.distributed.reduce_scatter", "cnncourse.distributed.ring_all_reduce")


def _chunks(seed, world, sizes):
    g = torch.Generator().manual_seed(seed)
    return [[torch.randn(n, generator=g, dtype=torch.float64) for n in sizes] for _ in range(world)]


def _assert_state(got, expected):
    assert len(got) == len(expected), f"expected {len(expected)} ranks; got {len(got)}"
    for r, (mine, theirs) in enumerate(zip(got, expected)):
        assert len(mine) == len(theirs), f"rank {r}: expected {len(theirs)} chunks; got {len(mine)}"
        for c, (a, b) in enumerate(zip(mine, theirs)):
            torch.testing.assert_close(a, b, msg=f"rank {r}, chunk {c}")


@RING
@pytest.mark.points(2)
def test_reduce_scatter_by_hand(submission):
    a0, a1, b0, b1 = (torch.tensor([v]) for v in (1.0, 2.0, 10.0, 20.0))
    got = submission("data_parallel").reduce_scatter([[a0, a1], [b0, b1]])
    # one step: rank 0 sends chunk 0 to rank 1, rank 1 sends chunk 1 to rank 0
    _assert_state(got, [[a0, a1 + b1], [a0 + b0, b1]])


@RING
@pytest.mark.points(3)
@pytest.mark.parametrize("seed, world, sizes", [(0, 3, (2, 2, 2)), (1, 4, (3, 3, 2, 2)), (2, 6, (1,) * 6)])
def test_reduce_scatter_equals_the_course_step_by_step_result(submission, seed, world, sizes):
    chunks = _chunks(seed, world, sizes)
    _assert_state(submission("data_parallel").reduce_scatter(chunks), distributed.reduce_scatter(chunks))


@RING
@pytest.mark.points(1)
def test_reduce_scatter_leaves_its_input_alone_and_completes_one_chunk_per_rank(submission):
    chunks = _chunks(3, 5, (2,) * 5)
    before = [[c.clone() for c in rank] for rank in chunks]
    got = submission("data_parallel").reduce_scatter(chunks)
    _assert_state(chunks, before)
    for r in range(5):
        c = (r + 1) % 5
        torch.testing.assert_close(got[r][c], sum(rank[c] for rank in before))


def _replicas(seed, world, batch=12):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3), nn.Linear(3, 3))
    model[3].weight.requires_grad_(False)  # frozen: no gradient anywhere
    x, y = torch.randn(batch, 4), torch.randint(0, 3, (batch,))
    whole = copy.deepcopy(model)
    F.cross_entropy(whole(x), y).backward()
    replicas = [copy.deepcopy(model) for _ in range(world)]
    for replica, xs, ys in zip(replicas, x.chunk(world), y.chunk(world)):
        F.cross_entropy(replica(xs), ys).backward()
    return replicas, whole


@pytest.mark.points(3)
@pytest.mark.parametrize("seed, world", [(0, 2), (1, 3), (2, 4)])
def test_average_gradients_give_every_replica_the_whole_batch_gradient(submission, seed, world):
    replicas, whole = _replicas(seed, world)
    assert submission("data_parallel").average_gradients(replicas) is None
    for replica in replicas:
        for mine, theirs in zip(replica.parameters(), whole.parameters()):
            if theirs.grad is None:
                assert mine.grad is None, "a parameter without gradients must keep .grad None"
            else:
                torch.testing.assert_close(mine.grad, theirs.grad)


@pytest.mark.points(1)
def test_average_gradients_leave_the_replicas_independent(submission):
    replicas, _ = _replicas(5, 2)
    submission("data_parallel").average_gradients(replicas)
    replicas[0][0].weight.grad.zero_()
    assert replicas[1][0].weight.grad.abs().sum() > 0, "each replica needs its own gradient tensor"
