"""draw: images in pixel coordinates, so boxes and joints land where their numbers say."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from cnncourse.draw import draw_box, show_image  # noqa: E402


def test_image_spans_its_pixels_and_a_box_its_corners():
    fig, ax = plt.subplots()
    try:
        show_image(ax, torch.rand(3, 10, 20), faded=True)
        extent = ax.images[0].get_extent()
        assert list(extent) == [0, 20, 10, 0]  # x from 0 to W, y from H down to 0
        assert ax.images[0].get_array().max() <= 0.7 + 1e-6  # faded: 0.3 + 0.4 * grey
        draw_box(ax, torch.tensor([2.0, 3.0, 7.0, 9.0]), color="white")
        rect = ax.patches[0]
        assert (rect.get_x(), rect.get_y(), rect.get_width(), rect.get_height()) == (2, 3, 5, 6)
    finally:
        plt.close(fig)


@pytest.mark.parametrize("call, message", [
    (lambda ax: show_image(ax, torch.rand(10, 20)), r"image must be a \(3, H, W\) tensor; got \(10, 20\)"),
    (lambda ax: draw_box(ax, torch.rand(2, 4)), r"box must be a \(4,\) tensor .*got \(2, 4\)"),
])
def test_bad_shapes_are_named(call, message):
    fig, ax = plt.subplots()
    try:
        with pytest.raises(ValueError, match=message):
            call(ax)
    finally:
        plt.close(fig)


def test_detections_above_the_threshold_are_drawn_with_their_names_and_scores():
    from cnncourse.draw import draw_detections

    fig, ax = plt.subplots()
    try:
        result = {"boxes": torch.tensor([[1.0, 1, 5, 5], [2, 2, 8, 8]]), "labels": torch.tensor([1, 2]),
                  "scores": torch.tensor([0.9, 0.3])}
        assert draw_detections(ax, torch.rand(3, 10, 10), result, ["bg", "circle", "square"]) == 1
        assert [t.get_text() for t in ax.texts] == ["circle 0.90"]
        truth = {"boxes": result["boxes"], "labels": result["labels"]}
        assert draw_detections(ax, torch.rand(3, 10, 10), truth, ["bg", "circle", "square"]) == 2
        masks = torch.zeros(2, 1, 10, 10)
        masks[0, 0, 2:4, 2:5] = 0.8
        keypoints = torch.tensor([[[2.0, 3, 1], [4, 4, 1]], [[5, 5, 1], [6, 6, 1]]])
        images = len(ax.images)
        assert draw_detections(ax, torch.rand(3, 10, 10), {**result, "masks": masks, "keypoints": keypoints},
                               ["bg", "circle", "square"]) == 1
        tint = ax.images[-1].get_array()
        assert len(ax.images) == images + 2 and (tint[..., 3] > 0).sum() == 6  # the image, one mask of 6 pixels
        assert ax.lines[-1].get_xdata().tolist() == [2.0, 4.0]  # the drawn object's keypoints
        with pytest.raises(ValueError, match=r"result must hold 'labels'.*got keys \['boxes'\]"):
            draw_detections(ax, torch.rand(3, 10, 10), {"boxes": result["boxes"]}, [])
    finally:
        plt.close(fig)
