"""Layers implemented from scratch, named and called like ``torch.nn.functional``.

Every function here is tested against its PyTorch counterpart (values and
gradients); the module classes are drop-in, state_dict-compatible versions
of ``torch.nn``'s.
"""

from cnncourse.layers.activations import Dropout, dropout, relu, sigmoid, tanh
from cnncourse.layers.conv import Conv1d, Conv2d, conv1d, conv2d, conv2d_loops
from cnncourse.layers.depthwise import depthwise_conv2d, depthwise_conv2d_loops
from cnncourse.layers.fully_conv import convolutionalize, linear_to_conv
from cnncourse.layers.im2col import im2col, taps, windows
from cnncourse.layers.kernels import kernels, use_kernels
from cnncourse.layers.normalization import (
    BatchNorm2d, LocalResponseNorm, batch_norm, gaussian_window, local_contrast_norm, local_response_norm,
    mean_image, subtract_mean_image,
)
from cnncourse.layers.pooling import (
    AvgPool2d, MaxPool2d, SpatialPyramidPool, adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool1d, avg_pool2d,
    cross_channel_max_pool, global_avg_pool2d, max_pool1d, max_pool2d, max_pool2d_backward, spatial_pyramid_pool,
)
from cnncourse.layers.upsampling import (
    ConvTranspose2d, bed_of_nails, bilinear_kernel, bilinear_transposed_conv, conv_matrix, conv_transpose2d, max_unpool2d,
    upsample_bilinear, upsample_nearest,
)
from cnncourse.layers.variants import AsymmetricConv2d, Bottleneck, ConvBNAct, DepthwiseSeparableConv2d, StackedConv2d

