"""Data parallelism: fit under torchrun (gloo) equals one process on the whole batch; ring all-reduce; failures."""

import pytest
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, TensorDataset

from cnncourse import distributed, train


def _torchrun(*args, timeout=240):
    return distributed.launch(2, *args, timeout=timeout)


@pytest.mark.parametrize("world, size", [(1, 7), (2, 10), (3, 9), (4, 10), (5, 23)])
def test_ring_all_reduce_gives_every_rank_the_sum(world, size):
    g = torch.Generator().manual_seed(world)
    tensors = [torch.randn(size, generator=g, dtype=torch.float64) for _ in range(world)]
    results, sent = distributed.ring_all_reduce(tensors)
    for result in results:
        torch.testing.assert_close(result, sum(tensors))
    if size % world == 0:
        assert sent == 2 * (world - 1) * size // world


def test_reduce_scatter_leaves_each_rank_one_complete_chunk_and_the_input_alone():
    world = 4
    chunks = [[torch.full((2,), float(10 ** r)) * (c + 1) for c in range(world)] for r in range(world)]
    before = [[c.clone() for c in rank] for rank in chunks]
    state = distributed.reduce_scatter(chunks)
    for r in range(world):
        c = (r + 1) % world
        torch.testing.assert_close(state[r][c], torch.full((2,), 1111.0) * (c + 1))
    assert state[0][0].tolist() == [1.0, 1.0], "rank 0 sent chunk 0 at the first step and got nothing back for it"
    for rank, kept in zip(chunks, before):
        for c, k in zip(rank, kept):
            assert torch.equal(c, k)


def test_shard_loader_splits_each_global_batch_over_the_ranks():
    data = TensorDataset(torch.arange(24.0), torch.arange(24))
    loader = DataLoader(data, batch_size=8)
    shards = [list(distributed.shard_loader(loader, r, 2)) for r in range(2)]
    for k, (x, _) in enumerate(loader):
        mine = torch.cat([shards[0][k][0], shards[1][k][0]])
        assert sorted(mine.tolist()) == x.tolist()
    assert distributed.shard_loader(DataLoader(data, 8, shuffle=True), 0, 2).sampler.shuffle
    with pytest.raises(ValueError, match=r"divisible by the world size \(3 processes\); got batch_size=8"):
        distributed.shard_loader(loader, 0, 3)


def test_fit_in_a_one_process_group_takes_the_data_parallel_path_and_gives_the_same_weights(tmp_path):
    data = TensorDataset(torch.randn(32, 5, generator=torch.Generator().manual_seed(0)), torch.arange(32) % 3)

    def run():
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        history = train.fit(model, DataLoader(data, batch_size=8), epochs=2, device="cpu", progress=False,
                            optimizer=None, lr=0.01)
        return model, history

    alone, history = run()
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        assert distributed.is_distributed() and distributed.world_size() == 1
        grouped, grouped_history = run()
    finally:
        dist.destroy_process_group()
    for a, b in zip(alone.parameters(), grouped.parameters()):
        torch.testing.assert_close(a, b)
    assert [r["train_loss"] for r in history.rows] == pytest.approx([r["train_loss"] for r in grouped_history.rows])


@pytest.mark.parametrize("simulated", [False, True], ids=["cpu", "simulated-cuda"])
def test_two_gloo_processes_reach_the_weights_of_one_process_on_the_whole_batch(tmp_path, monkeypatch, simulated):
    if simulated:  # the processes see a (simulated) GPU each, and still talk through gloo
        monkeypatch.setenv("CNNCOURSE_SIMULATE_CUDA", "1")
    one, two = tmp_path / "one.pt", tmp_path / "two.pt"
    distributed.train_digits(epochs=2, batch_size=64, out=str(one))
    result = _torchrun("--epochs", "2", "--batch-size", "64", "--out", str(two))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 process(es), global batch 64" in result.stdout
    a, b = torch.load(one), torch.load(two)
    for name in a["model"]:
        torch.testing.assert_close(b["model"][name], a["model"][name], rtol=1e-5, atol=1e-6)
    for row_a, row_b in zip(a["history"], b["history"]):
        assert row_b["train_loss"] == pytest.approx(row_a["train_loss"], rel=1e-5)
    assert b["test_acc"] == pytest.approx(a["test_acc"])


def test_a_process_that_dies_makes_the_launcher_fail_and_name_its_rank():
    result = _torchrun("--epochs", "1", "--fail-rank", "1", timeout=180)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "rank 1 stops here" in output
    assert "rank       : 1" in output or "rank: 1" in output, output[-2000:]


def test_a_world_size_that_does_not_divide_the_batch_is_a_clear_error():
    result = _torchrun("--epochs", "1", "--batch-size", "63", timeout=180)
    assert result.returncode != 0
    assert "must be divisible by the world size (2 processes); got batch_size=63" in result.stdout + result.stderr


def test_nccl_only_when_every_process_on_the_machine_has_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(dist, "is_nccl_available", lambda: True)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert distributed.backend() == "gloo", "two processes, one GPU: gloo on the CPU"
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "1")
    assert distributed.backend() == "nccl"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert distributed.backend() == "gloo"
