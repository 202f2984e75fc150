"""Data parallelism: the same training script on one process or many, launched by ``torchrun``.

Every process (a *rank*) holds a full copy of the model and reads its own
share of each batch. After the backward pass the ranks average their
gradients (an *all-reduce*), so every copy takes the same step, the step of
one process on the whole batch. :func:`cnncourse.train.fit` does all of this
by itself when ``torch.distributed`` is initialised: it gives each rank its
share of the loader (:func:`shard_loader`, a ``DistributedSampler``), wraps
the model in ``DistributedDataParallel``, averages the logged losses over
the ranks, and lets rank 0 alone show progress bars and write checkpoints.
A script written for one process therefore runs unchanged as::

    torchrun --nproc_per_node 2 -m cnncourse.distributed --epochs 2

which trains a small CNN on the digits with :func:`train_digits`: gloo on
CPUs, NCCL on GPUs (one process per GPU), and on several machines with
``--nnodes`` and a rendezvous address. When a process dies, torchrun stops
the others and exits non-zero, naming the failed rank.

:func:`ring_all_reduce` spells out, for teaching, the ring algorithm that
NCCL and gloo use, on a list of tensors standing for the ranks; the product
path calls ``torch.distributed.all_reduce``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from contextlib import contextmanager

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler


def is_distributed() -> bool:
    """True inside an initialised process group (``torchrun`` and :func:`launched`)."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main() -> bool:
    """Rank 0, the one process that prints, plots and saves."""
    return rank() == 0


def backend() -> str:
    """NCCL where every process on this machine can have a GPU of its own, gloo otherwise.

    gloo runs on CPUs (and on the course's simulated GPU); with fewer GPUs
    than processes per machine, or Apple's MPS, the processes train on the CPU.
    """
    from cnncourse import simcuda

    processes = int(os.environ.get("LOCAL_WORLD_SIZE", 1))
    gpus = torch.cuda.device_count() if torch.cuda.is_available() and not simcuda.active() else 0
    return "nccl" if dist.is_nccl_available() and gpus >= processes else "gloo"


@contextmanager
def launched():
    """Join the process group ``torchrun`` set up (its RANK, WORLD_SIZE, MASTER_ADDR ... variables); leave it after.

    Outside torchrun it does nothing, so the same script runs as one plain
    process. Yields the device this process trains on: its own GPU
    (``cuda:LOCAL_RANK``) with NCCL; with gloo, the CPU (or the simulated GPU
    of the course's tests).
    """
    from cnncourse import simcuda
    from cnncourse.runtime import device

    if "RANK" not in os.environ or is_distributed():
        yield device()
        return
    chosen = backend()
    if chosen == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        here = torch.device("cuda", torch.cuda.current_device())
    else:
        here = device() if simcuda.active() else torch.device("cpu")
    dist.init_process_group(chosen)
    try:
        yield here
    finally:
        dist.destroy_process_group()


def shard_loader(loader: DataLoader, rank: int, world_size: int, seed: int = 0) -> DataLoader:
    """Rank ``rank``'s share of ``loader``: batches of ``batch_size / world_size`` through a ``DistributedSampler``.

    The loader's batch size is the *global* batch, the one a single process
    would use, so it must divide evenly. A shuffling loader gives a
    shuffling sampler (seeded by ``seed``; call ``set_epoch`` every epoch).
    """
    batch = loader.batch_size
    if batch is None or batch % world_size:
        raise ValueError(f"fit: the loader's batch_size (the global batch) must be divisible by the world size "
                         f"({world_size} processes); got batch_size={batch}")
    sampler = DistributedSampler(loader.dataset, num_replicas=world_size, rank=rank,
                                 shuffle=isinstance(loader.sampler, RandomSampler), seed=seed,
                                 drop_last=loader.drop_last)
    return DataLoader(loader.dataset, batch_size=batch // world_size, sampler=sampler,
                      num_workers=loader.num_workers, collate_fn=loader.collate_fn, pin_memory=loader.pin_memory,
                      drop_last=loader.drop_last)


