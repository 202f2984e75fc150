"""The backbone the task heads share: its stages, the position-reading head, the input checks."""

import pytest
import torch

from cnncourse.backbone import check_images, conv_backbone, fc_head


def test_conv_backbone_halves_the_map_per_stage():
    net = conv_backbone(3, (4, 8, 16)).eval()
    x = torch.randn(2, 3, 32, 24)
    assert net(x).shape == (2, 16, 4, 3)
    assert [stage(torch.randn(1, c, 8, 8)).shape[1] for stage, c in zip(net, (3, 4, 8))] == [4, 8, 16]


def test_fc_head_sees_where_a_feature_is():
    """A feature moved to another cell changes the head's output; under an average pool it would not."""
    torch.manual_seed(0)
    head = fc_head(2, 9, 4, hidden=16)
    a, b = torch.zeros(1, 2, 3, 3), torch.zeros(1, 2, 3, 3)
    a[0, 0, 0, 0] = b[0, 0, 2, 2] = 1.0
    assert head(a).shape == (1, 4)
    assert not torch.allclose(head(a), head(b))


@pytest.mark.parametrize("call, words", [
    (lambda: check_images("Net", torch.zeros(1, 1, 8, 8), 3), ["Net", "(N, 3, H, W)", "(1, 1, 8, 8)"]),
    (lambda: check_images("Net", torch.zeros(1, 3, 8, 8), 3, size=(16, 16)), ["must be 16x16", "got 8x8"]),
    (lambda: check_images("Net", torch.zeros(1, 3, 12, 8), 3, multiple=8), ["multiples of 8", "got 12x8"]),
    (lambda: check_images("Net", [1], 3), ["must be a torch.Tensor", "list"]),
])
def test_check_images_names_what_it_wanted_and_got(call, words):
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))
