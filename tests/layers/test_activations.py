import pytest
import torch

from cnncourse.layers.activations import Dropout, dropout, relu, sigmoid, tanh


@pytest.mark.parametrize("ours, ref", [(sigmoid, torch.sigmoid), (tanh, torch.tanh), (relu, torch.relu)])
def test_activations_match_torch_values_and_gradients(ours, ref):
    x = (torch.randn(1000) * 6).requires_grad_()
    torch.testing.assert_close(ours(x), ref(x), atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(torch.autograd.grad(ours(x).sum(), x)[0], torch.autograd.grad(ref(x).sum(), x)[0], atol=1e-6, rtol=1e-5)


def test_sigmoid_does_not_overflow_and_saturates():
    s = sigmoid(torch.tensor([-1000.0, 0.0, 1000.0], requires_grad=True))
    assert s.tolist() == [0.0, 0.5, 1.0]
    x = torch.tensor([-10.0, 0.0, 10.0], requires_grad=True)
    grad = torch.autograd.grad(sigmoid(x).sum(), x)[0]
    assert grad[1] == 0.25 and grad[0] < 1e-4 and grad[2] < 1e-4  # saturation: the gradient vanishes


def test_inverted_dropout_keeps_the_expectation_and_is_identity_in_eval():
    x = torch.ones(200_000)
    g = torch.Generator().manual_seed(0)
    y = dropout(x, 0.3, training=True, generator=g)
    assert abs((y == 0).float().mean().item() - 0.3) < 0.01
    assert y.unique().tolist() == pytest.approx([0.0, 1 / 0.7])
    assert abs(y.mean().item() - 1.0) < 0.01
    assert dropout(x, 0.3, training=False) is x
    module = Dropout(0.5).eval()
    assert torch.equal(module(x), x)
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\]; got 1.5"):
        dropout(x, 1.5)
