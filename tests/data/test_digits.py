import torch

from cnncourse.data import digits


def test_digits_split_sizes_range_and_stratification():
    split = digits()
    assert len(split.train) + len(split.test) == 1797
    x, y = split.train.tensors
    assert x.shape[1:] == (1, 32, 32) and x.dtype == torch.float32
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.9
    train_counts = torch.bincount(y, minlength=10).float() / len(y)
    test_counts = torch.bincount(split.test.tensors[1], minlength=10).float() / len(split.test)
    assert (train_counts - test_counts).abs().max() < 0.01  # stratified


def test_digits_split_is_fixed_and_resizes():
    a, b = digits(size=16), digits(size=16)
    assert torch.equal(a.test.tensors[0], b.test.tensors[0])
    assert a.test.tensors[0].shape[1:] == (1, 16, 16)
    # At size 8 the images are sklearn's originals, scaled to [0, 1].
    from sklearn.datasets import load_digits

    originals = torch.tensor(load_digits().images, dtype=torch.float32) / 16
    x8 = digits(size=8).train.tensors[0][:, 0]
    for img in x8[:20]:
        assert (originals - img).abs().amax((1, 2)).min() == 0


def test_digits_bad_size():
    import pytest

    with pytest.raises(ValueError, match="size must be an int >= 8.*got 4"):
        digits(size=4)
