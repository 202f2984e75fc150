import random

import numpy as np
import pytest
import torch

import cnncourse


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("CNNCOURSE_PROFILE", "full")
    assert cnncourse.profile().name == "full" and not cnncourse.profile().quick
    monkeypatch.setenv("CNNCOURSE_PROFILE", "Quick")
    assert cnncourse.profile().pick(quick=1, full=2) == 1


def test_profile_default_follows_cuda(monkeypatch):
    monkeypatch.delenv("CNNCOURSE_PROFILE", raising=False)
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
