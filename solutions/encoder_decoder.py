"""Exercises for the chapter *Encoder-decoders: unpooling, transposed convolutions and U-Net*.

Grade them with ``make grade`` (or ``pytest tests/grading -k encoder_decoder --impl=exercises``).
"""

import torch


def max_unpool(x, indices, output_size):
    """SegNet's upsampling: put each value back where the encoder's max pooling found its maximum.

    x and indices are (N, C, h, w); ``indices`` are what
    ``max_pool2d(..., return_indices=True)`` returned: for each pooled value,
    the flat position (row * W + column) of its maximum in the (H, W) map
    before pooling. ``output_size`` is (H, W). Return (N, C, H, W): zeros
    everywhere except at those positions, which hold the values of x.

    Hint: make a zero tensor of shape (N, C, H * W), then scatter_ x (flattened
    to (N, C, h * w)) along the last dimension at the flattened indices.
    """
    ### BEGIN SOLUTION
    n, c = x.shape[:2]
    h, w = output_size
    out = x.new_zeros(n, c, h * w)
    out.scatter_(2, indices.flatten(2), x.flatten(2))
    return out.view(n, c, h, w)
    ### END SOLUTION


def copy_and_crop(decoder, encoder):
    """U-Net's skip: crop the encoder's map to the decoder's size, centred, and concatenate.

    decoder (N, C1, h, w) is the upsampled map; encoder (N, C2, H, W), with
    H >= h and W >= w, is the map of the same level on the contracting path.
    The original U-Net uses unpadded convolutions, so the encoder's map is
    larger: take its central h x w window (when H - h is odd, the extra row
    goes to the bottom: start at (H - h) // 2) and return the concatenation
    along the channels, encoder first: (N, C2 + C1, h, w). (Any fixed order
    works for a network, which learns the next convolution's weights to
    match; we fix this one so that answers can be compared.)
    """
    ### BEGIN SOLUTION
    h, w = decoder.shape[-2:]
    top = (encoder.shape[-2] - h) // 2
    left = (encoder.shape[-1] - w) // 2
    crop = encoder[..., top:top + h, left:left + w]
    return torch.cat([crop, decoder], dim=1)
    ### END SOLUTION
