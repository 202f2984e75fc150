import pytest
import torch

from cnncourse import data
from cnncourse.data import SAMPLE_IMAGES, sample_image, sample_images


def test_every_sample_image_loads_as_a_chw_tensor_in_unit_range():
    images = sample_images()
    assert set(images) == set(SAMPLE_IMAGES)
    for name, image in images.items():
        assert image.dtype == torch.float32 and image.dim() == 3 and image.shape[0] in (1, 3), name
        assert image.min() >= 0 and image.max() <= 1 and image.std() > 0.02, name
        assert SAMPLE_IMAGES[name].source


def test_known_shapes_and_grey_vs_colour():
    assert sample_image("astronaut").shape == (3, 512, 512)
    assert sample_image("camera").shape == (1, 512, 512)
    assert sample_image("china").shape == (3, 427, 640)


def test_unknown_name_lists_the_available_ones():
    with pytest.raises(KeyError, match="unknown sample image 'lena'.*astronaut.*chelsea"):
        sample_image("lena")


def test_square_image_is_a_colour_centre_crop_in_range():
    for name in ("brick", "astronaut", "china"):
        image = data.square_image(name, size=40)
        assert image.shape == (3, 40, 40) and image.min() >= 0 and image.max() <= 1
    grey = data.square_image("brick", size=40)
    assert torch.equal(grey[0], grey[1]) and torch.equal(grey[1], grey[2])
    full = data.sample_image("camera")  # 512 x 512: no crop, no resize
    torch.testing.assert_close(data.square_image("camera", size=512)[0], full[0].clamp(0, 1))


def test_faces_are_scikit_images_lfw_subset_with_face_labels():
    import skimage.data

    faces = data.faces()
    assert faces.images.shape == (200, 1, 25, 25) and faces.images.dtype == torch.float32
    assert faces.labels.tolist() == [1] * 100 + [0] * 100  # the first 100 are faces
    reference = torch.from_numpy(skimage.data.lfw_subset()).float()
    reference = reference / 255 if reference.max() > 1 else reference
    torch.testing.assert_close(faces.images[:, 0], reference)
