"""Grading: the exercises of the chapter *Convolutions over sequences*."""

import pytest
import torch

from cnncourse.sequences import TextCNN, causal_conv1d

TEXT = pytest.mark.forbid("cnncourse.sequences.TextCNN", "cnncourse.sequences.max_over_time",
                          "cnncourse.sequences.textcnn.max_over_time")
CAUSAL = pytest.mark.forbid("cnncourse.sequences.causal_conv1d", "cnncourse.sequences.bytenet.causal_conv1d",
                            "cnncourse.sequences.CausalConv1d")


def _sentences(seed, n=6, longest=11, dim=5, shortest=5):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(shortest, longest + 1, (n,), generator=g)
    lengths[0] = longest
    embedded = torch.randn(n, longest, dim, generator=g, dtype=torch.float64)
    embedded[torch.arange(longest)[None, :] >= lengths[:, None]] = 0.0
    return embedded, lengths


@TEXT
@pytest.mark.points(2)
def test_text_cnn_features_by_hand(submission):
    embedded = torch.tensor([[[1.0], [3.0], [-2.0], [5.0]], [[2.0], [-1.0], [4.0], [0.0]]])  # D = 1
    lengths = torch.tensor([4, 3])
    weights = [torch.tensor([[[1.0, 1.0]]]), torch.tensor([[[1.0, 0.0, -1.0]], [[0.0, -1.0, 0.0]]])]
    biases = [torch.tensor([0.0]), torch.tensor([0.0, -2.0])]
    got = submission("sequences").text_cnn_features(embedded, lengths, weights, biases)
    # sentence 0: pairs 4, 1, 3 -> 4; x_t - x_(t+2): 3, -2 -> 3; -x_(t+1) - 2: -5, 0 -> 0
    # sentence 1 (3 words): pairs 1, 3 -> 3; x_t - x_(t+2): -2 -> 0; -x_(t+1) - 2: -1 -> 0
    assert got.shape == (2, 3), f"expected (2, 3): one feature per filter; got {tuple(got.shape)}"
    torch.testing.assert_close(got, torch.tensor([[4.0, 3.0, 0.0], [3.0, 0.0, 0.0]]))


@TEXT
@pytest.mark.points(3)
@pytest.mark.parametrize("seed, widths", [(0, (3, 4, 5)), (1, (2,)), (2, (1, 2, 3))])
def test_text_cnn_features_equal_the_course_on_random_sentences(submission, seed, widths):
    torch.manual_seed(seed)
    model = TextCNN(10, 2, embed_dim=5, widths=widths, filters=4).double()
    embedded, lengths = _sentences(seed)
    tokens = (torch.arange(embedded.shape[1])[None, :] < lengths[:, None]).long()  # ones, then padding
    model.embedding.forward = lambda _: embedded  # the course's features on these vectors
    expected = model.features(tokens)
    got = submission("sequences").text_cnn_features(
        embedded, lengths, [c.weight.detach() for c in model.convs], [c.bias.detach() for c in model.convs])
    assert got.shape == expected.shape, f"expected {tuple(expected.shape)}; got {tuple(got.shape)}"
    torch.testing.assert_close(got.double(), expected.detach())


@TEXT
@pytest.mark.points(2)
def test_text_cnn_features_do_not_see_the_padding(submission):
    embedded, lengths = _sentences(3, longest=8)
    weights, biases = [torch.randn(3, 5, 3, dtype=torch.float64)], [torch.full((3,), 50.0, dtype=torch.float64)]
    weights[0][:, :, -1] = -100.0  # any window that reads past the sentence would win the max: 50 > real windows
    embedded[..., 0] = embedded[..., 0].abs() + 1  # real words are far from zero
    embedded[torch.arange(8)[None, :] >= lengths[:, None]] = 0.0
    text = submission("sequences").text_cnn_features
    got = text(embedded, lengths, weights, biases)
    longer = torch.cat([embedded, torch.zeros(len(embedded), 4, 5, dtype=torch.float64)], 1)
    torch.testing.assert_close(text(longer, lengths, weights, biases), got)
    for i, (row, length) in enumerate(zip(embedded, lengths)):
        torch.testing.assert_close(text(row[None, :length], length[None], weights, biases), got[i : i + 1])


def _causal_inputs(seed, k, dilation, length=13):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 3, length, generator=g, dtype=torch.float64)
    return x, torch.randn(4, 3, k, generator=g, dtype=torch.float64), torch.randn(4, generator=g, dtype=torch.float64)


@CAUSAL
@pytest.mark.points(2)
def test_causal_conv1d_by_hand(submission):
    x = torch.tensor([[[1.0, 2, 3, 4, 5]]])
    got = submission("sequences").causal_conv1d(x, torch.tensor([[[1.0, 10.0]]]), torch.tensor([0.5]), 1)
    assert got.shape == (1, 1, 5), f"the output is as long as the input: expected (1, 1, 5); got {tuple(got.shape)}"
    torch.testing.assert_close(got, torch.tensor([[[10.5, 21.5, 32.5, 43.5, 54.5]]]))  # 10 x_t + x_(t-1)
    got = submission("sequences").causal_conv1d(x, torch.tensor([[[1.0, 10.0]]]), torch.tensor([0.0]), 2)
    torch.testing.assert_close(got, torch.tensor([[[10.0, 20.0, 31.0, 42.0, 53.0]]]))  # 10 x_t + x_(t-2)


@CAUSAL
@pytest.mark.points(3)
@pytest.mark.parametrize("seed, k, dilation", [(0, 3, 1), (1, 3, 4), (2, 2, 8), (3, 5, 2)])
def test_causal_conv1d_equals_the_course_on_random_inputs(submission, seed, k, dilation):
    x, weight, bias = _causal_inputs(seed, k, dilation)
    x.requires_grad_(True)
    got = submission("sequences").causal_conv1d(x, weight, bias, dilation)
    expected = causal_conv1d(x, weight, bias, dilation)
    assert got.shape == expected.shape, f"expected {tuple(expected.shape)}; got {tuple(got.shape)}"
    torch.testing.assert_close(got, expected)
    grad, = torch.autograd.grad(got.square().sum(), x)
    torch.testing.assert_close(grad, torch.autograd.grad(expected.square().sum(), x)[0])


@CAUSAL
@pytest.mark.points(2)
def test_causal_conv1d_never_looks_ahead(submission):
    x, weight, bias = _causal_inputs(4, 3, 2)
    conv = submission("sequences").causal_conv1d
    before = conv(x, weight, bias, 2)
    for t in (0, 5, 11):
        later = x.clone()
        later[..., t + 1:] = torch.randn(later[..., t + 1:].shape, dtype=torch.float64)
        torch.testing.assert_close(conv(later, weight, bias, 2)[..., : t + 1], before[..., : t + 1])
