"""Exercises for the chapter *Convolutions over sequences*.

Grade them with ``make grade`` (or ``pytest tests/grading -k sequences --impl=exercises``).
"""

import torch
import torch.nn.functional as F


def text_cnn_features(embedded, lengths, weights, biases):
    """Kim's sentence features: every filter's strongest response over the sentence, (N, sum of F).

    embedded (N, L, D) holds each sentence's word vectors, right-padded
    with zeros past its length; lengths (N,) counts its real words. For each
    width, weights[i] (F_i, D, w_i) and biases[i] (F_i,) are F_i filters of
    width w_i. Slide each filter over the words (a 1D convolution along the
    sentence, no padding), apply ReLU, and keep, per sentence and filter,
    the maximum over the windows that lie inside the sentence: window t
    covers words t .. t + w_i - 1 and counts when t + w_i <= length.
    Concatenate the widths in order: (N, F_1 + F_2 + ...). Every sentence
    has at least max(w_i) words.

    Hint: F.conv1d wants (N, D, L); a mask of the windows that count,
    filled with -inf elsewhere before the max, handles a whole batch at once.
    """
    ### BEGIN SOLUTION
    x = embedded.transpose(1, 2)  # (N, D, L)
    pooled = []
    for weight, bias in zip(weights, biases):
        width = weight.shape[-1]
        maps = F.relu(F.conv1d(x, weight, bias))  # (N, F, L - w + 1)
        inside = torch.arange(maps.shape[-1])[None, :] + width <= lengths[:, None]
        pooled.append(maps.masked_fill(~inside[:, None, :], float("-inf")).amax(-1))
    return torch.cat(pooled, 1)
    ### END SOLUTION


def causal_conv1d(x, weight, bias, dilation):
    """A dilated causal 1D convolution, as ByteNet's decoder uses it: (N, C, L) -> (N, F, L).

    weight is (F, C, K), bias (F,). Output step t combines the K input steps
    t - (K - 1) * dilation, ..., t - dilation, t, tap k of the filter
    reading step t - (K - 1 - k) * dilation; steps before 0 read zeros. So
    output t never depends on an input after t, and the output is as long
    as the input.

    Hint: pad (K - 1) * dilation zeros on the left only, then an ordinary
    dilated convolution without padding; or sum K shifted copies of x, each
    times one tap of the filter.
    """
    ### BEGIN SOLUTION
    reach = (weight.shape[-1] - 1) * dilation
    return F.conv1d(F.pad(x, (reach, 0)), weight, bias, dilation=dilation)
    ### END SOLUTION
