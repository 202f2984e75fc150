import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from cnncourse import simcuda
from cnncourse.train import evaluate, fit, fit_cosine, he_init, load_checkpoint, predict


def blobs(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 2, generator=g) + 3 * y[:, None].float()
    return TensorDataset(x, y)


def test_fit_learns_a_separable_problem_and_records_history(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    train = DataLoader(blobs(), batch_size=32, shuffle=True)
    val = DataLoader(blobs(seed=1), batch_size=64)
    history = fit(model, train, val, epochs=5, lr=0.05, device="cpu", progress=False, checkpoint=tmp_path / "ck.pt")
    assert len(history) == 5 and history["epoch"] == [1, 2, 3, 4, 5]
    assert history.last["val_acc"] > 0.95
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert all(row["seconds"] > 0 for row in history.rows)
    loss, acc = evaluate(model, val)
    assert acc == pytest.approx(history.last["val_acc"])
    fig = history.plot("blobs")
    assert len(fig.axes) == 2


def test_checkpoint_round_trip_restores_model_optimizer_and_history(tmp_path):
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    history = fit(model, DataLoader(blobs(64), batch_size=16), optimizer=opt, epochs=2, device="cpu", progress=False, checkpoint=tmp_path / "m.pt")
    fresh = nn.Linear(2, 2)
    fresh_opt = torch.optim.SGD(fresh.parameters(), lr=0.1, momentum=0.9)
    restored = load_checkpoint(tmp_path / "m.pt", fresh, fresh_opt)
    assert restored.rows == history.rows
    for a, b in zip(model.state_dict().values(), fresh.state_dict().values()):
        assert torch.equal(a, b)
    assert fresh_opt.state_dict()["state"][0]["momentum_buffer"].abs().sum() > 0


def test_scheduler_steps_each_epoch():
    model = nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = fit(model, DataLoader(blobs(32), batch_size=16), optimizer=opt, scheduler=sched, epochs=3, device="cpu", progress=False)
    assert history["lr"] == [1.0, 0.5, 0.25]


def test_plateau_scheduler_gets_the_validation_loss_and_cuts_the_rate():
    seen = []

    class Recording(torch.optim.lr_scheduler.ReduceLROnPlateau):
        def step(self, metrics):
            seen.append(metrics)
            super().step(metrics)

    model = nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=1e-6)  # too small to improve the loss: a plateau
    sched = Recording(opt, factor=0.1, patience=0)
    data = DataLoader(blobs(32), batch_size=16)
    history = fit(model, data, DataLoader(blobs(32, seed=1)), optimizer=opt, scheduler=sched, epochs=4, device="cpu", progress=False)
    assert seen == history["val_loss"]
    assert history["lr"] == pytest.approx([1e-6, 1e-6, 1e-7, 1e-8])


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"he_init: nonlinearity must be one of .*'relu'.*; got 'rleu'"):
        he_init(nn.Linear(2, 2), "rleu")
    with pytest.raises(ValueError, match="epochs must be a positive int; got 0"):
        fit(nn.Linear(2, 2), [], epochs=0)
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt", nn.Linear(2, 2))


def test_progress_bars_follow_tqdm_disable(monkeypatch):
    from cnncourse.train import _batches

    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert _batches([1, 2], "x", None).disable
    monkeypatch.delenv("TQDM_DISABLE")
    assert not _batches([1, 2], "x", None).disable
    assert _batches([1, 2], "x", False).disable


def test_fit_augments_training_batches_only():
    seen = []
    loader = DataLoader(TensorDataset(torch.rand(8, 1, 4, 4), torch.zeros(8, dtype=torch.long)), batch_size=4)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    fit(model, loader, loader, epochs=1, augment=lambda x: seen.append(len(x)) or x, progress=False, device="cpu")
    assert seen == [4, 4]  # two training batches; the validation pass is not augmented


@pytest.mark.parametrize("nonlinearity, gain", [("relu", 2**0.5), ("tanh", 5 / 3)])
def test_he_init_scales_by_fan_in_and_zeroes_biases(nonlinearity, gain):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(8, 64, 5), nn.Flatten(), nn.Linear(400, 300), nn.BatchNorm1d(300))
    assert he_init(model, nonlinearity) is model
    for layer, fan_in in ((model[0], 8 * 25), (model[2], 400)):
        assert layer.weight.std().item() == pytest.approx(gain / fan_in**0.5, rel=0.03)
        assert torch.count_nonzero(layer.bias) == 0
    assert torch.equal(model[3].weight, torch.ones(300))  # other layers are left alone


