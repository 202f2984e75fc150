import pytest
import torch
from torch import nn

from cnncourse import simcuda
from cnncourse.timing import time_ms


def test_time_ms_measures_a_function_and_checks_its_arguments():
    calls = []
    assert time_ms(calls.append, 1, repeat=2, min_time=0.0) >= 0
    assert len(calls) == 3  # one warm-up, then one call per measurement at min_time 0
    with pytest.raises(ValueError, match="repeat must be >= 1"):
        time_ms(print, repeat=0)


def test_time_ms_moves_a_batch_to_the_model_device():
    with simcuda.simulated_cuda():
        model = nn.Linear(4, 2).cuda()
        seen = []
        model.register_forward_pre_hook(lambda m, args: seen.append(args[0].device.type))
        time_ms(model, torch.zeros(3, 4), repeat=1, min_time=0.0)
        assert set(seen) == {"cuda"}
        with pytest.raises(RuntimeError, match="same device"):
            model(torch.zeros(3, 4))  # called directly, the misplaced batch fails as on a GPU
