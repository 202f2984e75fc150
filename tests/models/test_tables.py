"""Parameter counts and costs from the papers and lecture notes, reproduced from the architectures."""

import pytest

from cnncourse import models
from cnncourse.analysis import count_macs, count_params, neurons
from cnncourse.models.googlenet import TABLE_1, table1_costs


def millions(n):
    return round(n / 1e6)


def test_vgg_parameter_counts_match_table_2():
    """Simonyan & Zisserman (2015), Table 2: A, A-LRN 133; B 133; C 134; D 138; E 144 million."""
    names = ["vgg11", "vgg11_lrn", "vgg13", "vgg16_c", "vgg16", "vgg19"]
    assert [millions(count_params(models.get(n))) for n in names] == [133, 133, 133, 134, 138, 144]


def test_alexnet_has_60_million_parameters_in_both_variants():
    assert millions(count_params(models.get("alexnet_paper"))) == 61  # "60 million parameters"
    assert count_params(models.get("alexnet_paper")) == 60_965_224
    assert count_params(models.get("alexnet")) == 61_100_840


def test_mobilenet_v1_matches_table_of_the_paper():
    """Howard et al. (2017): 1.0 MobileNet-224 has 4.2 million parameters and 569 million mult-adds."""
    model = models.get("mobilenet_v1")
    assert round(count_params(model) / 1e5) == 42
    assert round(count_macs(model, (3, 224, 224)) / 1e6) == 569


def test_mobilenet_v1_against_the_same_network_with_full_convolutions():
    """Table 4 of the paper: full convolutions 29.3M parameters and 4866M mult-adds, against 4.2M and 569M."""
    from torch import nn

    layers, channels = [nn.Conv2d(3, 32, 3, 2, 1, bias=False)], 32
    for out, stride in models.mobilenet.V1:  # each depthwise separable pair becomes one full 3x3 convolution
        layers.append(nn.Conv2d(channels, out, 3, stride, 1, bias=False))
        channels = out
    full = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 1000))
    assert round(count_params(full) / 1e5) == 293
    assert abs(count_macs(full, (3, 224, 224)) / 1e6 - 4866) < 2  # the paper's rounding: 4867.3 with the classifier
    assert count_macs(models.get("mobilenet_v1"), (3, 224, 224)) * 8 < count_macs(full, (3, 224, 224))


def test_resnet50_and_resnext50_have_similar_complexity():
    """Xie et al. (2017), Table 1: ResNet-50 25.5M params, 4.1 GFLOPs; ResNeXt-50 32x4d 25.0M, 4.2 GFLOPs (FLOPs = mult-adds)."""
    r, x = models.get("resnet50"), models.get("resnext50_32x4d")
    assert round(count_params(r) / 1e5) == 256 and round(count_params(x) / 1e5) == 250
    assert round(count_macs(r, (3, 224, 224)) / 1e9, 1) == 4.1 and round(count_macs(x, (3, 224, 224)) / 1e9, 1) == 4.2


def test_densenet121_parameter_count():
    """Huang et al. (2017): DenseNet-121 (k = 32) has 8.0 million parameters."""
    assert round(count_params(models.get("densenet121")) / 1e5) == 80


@pytest.mark.parametrize("depth, millions_expected", [(18, 11.7), (34, 21.8), (50, 25.6), (101, 44.5), (152, 60.2)])
def test_resnet_parameter_counts(depth, millions_expected):
    assert round(count_params(models.get(f"resnet{depth}")) / 1e6, 1) == millions_expected


def test_googlenet_operations_reproduce_table_1():
    """The ops column follows from the widths in the table: within 1M for every layer but two."""
    costs = table1_costs()
    disagree = {name for name, (_, ops) in costs.items() if abs(ops / 1e6 - TABLE_1[name][1]) > 1}
    # conv1: 7 x 7 x 3 x 64 = 9,408 weights at 112 x 112 is 118M, not 34M; inception 5a: its widths
    # give 51M at 7 x 7, not 54M. The paper's figures disagree with its own widths.
    assert disagree == {"conv1", "inception5a"}
    assert costs["conv1"] == (7 * 7 * 3 * 64, 7 * 7 * 3 * 64 * 112 * 112)


def test_googlenet_parameters_are_counted_in_units_of_1024():
    """Table 1's K is 1024, not 1000: the fc row's 1024 x 1000 weights are printed as 1000K, conv2+conv3's
    114,688 = 112 x 1024 as 112K. In those units every row is within 2% of its widths' arithmetic but
    conv1, 4c and 5a, whose printed figures contradict the widths."""
    costs = table1_costs()
    assert costs["fc"][0] == 1000 * 1024 and costs["conv2+conv3"][0] == 112 * 1024
    ratio = {name: weights / 1024 / TABLE_1[name][0] for name, (weights, _) in costs.items()}
    assert {name for name, r in ratio.items() if abs(r - 1) > 0.02} == {"conv1", "inception4c", "inception5a"}
    # in units of 1000 the same rows run 2.1-4.3% high: not rounding, a unit
    per_thousand = [weights / 1e3 / TABLE_1[name][0] - 1 for name, (weights, _) in costs.items()
                    if abs(ratio[name] - 1) <= 0.02]
    assert 0.02 < min(per_thousand) and max(per_thousand) < 0.045
    # 4c = 512*128 + 512*128 + 128*256*9 + 512*24 + 24*64*25 + 512*64 weights: 497.5K against the printed 463K
    assert costs["inception4c"][0] == 512 * 128 + 512 * 128 + 128 * 256 * 9 + 512 * 24 + 24 * 64 * 25 + 512 * 64
    # 5a: the printed ops follow from the printed params (1072K x 1024 x 49 positions = 54M), not from the widths
    assert round(TABLE_1["inception5a"][0] * 1024 * 7 * 7 / 1e6) == TABLE_1["inception5a"][1]


def test_alexnet_neuron_counts_and_the_papers_first_layer():
    """Krizhevsky et al. (2012): "253,440-186,624-64,896-64,896-43,264-4096-4096-1000".

    Every figure but the first follows from the layer shapes (at 227x227, the
    input size the arithmetic needs). The first layer's 55x55x96 maps hold
    290,400 units; 253,440 is not 96 * s * s for any whole s.
    """
    counts = list(neurons(models.get("alexnet_paper"), (3, 227, 227)).values())
    published = [253_440, 186_624, 64_896, 64_896, 43_264, 4096, 4096, 1000]
    assert counts[1:] == published[1:]
    assert counts[0] == 55 * 55 * 96 == 290_400
    assert all(96 * s * s != published[0] for s in range(1, 100))
    assert round(sum(counts), -4) == 660_000  # "650,000 neurons"


@pytest.mark.parametrize("depth, published", [(20, 0.27), (32, 0.46), (44, 0.66), (56, 0.85), (110, 1.7)])
def test_cifar_resnet_parameter_counts_match_table_6(depth, published):
    """He et al. (2016), Table 6; the plain network has the same parameters (option-A shortcuts)."""
    residual, plain = count_params(models.get(f"cifar_resnet{depth}")), count_params(models.get(f"cifar_plain{depth}"))
    assert residual == plain
    assert round(residual / 1e6, 2 if depth < 110 else 1) == published
