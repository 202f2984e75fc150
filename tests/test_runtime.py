import random

import numpy as np
import pytest
import torch

import cnncourse
from cnncourse import simcuda


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("CNNCOURSE_PROFILE", "full")
    assert cnncourse.profile().name == "full" and not cnncourse.profile().quick
    monkeypatch.setenv("CNNCOURSE_PROFILE", "Quick")
    assert cnncourse.profile().pick(quick=1, full=2) == 1


def test_profile_default_follows_cuda(monkeypatch):
    monkeypatch.delenv("CNNCOURSE_PROFILE", raising=False)
    monkeypatch.delenv("CNNCOURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert cnncourse.profile().name == "quick"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert cnncourse.profile().name == "full"


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("CNNCOURSE_PROFILE", "fast")
    with pytest.raises(ValueError, match="CNNCOURSE_PROFILE must be one of quick, full.*got 'fast'"):
        cnncourse.profile()


def test_seed_everything_reproduces_python_numpy_and_torch():
    def draw():
        return random.random(), np.random.rand(), torch.rand(3)

    cnncourse.seed_everything(7)
    a = draw()
    cnncourse.seed_everything(7)
    b = draw()
    assert a[0] == b[0] and a[1] == b[1] and torch.equal(a[2], b[2])
    assert torch.are_deterministic_algorithms_enabled()
    with pytest.raises(ValueError, match="seed must be a non-negative int; got -1"):
        cnncourse.seed_everything(-1)


def test_device_and_setup_banner(capsys):
    assert cnncourse.device().type in ("cpu", "cuda", "mps")
    profile = cnncourse.setup(seed=1)
    out = capsys.readouterr().out
    assert f"profile: {profile}" in out and "device:" in out and torch.__version__ in out
    assert "to switch: %env CNNCOURSE_PROFILE=" in out  # a reader learns how to change it


def test_cnncourse_device_overrides_the_automatic_choice(monkeypatch):
    monkeypatch.delenv("CNNCOURSE_PROFILE", raising=False)
    monkeypatch.setenv("CNNCOURSE_DEVICE", "cpu")
    with simcuda.simulated_cuda():  # a GPU machine whose student forces the CPU
        assert cnncourse.device() == torch.device("cpu") and cnncourse.profile().name == "quick"
        monkeypatch.setenv("CNNCOURSE_DEVICE", "cuda:0")
        assert cnncourse.device() == torch.device("cuda", 0) and cnncourse.profile().name == "full"
        monkeypatch.setenv("CNNCOURSE_DEVICE", "cuda:1")
        with pytest.raises(RuntimeError, match=r"CNNCOURSE_DEVICE='cuda:1', but this machine has 1 CUDA device"):
            cnncourse.device()
    monkeypatch.setenv("CNNCOURSE_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match=r"CNNCOURSE_DEVICE='cuda', but this machine has 0 CUDA device"):
        cnncourse.device()
    monkeypatch.setenv("CNNCOURSE_DEVICE", "gpu")
    with pytest.raises(ValueError, match=r"CNNCOURSE_DEVICE must be cpu, cuda, cuda:N or mps .*got 'gpu'"):
        cnncourse.device()


def test_device_of_a_model():
    assert cnncourse.device_of(torch.nn.Linear(2, 2)).type == "cpu"
    assert cnncourse.device_of(torch.nn.ReLU()).type == "cpu"  # no parameters: the CPU
    with simcuda.simulated_cuda():
        assert cnncourse.device_of(torch.nn.BatchNorm1d(2, affine=False).cuda()).type == "cuda"


def test_device_name():
    assert cnncourse.device_name(torch.device("cpu")) == "cpu"
    with simcuda.simulated_cuda():
        assert cnncourse.device_name() == "simulated CUDA (on the CPU)"


def test_evaluating_restores_the_mode_even_after_an_error():
    from torch import nn

    from cnncourse.runtime import evaluating

    for mode in (True, False):
        model = nn.Sequential(nn.Dropout()).train(mode)
        with pytest.raises(RuntimeError, match="boom"), evaluating(model):
            assert not model.training
            raise RuntimeError("boom")
        assert model.training == mode
