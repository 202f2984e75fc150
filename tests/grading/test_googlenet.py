"""Grading: the exercises of the chapter *GoogLeNet and Inception*."""

import pytest
import torch
import torch.nn.functional as F

from cnncourse.analysis import count_params
from cnncourse.models.googlenet import INCEPTION, Inception


COUNTING = pytest.mark.forbid("cnncourse.analysis.count_params", "cnncourse.models.googlenet.Inception")


@COUNTING
@pytest.mark.points(4)
@pytest.mark.parametrize("name", list(INCEPTION))
def test_inception_params_match_the_module(submission, name):
    expected = count_params(Inception(*INCEPTION[name], batch_norm=False, five=5))
    assert submission("googlenet").inception_params(*INCEPTION[name]) == expected


@COUNTING
@pytest.mark.points(1)
def test_inception_params_tiny_module(submission):
    # 1x1: 2*1+1; 1x1 then 3x3: 2*1+1 + 9*1*1+1; 1x1 then 5x5: 2*1+1 + 25*1*1+1; pool proj 2*1+1
    assert submission("googlenet").inception_params(2, 1, 1, 1, 1, 1, 1) == 3 + 3 + 10 + 3 + 26 + 3


@pytest.mark.points(1)
@pytest.mark.parametrize("aux_weight", [0.3, 1.0, 0.0, 0.55])
def test_googlenet_loss_weights_the_auxiliary_heads(submission, aux_weight):
    torch.manual_seed(0)
    target = torch.randint(0, 5, (8,))
    main, aux2, aux1 = (torch.randn(8, 5) for _ in range(3))
    loss = submission("googlenet").googlenet_loss((main, aux2, aux1), target, aux_weight=aux_weight)
    expected = F.cross_entropy(main, target) + aux_weight * (F.cross_entropy(aux2, target) + F.cross_entropy(aux1, target))
    torch.testing.assert_close(loss, expected)


@pytest.mark.points(1)
def test_googlenet_loss_defaults_and_a_single_output(submission):
    torch.manual_seed(1)
    target = torch.randint(0, 5, (8,))
    main, aux2, aux1 = (torch.randn(8, 5) for _ in range(3))
    expected = F.cross_entropy(main, target) + 0.3 * (F.cross_entropy(aux2, target) + F.cross_entropy(aux1, target))
    torch.testing.assert_close(submission("googlenet").googlenet_loss((main, aux2, aux1), target), expected)
    torch.testing.assert_close(submission("googlenet").googlenet_loss(main, target), F.cross_entropy(main, target))
