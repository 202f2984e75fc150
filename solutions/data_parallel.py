"""Exercises for the chapter *Training on more than one device*.

Grade them with ``make grade`` (or ``pytest tests/grading -k data_parallel --impl=exercises``).
"""

import torch


def reduce_scatter(chunks):
    """The reduce-scatter half of a ring all-reduce among W simulated ranks.

    chunks[r][c] is chunk c (a tensor) of rank r, for r and c in 0..W-1.
    The ranks form a ring: rank r sends to rank (r + 1) mod W. In each step
    s = 0, 1, ..., W - 2, every rank r sends its chunk (r - s) mod W, and the
    receiving rank adds it to its own chunk with that index. All ranks send
    at the same time: what a rank sends in step s is its chunk as it was
    before step s. Return the chunks after the W - 1 steps, as a new list of
    lists of tensors; do not modify the input. (Rank r then holds chunk
    (r + 1) mod W summed over all ranks.)

    Hint: in each step, first collect every rank's outgoing chunk (a clone),
    then do the additions.
    """
    ### BEGIN SOLUTION
    world = len(chunks)
    state = [[c.clone() for c in rank] for rank in chunks]
    for step in range(world - 1):
        outgoing = [state[r][(r - step) % world].clone() for r in range(world)]
        for r in range(world):
            state[(r + 1) % world][(r - step) % world] += outgoing[r]
    return state
    ### END SOLUTION


def average_gradients(replicas):
    """What DistributedDataParallel does after backward: average the gradients of the replicas.

    replicas is a list of models with the same parameters (in the same
    order, model.parameters()), each after a backward pass on its own share
    of a batch. Set every replica's .grad of each parameter to the mean of
    that parameter's .grad over the replicas, so that every replica then
    takes the same optimiser step; each replica keeps a gradient tensor of
    its own, as each process does. Parameters whose .grad is None in every
    replica stay None. Return nothing.

    Hint: zip(*(m.parameters() for m in replicas)) gives one tuple per
    parameter; torch.stack and .mean(0).
    """
    ### BEGIN SOLUTION
    for params in zip(*(m.parameters() for m in replicas)):
        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            continue
        mean = torch.stack(grads).sum(0) / len(params)
        for p in params:
            p.grad = mean.clone()
    ### END SOLUTION
