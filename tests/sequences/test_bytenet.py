"""ByteNet: causal convolutions against F.conv1d, causality of the decoder, receptive fields, the LM tools."""

import math

import pytest
import torch
import torch.nn.functional as F

from cnncourse.analysis import receptive_fields
from cnncourse.layers import use_kernels
from cnncourse.sequences import (
    ByteNet, ByteNetLM, CausalConv1d, RecurrentLM, bits_per_character, causal_conv1d, random_windows, unfolded_length,
)


@pytest.mark.parametrize("seed, k, dilation", [(0, 3, 1), (1, 2, 4), (2, 5, 3)])
def test_causal_conv1d_equals_f_conv1d_padded_on_the_left(seed, k, dilation):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 3, 17, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, k, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, generator=g, dtype=torch.float64, requires_grad=True)
    got = causal_conv1d(x, w, b, dilation)
    expected = F.conv1d(x, w, b, padding=dilation * (k - 1), dilation=dilation)[..., :17]
    torch.testing.assert_close(got, expected)
    grads = torch.autograd.grad(got.square().sum(), (x, w, b))
    for mine, theirs in zip(grads, torch.autograd.grad(expected.square().sum(), (x, w, b))):
        torch.testing.assert_close(mine, theirs)


def test_causal_module_gives_the_same_on_either_kernel():
    torch.manual_seed(0)
    conv = CausalConv1d(3, 5, 3, dilation=2)
    x = torch.randn(2, 3, 11)
    mine = conv(x)
    with use_kernels("torch"):
        torch.testing.assert_close(conv(x), mine)
    torch.testing.assert_close(mine, causal_conv1d(x, conv.weight, conv.bias, 2))


def test_the_decoder_never_looks_ahead():
    torch.manual_seed(0)
    lm = ByteNetLM(30, channels=16).eval()
    tokens = torch.randint(0, 30, (2, 40))
    for t in (0, 17, 38):
        changed = tokens.clone()
        changed[:, t + 1:] = torch.randint(0, 30, changed[:, t + 1:].shape)
        torch.testing.assert_close(lm(changed)[..., : t + 1], lm(tokens)[..., : t + 1], rtol=0, atol=0)
    assert not torch.equal(lm(changed)[..., 39], lm(tokens)[..., 39])


def test_bytenet_is_causal_in_the_target_and_reads_the_whole_source():
    torch.manual_seed(0)
    model = ByteNet(20, 25, channels=16).eval()
    source, target = torch.randint(0, 20, (2, 12)), torch.randint(0, 25, (2, 15))
    out = model(source, target)
    assert out.shape == (2, 25, 15)
    later = target.clone()
    later[:, 8:] = (later[:, 8:] + 1) % 25
    torch.testing.assert_close(model(source, later)[..., :8], out[..., :8], rtol=0, atol=0)
    other = source.clone()
    other[:, -1] = (other[:, -1] + 1) % 20
    assert not torch.equal(model(other, target)[..., 0], out[..., 0]), "step 0 sees the source's last token"


def test_receptive_field_doubles_with_the_dilation_and_looks_back_only():
    lm = ByteNetLM(10, channels=8, dilations=(1, 2, 4, 8, 16), kernel_size=3)
    fields = receptive_fields(lm.blocks, (8, 100))
    assert [fields[str(i)].size[0] for i in range(5)] == [3, 7, 15, 31, 63]
    assert fields["4"].start == (-62,) and fields["4"].end == (1,)
    # measured: step 70's output depends on inputs 8 .. 70 exactly
    x = torch.randn(1, 8, 100, requires_grad=True)
    lm.blocks(x)[0, :, 70].sum().backward()
    touched = x.grad.abs().sum(1)[0].nonzero().flatten()
    assert touched.min().item() == 70 - 62 and touched.max().item() == 70


def test_bits_per_character_of_a_model_that_knows_nothing_is_log2_of_the_vocabulary():
    model = RecurrentLM(16, hidden=4)
    with torch.no_grad():
        for p in model.out.parameters():
            p.zero_()
    ids = torch.randint(0, 16, (500,))
    assert bits_per_character(model, ids, length=50) == pytest.approx(math.log2(16))


def test_random_windows_and_unfolded_length():
    ids = torch.arange(100)
    windows = random_windows(ids, 9, 4, torch.Generator().manual_seed(0))
    assert windows.shape == (4, 10)
    assert torch.equal(windows - windows[:, :1], torch.arange(10).expand(4, 10))
    assert unfolded_length(10) == 12 and unfolded_length(10, a=1.0, b=3) == 13
    with pytest.raises(ValueError, match="longer than length=100"):
        random_windows(ids, 100, 2, torch.Generator())


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 10\)"):
        ByteNetLM(10, channels=8)(torch.tensor([[1, 10]]))
    with pytest.raises(ValueError, match="dilation must be a positive int; got 0"):
        causal_conv1d(torch.randn(1, 2, 5), torch.randn(2, 2, 3), dilation=0)
    with pytest.raises(ValueError, match="channels must be even"):
        ByteNetLM(10, channels=7)