def test_evaluate_and_fit_put_cpu_batches_on_the_model_device():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    loader = DataLoader(blobs(), batch_size=64)
    with simcuda.simulated_cuda():
        fit(model, loader, epochs=1, progress=False)
        assert next(model.parameters()).is_cuda
        loss, acc = evaluate(model, loader)
        assert isinstance(loss, float) and 0 <= acc <= 1


def test_fit_trains_a_segmenter_with_pixel_accuracy_and_tuple_targets_without_accuracy():
    torch.manual_seed(0)
    x = torch.randn(16, 3, 8, 8)
    y = (x[:, 0] > 0).long()  # a per-pixel label the first channel decides
    seg = nn.Conv2d(3, 2, 1)
    history = fit(seg, DataLoader(TensorDataset(x, y), batch_size=8), DataLoader(TensorDataset(x, y), batch_size=8),
                  epochs=30, lr=0.1, device="cpu", progress=False)
    assert 0.95 < history.last["val_acc"] <= 1  # a fraction of the 1,024 pixels, not of the 16 images

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.cls, self.box = nn.Linear(4, 3), nn.Linear(4, 2)

        def forward(self, x):
            return self.cls(x), self.box(x)

    def loss(output, target, reduction="mean"):
        (logits, box), (label, true_box) = output, target
        return (F.cross_entropy(logits, label, reduction=reduction)
                + F.mse_loss(box, true_box, reduction="none").sum(1).__getattribute__(reduction)())

    feats = torch.randn(32, 4)
    data = TensorDataset(feats, feats[:, :3].argmax(1), feats[:, 2:])
    loader = DataLoader([(f, (label, box)) for f, label, box in data], batch_size=8)
    history = fit(TwoHeads(), loader, loader, epochs=20, lr=0.05, loss_fn=loss, device="cpu", progress=False)
    assert history["val_loss"][-1] < history["val_loss"][0] / 2
    assert math.isnan(history.last["val_acc"])


def test_fit_cosine_anneals_to_zero_is_reproducible_and_trains_only_the_parameters_given():
    def run(parameters=None):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
        before = [p.detach().clone() for p in model.parameters()]
        chosen = None if parameters is None else list(model[parameters].parameters())
        history = fit_cosine(model, blobs(), epochs=4, lr=0.05, batch_size=32, parameters=chosen,
                             seed=3, progress=False)
        return model, before, history

    model, before, history = run()
    assert history["lr"][0] == pytest.approx(0.05) and history["lr"][-1] < history["lr"][1] < 0.05
    _, acc = evaluate(model, DataLoader(blobs(seed=1), batch_size=64))
    assert acc > 0.95
    again, _, _ = run()
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), again.parameters()))
    head_only, start, _ = run(parameters=2)
    assert torch.equal(head_only[0].weight, start[0]) and not torch.equal(head_only[2].weight, start[2])


def test_predict_batches_restores_the_mode_and_concatenates_tuples():
    torch.manual_seed(0)
    body = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.Dropout(0.5))

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.a, self.b = body, nn.Linear(8, 3), nn.Linear(8, 4)

        def forward(self, x):
            h = self.body(x)
            return self.a(h), self.b(h)

    model, x = TwoHeads().train(), torch.randn(7, 2)
    first, second = predict(model, x, batch_size=3)
    assert model.training
    model.eval()
    with torch.no_grad():
        expected = model(x)
    assert torch.allclose(first, expected[0]) and torch.allclose(second, expected[1])
    labels = predict(model.a, torch.randn(5, 8), batch_size=2, postprocess=lambda s: s.argmax(1))
    assert labels.shape == (5,) and labels.dtype == torch.int64
    with pytest.raises(ValueError, match="batch_size must be a positive int; got 0"):
        predict(model, x, batch_size=0)
    with pytest.raises(ValueError, match="inputs must be a non-empty"):
        predict(model, x[:0])
