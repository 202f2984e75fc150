"""The simulated CUDA device: each rule both ways (a correct program passes, a misplaced tensor fails)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

import cnncourse  # noqa: E402
from cnncourse import data, layers, models, simcuda, train  # noqa: E402

MIXED = "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!"


@pytest.fixture
def cuda(monkeypatch):
    monkeypatch.delenv("CNNCOURSE_PROFILE", raising=False)
    monkeypatch.delenv("CNNCOURSE_DEVICE", raising=False)
    with simcuda.simulated_cuda():
        yield


def test_cuda_is_available_inside_and_not_after(monkeypatch):
    monkeypatch.delenv("CNNCOURSE_PROFILE", raising=False)
    monkeypatch.delenv("CNNCOURSE_DEVICE", raising=False)
    with simcuda.simulated_cuda():
        assert torch.cuda.is_available() and torch.cuda.device_count() == 1
        assert cnncourse.device().type == "cuda" and cnncourse.profile().name == "full"
        assert "simulated" in torch.cuda.get_device_name(0)
        torch.cuda.synchronize()
    assert not torch.cuda.is_available() and not simcuda.active()
    assert cnncourse.device().type == "cpu" and cnncourse.profile().name == "quick"


def test_moving_tensors_marks_and_unmarks_them(cuda):
    x = torch.arange(4.0)
    y = x.to("cuda")
    assert y.device == torch.device("cuda", 0) and y.is_cuda and y.get_device() == 0
    assert x.device.type == "cpu" and not x.is_cuda
    for back in (y.cpu(), y.to("cpu"), y.to(torch.device("cpu"))):
        assert back.device.type == "cpu" and torch.equal(back, x)
    back = y.cpu()
    back[0] = 100.0  # a device change is a copy: the CUDA tensor is untouched
    assert y[0].item() == 0.0
    assert x.cuda().is_cuda and x.to(y).is_cuda and y.to(x).device.type == "cpu"
    assert y.to("cuda") is y and y.to(torch.float64).is_cuda
    for copied in (y.to("cpu", copy=True), x.to("cpu", copy=True), y.to("cuda", copy=True)):
        assert copied is not x and copied is not y and copied.is_cuda == (copied.device.type == "cuda")
    assert not y.to("cpu", copy=True).is_cuda and y.to("cuda", copy=True).is_cuda
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        x.to("cuda:1")


def test_factories_likes_and_results_inherit_the_device(cuda):
    y = torch.zeros(3, device="cuda")
    assert y.is_cuda and torch.randn(2, 2, device=torch.device("cuda")).is_cuda
    assert torch.ones_like(y).is_cuda and torch.empty_like(y).is_cuda and y.new_zeros(2).is_cuda
    assert not torch.zeros_like(y, device="cpu").is_cuda
    assert (y * 2 + 1).is_cuda and y.sum().is_cuda and torch.stack([y, y]).is_cuda
    values, indices = y.max(dim=0)
    assert values.is_cuda and indices.is_cuda
    assert not torch.zeros(3).is_cuda and not (torch.zeros(3) + 1).is_cuda


def test_mixing_devices_raises_as_on_cuda_except_for_cpu_scalars(cuda):
    x, y = torch.ones(3), torch.ones(3, device="cuda")
    for mix in (lambda: x + y, lambda: y * x, lambda: torch.cat([y, x]), lambda: torch.where(y > 0, y, x)):
        with pytest.raises(RuntimeError, match=MIXED):
            mix()
    assert (y + torch.tensor(2.0)).is_cuda and (y * 3).is_cuda and (y + y).is_cuda
    with pytest.raises(RuntimeError, match=MIXED):  # a CUDA scalar does not mix into a CPU tensor
        x + torch.tensor(2.0, device="cuda")


def test_numpy_and_matplotlib_refuse_cuda_tensors(cuda):
    y = torch.rand(4, 4, device="cuda")
    for convert in (y.numpy, lambda: np.asarray(y)):
        with pytest.raises(TypeError, match="Use Tensor.cpu"):
            convert()
    fig, ax = plt.subplots()
    with pytest.raises(TypeError, match="Use Tensor.cpu"):
        ax.imshow(y)
    ax.imshow(y.cpu())  # the right way
    plt.close(fig)
    assert y.sum().item() > 0 and len(y.tolist()) == 4 and float(y[0, 0]) >= 0  # host scalars are fine


def test_indexing_accepts_cpu_indices_on_cuda_but_not_the_reverse(cuda):
    y, x = torch.arange(5.0, device="cuda"), torch.arange(5.0)
    assert y[torch.tensor([0, 2])].is_cuda and y[1:3].is_cuda
    with pytest.raises(RuntimeError, match="indices should be either on cpu"):
        x[torch.tensor([0, 2], device="cuda")]
    y[0] = torch.tensor(9.0)
    y.copy_(x)  # copies across devices are allowed, as on a GPU
    assert y.is_cuda and torch.equal(y.cpu(), x)


def test_modules_move_parameters_buffers_and_gradients(cuda):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.LazyLinear(3))
    model(torch.zeros(1, 1, 5, 5))
    model.to("cuda")
    assert all(t.is_cuda for t in [*model.parameters(), *model.buffers()])
    with pytest.raises(RuntimeError, match=MIXED):
        model(torch.zeros(2, 1, 5, 5))
    model(torch.zeros(2, 1, 5, 5, device="cuda")).sum().backward()
    assert all(p.grad.is_cuda for p in model.parameters())
    weight = model[0].weight
    (grad,) = torch.autograd.grad(model(torch.ones(2, 1, 5, 5).cuda()).sum(), weight)
    assert grad.is_cuda
    model.cpu()
    assert not any(t.is_cuda for t in [*model.parameters(), *model.buffers()])
    assert not any(p.grad.is_cuda for p in model.parameters())
    model(torch.zeros(2, 1, 5, 5))
    assert cnncourse.device_of(model.cuda()).type == "cuda"


def test_recurrent_layers_move_and_run_on_the_device(cuda):
    torch.manual_seed(0)
    gru = nn.GRU(3, 4, batch_first=True)
    x = torch.randn(2, 5, 3)
    expected = gru(x)[0]
    gru.cuda()
    out = gru(x.cuda())[0]
    out.sum().backward()
    assert out.is_cuda and gru.weight_hh_l0.grad.is_cuda
    torch.testing.assert_close(out.cpu(), expected)
    with pytest.raises(RuntimeError, match=MIXED):
        gru(x)


def test_the_course_kernels_run_forward_and_backward_on_the_device(cuda):
    x = torch.randn(2, 3, 8, 8, device="cuda", requires_grad=True)
    weight = torch.randn(4, 3, 3, 3, device="cuda")
    out = layers.max_pool2d(layers.conv2d(x, weight, padding=1), 2)
    out.sum().backward()
    assert out.is_cuda and x.grad.is_cuda
    with pytest.raises(RuntimeError, match=MIXED):
        layers.conv2d(x, weight.cpu())


def test_fit_gives_bit_identical_results_with_and_without_the_simulation():
    def run():
        cnncourse.seed_everything(0)
        split = data.digits(32)
        subset = torch.utils.data.Subset(split.train, range(256))
        model = models.get("lenet5")
        history = train.fit(model, DataLoader(subset, batch_size=64, shuffle=True),
                            DataLoader(split.test, batch_size=256), epochs=2, progress=False,
                            augment=data.compose(data.random_crop, data.random_hflip))
        device = cnncourse.device_of(model).type
        return {k: v.cpu() for k, v in model.state_dict().items()}, history, device

    plain, plain_history, plain_device = run()
    with simcuda.simulated_cuda():
        simulated, simulated_history, simulated_device = run()
    assert (plain_device, simulated_device) == ("cpu", "cuda")
    assert all(torch.equal(plain[k], simulated[k]) for k in plain)
    for a, b in zip(plain_history.rows, simulated_history.rows):
        assert (a["train_loss"], a["val_loss"], a["val_acc"]) == (b["train_loss"], b["val_loss"], b["val_acc"])


def test_environment_switch_and_refusal_on_a_real_gpu(monkeypatch):
    monkeypatch.setenv("CNNCOURSE_SIMULATE_CUDA", "maybe")
    with pytest.raises(ValueError, match="CNNCOURSE_SIMULATE_CUDA must be 1/true/yes.*got 'maybe'"):
        simcuda.enable_from_environment()
    monkeypatch.setenv("CNNCOURSE_SIMULATE_CUDA", "0")
    assert not simcuda.enable_from_environment() and not simcuda.active()
    monkeypatch.setenv("CNNCOURSE_SIMULATE_CUDA", "1")
    try:
        assert simcuda.enable_from_environment() and torch.cuda.is_available()
    finally:
        simcuda.disable()
    assert not torch.cuda.is_available()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with pytest.raises(RuntimeError, match="real CUDA device"):
        simcuda.enable()


def test_deepcopy_keeps_the_device(cuda):
    import copy

    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).cuda()
    copied = copy.deepcopy(model)
    assert all(t.is_cuda for t in [*copied.parameters(), *copied.buffers()])
    assert copied(torch.zeros(1, 3, 5, 5, device="cuda")).is_cuda
    assert not copy.deepcopy(torch.zeros(2)).is_cuda and copy.deepcopy(torch.zeros(2, device="cuda")).is_cuda
