"""segmentation.predict and show_predictions: labels on the CPU, batched, and the comparison grid."""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from cnncourse import segmentation as seg  # noqa: E402


@pytest.fixture
def net():
    torch.manual_seed(0)
    return seg.FCN(4, variant="8s", batch_norm=True)


def test_predict_is_the_argmax_in_eval_mode_whatever_the_batch(net):
    images = torch.rand(5, 3, 32, 32)
    net.train()
    labels = seg.predict(net, images, batch_size=2)
    assert net.training, "predict must leave the model's mode as it found it"
    net.eval()
    with torch.no_grad():
        expected = net(images).argmax(1)
    assert labels.dtype == torch.int64 and labels.device.type == "cpu"
    assert torch.equal(labels, expected)
    assert torch.equal(seg.predict(net, images, batch_size=200), expected)


@pytest.mark.parametrize("images, batch_size, message", [
    (torch.rand(3, 32, 32), 2, "images must be a (N, C, H, W)"),
    (torch.rand(1, 3, 32, 32), 0, "batch_size must be a positive int"),
])
def test_predict_rejects_bad_arguments(net, images, batch_size, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        seg.predict(net, images, batch_size=batch_size)


def test_show_predictions_has_a_row_per_network_under_image_and_truth():
    images, truth = torch.rand(3, 3, 8, 8), torch.randint(0, 4, (3, 8, 8))
    fig = seg.show_predictions(images, truth, {"a": truth, "b": truth.flip(-1)})
    try:
        assert len(fig.axes) == 4 * 3
        assert [fig.axes[3 * r].get_ylabel() for r in range(4)] == ["image", "truth", "a", "b"]
    finally:
        plt.close(fig)


def test_show_predictions_names_the_row_whose_labels_do_not_fit():
    images = torch.rand(3, 3, 8, 8)
    with pytest.raises(ValueError, match="'fcn'.*must be \\(N, H, W\\) = \\(3, 8, 8\\)"):
        seg.show_predictions(images, torch.zeros(3, 8, 8, dtype=torch.long), {"fcn": torch.zeros(2, 8, 8)})
