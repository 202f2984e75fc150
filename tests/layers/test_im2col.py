import pytest
import torch
import torch.nn.functional as F

from cnncourse.layers.im2col import im2col, windows


@pytest.mark.parametrize("kernel, stride, dilation", [((3, 3), (1, 1), (1, 1)), ((2, 3), (2, 1), (1, 2)), ((1, 4), (3, 2), (2, 1))])
def test_im2col_equals_unfold(kernel, stride, dilation):
    x = torch.randn(2, 3, 11, 12)
    torch.testing.assert_close(im2col(x, kernel, stride, dilation), F.unfold(x, kernel, dilation=dilation, stride=stride))


def test_windows_are_a_view_not_a_copy():
    x = torch.randn(1, 2, 8, 8)
    view = windows(x, (3, 3))
    assert view.shape == (1, 2, 6, 6, 3, 3) and view.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    assert torch.equal(view[0, 1, 2, 4], x[0, 1, 2:5, 4:7])