def data_parallel(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` in ``DistributedDataParallel`` (its gradients averaged over the ranks in backward)."""
    return nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def sum_across(*values: float) -> list[float]:
    """The sums over all ranks of a few numbers (one all-reduce); the numbers themselves in one process."""
    if not is_distributed():
        return list(values)
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
    summed = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(summed)
    return summed.tolist()


def reduce_scatter(chunks: list[list[torch.Tensor]]) -> list[list[torch.Tensor]]:
    """The first half of a ring all-reduce, on ``chunks[r][c]``, chunk c of simulated rank r.

    In each of the W - 1 steps every rank r sends chunk (r - step) mod W to
    rank r + 1 (mod W), which adds it to its own chunk of that index; all
    ranks send at once, so a step reads the chunks as they were before it
    (the W chunks in flight in one step all have different indices, so
    updating in place, rank by rank, happens to give the same). Afterwards rank r holds chunk (r + 1) mod W summed over all ranks.
    Returns new lists; the input is left alone.
    """
    world = len(chunks)
    state = [[c.clone() for c in rank_chunks] for rank_chunks in chunks]
    for step in range(world - 1):
        outgoing = [state[r][(r - step) % world].clone() for r in range(world)]
        for r in range(world):
            state[(r + 1) % world][(r - step) % world] += outgoing[r]
    return state


def all_gather(chunks: list[list[torch.Tensor]]) -> list[list[torch.Tensor]]:
    """The second half: in W - 1 steps rank r passes its complete chunk (r + 1 - step) mod W to rank r + 1."""
    world = len(chunks)
    state = [[c.clone() for c in rank_chunks] for rank_chunks in chunks]
    for step in range(world - 1):
        outgoing = [state[r][(r + 1 - step) % world].clone() for r in range(world)]
        for r in range(world):
            state[(r + 1) % world][(r + 1 - step) % world] = outgoing[r]
    return state


def ring_all_reduce(tensors: list[torch.Tensor]) -> tuple[list[torch.Tensor], int]:
    """Ring all-reduce among ``len(tensors)`` simulated ranks: every rank ends with the sum of all.

    Each rank's tensor is cut into W chunks; :func:`reduce_scatter` leaves
    every rank with one chunk summed over all ranks, and :func:`all_gather`
    sends the summed chunks once more around the ring. Returns the W results
    and the number of elements each rank sent: 2 (W - 1) chunks, about
    2 (W - 1) / W times the tensor's size, however many ranks there are.
    """
    world = len(tensors)
    chunks = [list(t.detach().flatten().tensor_split(world)) for t in tensors]
    state = all_gather(reduce_scatter(chunks))
    schedule = [(0 - step) % world for step in range(world - 1)] + [(1 - step) % world for step in range(world - 1)]
    sent = sum(chunks[0][c].numel() for c in schedule)  # what rank 0 sends in the two halves
    return [torch.cat(c).view_as(t) for c, t in zip(state, tensors)], sent


def digits_model() -> nn.Module:
    """A small CNN for 16x16 digits (no batch norm, whose statistics would differ per rank)."""
    from cnncourse.layers import Conv2d, MaxPool2d

    return nn.Sequential(Conv2d(1, 8, 3, padding=1), nn.ReLU(), MaxPool2d(2),
                         Conv2d(8, 16, 3, padding=1), nn.ReLU(), MaxPool2d(2),
                         nn.Flatten(), nn.Linear(16 * 4 * 4, 10))


def train_digits(epochs: int = 2, batch_size: int = 64, lr: float = 0.2, shuffle: bool = False,
                 seed: int = 0, out: str | None = None, fail_rank: int | None = None):
    """Train :func:`digits_model` with :func:`cnncourse.train.fit` and SGD; the script behind ``-m cnncourse.distributed``.

    Runs as one process or under torchrun; ``batch_size`` is the global
    batch. Rank 0 saves the trained weights and history to ``out``.
    ``fail_rank`` makes that rank raise before training, to show what the
    launcher does when a process dies.
    """
    from cnncourse import data, train

    torch.manual_seed(seed)
    with launched() as device:
        if fail_rank is not None and rank() == fail_rank:
            raise RuntimeError(f"rank {fail_rank} stops here, as asked")
        split = data.digits(16)
        # full batches only, so that every process gets an equal share
        loader = DataLoader(split.train, batch_size, shuffle=shuffle,
                            drop_last=True, generator=torch.Generator()
                            .manual_seed(seed))
        model = digits_model()
        sgd = torch.optim.SGD(model.parameters(), lr=lr)
        history = train.fit(model, loader, epochs=epochs, optimizer=sgd,
                            device=device, progress=False)
        test = DataLoader(split.test, batch_size=256)
        _, test_acc = train.evaluate(model, test, device=device)
        if is_main():  # rank 0 reports and saves
            losses = ", ".join(f"{r['train_loss']:.4f}" for r in history.rows)
            print(f"{world_size()} process(es), global batch {batch_size}: "
                  f"train loss {losses}; test accuracy {test_acc:.3f}")
            if out is not None:
                torch.save({"model": model.state_dict(), "test_acc": test_acc,
                            "history": history.rows}, out)
        return model, history


def launch(processes: int, *args: str, threads: int | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``python -m cnncourse.distributed ARGS`` as ``processes`` processes on this machine; return what it printed.

    More than one process goes through torchrun (``--standalone``: a single
    machine, a free port). ``threads`` sets each process's OpenMP threads
    (torchrun's default is 1 per process; one plain process uses every core).
    """
    if not isinstance(processes, int) or processes < 1:
        raise ValueError(f"launch: processes must be a positive int; got {processes!r}")
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"] if processes > 1 else []
    command = [sys.executable, *launcher, "-m", "cnncourse.distributed", *args]
    env = dict(os.environ)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=train_digits.__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64, help="the global batch, split over the processes")
    parser.add_argument("--lr", type=float, default=0.2)
    parser.add_argument("--shuffle", action="store_true")
    parser.add_argument("--out", help="where rank 0 saves the weights and history")
    parser.add_argument("--fail-rank", type=int, help="this rank raises before training")
    args = parser.parse_args(argv)
    train_digits(args.epochs, args.batch_size, args.lr, args.shuffle, out=args.out, fail_rank=args.fail_rank)


if __name__ == "__main__":
    main()
