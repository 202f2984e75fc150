"""Planted answers for testing the grader: for every exercise, plausible wrong answers and correct alternatives.

Each entry rewrites one solution block of ``solutions/<chapter>.py`` (the code
between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` of one function or
method) and says what the grader must make of it:

* ``wrong``: the tests of ``exercise`` (test names starting with it) must lose
  points. The mistakes are the ones students make: calling the library routine
  the exercise re-implements, ignoring an argument, a classic slip.
* ``right``: another correct formulation; every test must keep full marks.

``tests/test_grading.py`` grades them in rounds (one plant per chapter and
round), so a plant in one exercise also proves the other exercises of its
chapter are graded independently.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class Plant:
    chapter: str
    function: str  # "name" or "Class.method"
    verdict: str  # "wrong" or "right"
    why: str
    body: str
    exercise: str = ""  # prefix of the test names that must lose points (for "wrong")

    @property
    def scope(self) -> str:
        """Prefix of every test of this exercise (a plant may cost any of them, no others)."""
        return SCOPES[self.function.split(".")[0]]


SCOPES = {
    "conv2d_loops": "test_conv2d_loops", "im2col": "test_im2col", "conv2d_im2col": "test_conv2d_im2col",
    "max_pool2d_forward": "test_max_pool2d_forward", "max_pool2d_backward": "test_max_pool2d_backward",
    "output_size": "test_output_size", "receptive_field_size": "test_receptive_field_size",
    "batch_norm_forward": "test_batch_norm", "conv_transpose2d": "test_conv_transpose2d", "fc_to_conv": "test_fc_to_conv",
    "ten_crops": "test_ten_crops", "lenet_c3_params": "test_lenet_c3", "make_layers": "test_make_layers",
    "vgg_conv_params": "test_vgg_conv_params", "inception_params": "test_inception_params",
    "googlenet_loss": "test_googlenet_loss", "BasicBlock": "test_block", "Bottleneck": "test_block",
    "DenseBlock": "test_dense_block", "separable_block": "test_separable_block", "he_normal_": "test_he_normal",
    "warmup_cosine_lr": "test_warmup_cosine_lr", "saliency": "test_saliency",
    "occlusion_map": "test_occlusion_map", "guided_relu_backward": "test_guided_relu",
    "feature_maps": "test_feature_maps", "linear_probe": "test_linear_probe",
    "seen_by": "test_seen_by", "precision_at_k": "test_precision_at_k",
    "ascent_step": "test_ascent_step", "clip_small_norm": "test_clip_small_norm",
    "octave_loop": "test_octave_loop", "gram_matrix": "test_gram_matrix", "style_loss": "test_style_loss",
    "shape_bias": "test_shape_bias", "box_iou": "test_box_iou", "iou_loss": "test_iou_loss",
    "soft_argmax": "test_soft_argmax", "bilinear_kernel": "test_bilinear_kernel", "skip_fusion": "test_skip_fusion",
    "iou_from_confusion": "test_iou_from_confusion", "max_unpool": "test_max_unpool",
    "copy_and_crop": "test_copy_and_crop", "valid_taps": "test_valid_taps",
    "scale_invariant_loss": "test_scale_invariant_loss", "nms": "test_nms",
    "precision_recall": "test_precision_recall", "average_precision": "test_average_precision",
    "roi_pool": "test_roi_pool", "encode": "test_encode", "anchors": "test_anchors", "hinge_loss": "test_hinge_loss",
    "yolo_targets": "test_yolo_targets", "hard_negatives": "test_hard_negatives",
    "roi_align_mask": "test_roi_align_mask", "assemble": "test_assemble",
    "text_cnn_features": "test_text_cnn_features", "causal_conv1d": "test_causal_conv1d",
    "reduce_scatter": "test_reduce_scatter", "average_gradients": "test_average_gradients",
    "freeze_bottom": "test_freeze_bottom", "new_head": "test_new_head",
    "intersection_boxes": "test_intersection_boxes", "found_triplets": "test_found_triplets",
}


def planted(source: str, function: str, body: str) -> str:
    """``source`` with the solution block of ``function`` replaced by ``body``."""
    tree = ast.parse(source)
    owner, _, name = function.rpartition(".")
    scope = tree.body
    if owner:
        scope = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == owner).body
    node = next(n for n in scope if isinstance(n, ast.FunctionDef) and n.name == name)
    lines = source.splitlines(keepends=True)
    begin = next(i for i in range(node.lineno - 1, node.end_lineno) if lines[i].strip() == "### BEGIN SOLUTION")
    end = next(i for i in range(begin, len(lines)) if lines[i].strip() == "### END SOLUTION")
    indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
    new = "".join(indent + line + "\n" if line else "\n" for line in body.strip("\n").splitlines())
    return "".join(lines[: begin + 1]) + new + "".join(lines[end:])


LOOPS_NO_STRIDE = """
x = F.pad(x, (padding, padding, padding, padding))
n, _, h, w = x.shape
f, _, kh, kw = weight.shape
out = x.new_zeros(n, f, h - kh + 1, w - kw + 1)
for i in range(h - kh + 1):
    for j in range(w - kw + 1):
        out[:, :, i, j] = torch.einsum("nchw,fchw->nf", x[:, :, i : i + kh, j : j + kw], weight)
return out if bias is None else out + bias.view(1, -1, 1, 1)
"""

PLANTS = [
    # --- convolution ---
    Plant("convolution", "conv2d_loops", "wrong", "calls F.conv2d",
          "return F.conv2d(x, weight, bias, stride=stride, padding=padding)", "test_conv2d_loops"),
    Plant("convolution", "conv2d_loops", "wrong", "ignores stride", LOOPS_NO_STRIDE, "test_conv2d_loops"),
    Plant("convolution", "conv2d_loops", "right", "loops over positions, einsum over filters",
          LOOPS_NO_STRIDE.replace("h - kh + 1, w - kw + 1", "(h - kh) // stride + 1, (w - kw) // stride + 1")
          .replace("range(h - kh + 1)", "range((h - kh) // stride + 1)").replace("range(w - kw + 1)", "range((w - kw) // stride + 1)")
          .replace("x[:, :, i : i + kh, j : j + kw]", "x[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]")),
    Plant("convolution", "im2col", "wrong", "calls F.unfold", "return F.unfold(x, kernel_size, stride=stride)",
          "test_im2col"),
    Plant("convolution", "im2col", "right", "Tensor.unfold windows, permuted", """
kh, kw = kernel_size
n, c = x.shape[:2]
windows = x.unfold(2, kh, stride).unfold(3, kw, stride)  # (N, C, H_out, W_out, kH, kW)
return windows.permute(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, -1)
"""),
    Plant("convolution", "conv2d_im2col", "wrong", "ignores padding", """
n_filters, _, kh, kw = weight.shape
h_out, w_out = (x.shape[2] - kh) // stride + 1, (x.shape[3] - kw) // stride + 1
out = (weight.reshape(n_filters, -1) @ im2col(x, (kh, kw), stride)).reshape(x.shape[0], n_filters, h_out, w_out)
return out if bias is None else out + bias.view(1, -1, 1, 1)
""", "test_conv2d_im2col"),
    Plant("convolution", "conv2d_im2col", "wrong", "calls F.conv2d",
          "return F.conv2d(x, weight, bias, stride=stride, padding=padding)", "test_conv2d_im2col"),
    # --- pooling ---
    Plant("pooling", "max_pool2d_forward", "wrong", "calls F.max_pool2d",
          "return F.max_pool2d(x, kernel_size, stride, return_indices=True)", "test_max_pool2d_forward"),
    Plant("pooling", "max_pool2d_forward", "wrong", "indices local to the window, not flat in the plane", """
n, c, h, w = x.shape
k, s = kernel_size, stride
windows = x.unfold(2, k, s).unfold(3, k, s)
values, local = windows.reshape(*windows.shape[:4], k * k).max(dim=-1)
return values, local
""", "test_max_pool2d_forward"),
    Plant("pooling", "max_pool2d_forward", "right", "unfold windows, vectorised indices", """
n, c, h, w = x.shape
k, s = kernel_size, stride
windows = x.unfold(2, k, s).unfold(3, k, s)  # (N, C, H_out, W_out, k, k)
values, local = windows.reshape(*windows.shape[:4], k * k).max(dim=-1)
rows = torch.arange(windows.shape[2]).view(-1, 1) * s + local // k
cols = torch.arange(windows.shape[3]).view(1, -1) * s + local % k
return values, rows * w + cols
"""),
    Plant("pooling", "max_pool2d_backward", "wrong", "scatter_ overwrites where windows overlap", """
n, c, h, w = input_shape
grad = grad_out.new_zeros(n, c, h * w)
grad.scatter_(2, indices.reshape(n, c, -1), grad_out.reshape(n, c, -1))
return grad.reshape(n, c, h, w)
""", "test_max_pool2d_backward"),
    Plant("pooling", "max_pool2d_backward", "wrong", "calls F.max_unpool2d",
          "return F.max_unpool2d(grad_out, indices, 1, output_size=input_shape[-2:])", "test_max_pool2d_backward"),
    Plant("pooling", "max_pool2d_backward", "right", "index_put_ with accumulate", """
n, c, h, w = input_shape
grad = grad_out.new_zeros(n * c, h * w)
rows = torch.arange(n * c).view(-1, 1).expand(-1, indices[0, 0].numel())
grad.index_put_((rows.reshape(-1), indices.reshape(-1)), grad_out.reshape(-1), accumulate=True)
return grad.reshape(n, c, h, w)
"""),
    # --- variants of convolution ---
    Plant("conv_variants", "output_size", "wrong", "ignores dilation",
          "return (n + 2 * padding - kernel_size) // stride + 1", "test_output_size"),
    Plant("conv_variants", "output_size", "wrong", "measures a real convolution", """
import torch
out = torch.nn.functional.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, kernel_size, kernel_size),
                                 stride=stride, padding=padding, dilation=dilation)
return out.shape[-1]
""", "test_output_size"),
    Plant("conv_variants", "output_size", "right", "floor of the real quotient",
          "import math\nreturn math.floor((n + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1"),
    Plant("conv_variants", "receptive_field_size", "wrong", "ignores dilation", """
r, jump = 1, 1
for kernel_size, stride, dilation in layers:
    r, jump = r + (kernel_size - 1) * jump, jump * stride
return r
""", "test_receptive_field_size"),
    Plant("conv_variants", "receptive_field_size", "wrong", "calls analysis.receptive_field",
          "from cnncourse.analysis import receptive_field\nreturn receptive_field(layers)[-1][0]",
          "test_receptive_field_size"),
    Plant("conv_variants", "receptive_field_size", "right", "the forward recursion with a jump", """
r, jump = 1, 1
for kernel_size, stride, dilation in layers:
    r, jump = r + dilation * (kernel_size - 1) * jump, jump * stride
return r
"""),
    # --- normalisation ---
    Plant("normalization", "batch_norm_forward", "wrong", "calls F.batch_norm",
          "return F.batch_norm(x, running_mean, running_var, gamma, beta, training, momentum, eps)",
          "test_batch_norm_forward"),
    Plant("normalization", "batch_norm_forward", "wrong", "ignores eps", """
if training:
    mean, var = x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3), unbiased=False)
    count = x.numel() // x.shape[1]
    with torch.no_grad():
        running_mean.mul_(1 - momentum).add_(momentum * mean)
        running_var.mul_(1 - momentum).add_(momentum * var * count / (count - 1))
else:
    mean, var = running_mean, running_var
x_hat = (x - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + 1e-5)
return gamma.view(1, -1, 1, 1) * x_hat + beta.view(1, -1, 1, 1)
""", "test_batch_norm_forward_values"),
    Plant("normalization", "batch_norm_forward", "wrong", "running variance without Bessel's correction", """
if training:
    mean, var = x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3), unbiased=False)
    with torch.no_grad():
        running_mean.mul_(1 - momentum).add_(momentum * mean)
        running_var.mul_(1 - momentum).add_(momentum * var)
else:
    mean, var = running_mean, running_var
x_hat = (x - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + eps)
return gamma.view(1, -1, 1, 1) * x_hat + beta.view(1, -1, 1, 1)
""", "test_batch_norm_forward_updates"),
    Plant("normalization", "batch_norm_forward", "right", "moments by hand, rsqrt", """
c = x.shape[1]
if training:
    mean = x.transpose(0, 1).reshape(c, -1).mean(dim=1)
    centred = x - mean.view(1, -1, 1, 1)
    var = centred.square().transpose(0, 1).reshape(c, -1).mean(dim=1)
    m = x.numel() // c
    with torch.no_grad():
        running_mean.copy_((1 - momentum) * running_mean + momentum * mean)
        running_var.copy_((1 - momentum) * running_var + momentum * var * m / (m - 1))
else:
    mean, var = running_mean, running_var
    centred = x - mean.view(1, -1, 1, 1)
return centred * torch.rsqrt(var + eps).view(1, -1, 1, 1) * gamma.view(1, -1, 1, 1) + beta.view(1, -1, 1, 1)
"""),
    # --- upsampling ---
    Plant("upsampling", "conv_transpose2d", "wrong", "calls F.conv_transpose2d",
          "return F.conv_transpose2d(x, weight, stride=stride, padding=padding)", "test_conv_transpose2d"),
    Plant("upsampling", "conv_transpose2d", "wrong", "ignores padding", """
n, c_in, h, w = x.shape
k = weight.shape[2]
out = x.new_zeros(n, weight.shape[1], (h - 1) * stride + k, (w - 1) * stride + k)
for i in range(h):
    for j in range(w):
        out[:, :, i * stride : i * stride + k, j * stride : j * stride + k] += torch.einsum("nc,cokl->nokl", x[:, :, i, j], weight)
return out
""", "test_conv_transpose2d"),
    Plant("upsampling", "conv_transpose2d", "right", "zero insertion, then a stride-1 convolution with the flipped kernel", """
n, c_in, h, w = x.shape
k = weight.shape[2]
spread = x.new_zeros(n, c_in, (h - 1) * stride + 1, (w - 1) * stride + 1)
spread[:, :, ::stride, ::stride] = x
flipped = weight.flip(-2, -1).transpose(0, 1)  # (C_out, C_in, k, k)
return torch.nn.functional.conv2d(spread, flipped, padding=k - 1 - padding)
"""),
    # --- fully convolutional ---
    Plant("fully_convolutional", "fc_to_conv", "wrong", "calls layers.linear_to_conv",
          "from cnncourse.layers import linear_to_conv\nreturn linear_to_conv(linear, input_shape)", "test_fc_to_conv"),
    Plant("fully_convolutional", "fc_to_conv", "wrong", "reshapes the weights in the wrong order (H, W, C)", """
c, h, w = input_shape
conv = nn.Conv2d(c, linear.out_features, kernel_size=(h, w), bias=linear.bias is not None)
with torch.no_grad():
    conv.weight.copy_(linear.weight.reshape(linear.out_features, h, w, c).permute(0, 3, 1, 2))
    if linear.bias is not None:
        conv.bias.copy_(linear.bias)
return conv
""", "test_fc_to_conv"),
    Plant("fully_convolutional", "fc_to_conv", "right", "weights set through the state_dict", """
c, h, w = input_shape
conv = nn.Conv2d(c, linear.out_features, (h, w), bias=linear.bias is not None)
state = {"weight": linear.weight.detach().view(-1, c, h, w)}
if linear.bias is not None:
    state["bias"] = linear.bias.detach()
conv.load_state_dict(state)
return conv
"""),
    # --- LeNet and AlexNet ---
    Plant("lenet_alexnet", "ten_crops", "wrong", "calls torchvision's ten_crop", """
import torchvision.transforms.v2.functional as TF
if size > min(images.shape[-2:]):
    raise ValueError("too large")
return torch.stack(TF.ten_crop(images, [size, size]), dim=1)
""", "test_ten_crops"),
    Plant("lenet_alexnet", "ten_crops", "wrong", "forgets the mirror images", """
h, w = images.shape[-2:]
if size > h or size > w:
    raise ValueError("too large")
top, left = (h - size + 1) // 2, (w - size + 1) // 2
corners = [(0, 0), (0, w - size), (h - size, 0), (h - size, w - size), (top, left)]
five = [images[..., i : i + size, j : j + size] for i, j in corners]
return torch.stack(five + five, dim=1)
""", "test_ten_crops_match"),
    Plant("lenet_alexnet", "ten_crops", "right", "mirrors each crop after cropping (another order)", """
h, w = images.shape[-2:]
if size > h or size > w:
    raise ValueError(f"size {size} is larger than {h}x{w}")
top, left = (h - size + 1) // 2, (w - size + 1) // 2
crops = [images[..., i : i + size, j : j + size]
         for i, j in [(0, 0), (0, w - size), (h - size, 0), (h - size, w - size), (top, left)]]
return torch.stack([c for crop in crops for c in (crop, crop.flip(-1))], dim=1)
"""),
    Plant("lenet_alexnet", "lenet_c3_params", "wrong", "ignores kernel_size",
          "return sum(len(inputs) for inputs in table) * 25 + len(table)", "test_lenet_c3_params"),
    Plant("lenet_alexnet", "lenet_c3_params", "wrong", "forgets the biases",
          "return sum(len(inputs) for inputs in table) * kernel_size * kernel_size", "test_lenet_c3_params"),
    Plant("lenet_alexnet", "lenet_c3_params", "right", "per output map",
          "return sum(len(inputs) * kernel_size**2 + 1 for inputs in table)"),
    # --- VGG ---
    Plant("vgg", "make_layers", "wrong", "calls torchvision's make_layers", """
import torchvision
return torchvision.models.vgg.make_layers([c for c in config if c != "LRN"], batch_norm)
""", "test_make_layers"),
    Plant("vgg", "make_layers", "wrong", "ignores in_channels", """
modules, channels = [], 3
for item in config:
    if item == "M":
        modules.append(nn.MaxPool2d(2, 2))
    elif item != "LRN":
        size, width = (1, int(item.split("-")[1])) if isinstance(item, str) else (3, item)
        modules += [nn.Conv2d(channels, width, size, padding=size // 2)]
        modules += [nn.BatchNorm2d(width)] if batch_norm else []
        modules += [nn.ReLU(inplace=True)]
        channels = width
return nn.Sequential(*modules)
""", "test_make_layers_handles"),
    Plant("vgg", "vgg_conv_params", "wrong", "ignores in_channels", """
total, channels = 0, 3
for item in config:
    if item not in ("M", "LRN"):
        size, width = (1, int(item.split("-")[1])) if isinstance(item, str) else (3, item)
        total += size * size * channels * width + width
        channels = width
return total
""", "test_vgg_conv_params_with_one"),
    Plant("vgg", "vgg_conv_params", "wrong", "builds the layers and calls analysis.count_params", """
from cnncourse.analysis import count_params
from cnncourse.models.vgg import make_layers as build
return count_params(build(config, in_channels))
""", "test_vgg_conv_params"),
    Plant("vgg", "vgg_conv_params", "right", "builds its own layers and counts their parameters",
          "return sum(p.numel() for p in make_layers(config, in_channels).parameters())"),
    # --- GoogLeNet ---
    Plant("googlenet", "inception_params", "wrong", "builds the module and calls analysis.count_params", """
from cnncourse.analysis import count_params
from cnncourse.models.googlenet import Inception
return count_params(Inception(in_channels, c1, c3r, c3, c5r, c5, pool_proj, batch_norm=False, five=5))
""", "test_inception_params"),
    Plant("googlenet", "inception_params", "wrong", "forgets the biases", """
return (in_channels * c1 + in_channels * c3r + 9 * c3r * c3 + in_channels * c5r + 25 * c5r * c5
        + in_channels * pool_proj)
""", "test_inception_params"),
    Plant("googlenet", "googlenet_loss", "wrong", "hard-codes 0.3 instead of aux_weight", """
if not isinstance(outputs, tuple):
    return F.cross_entropy(outputs, target)
main, aux2, aux1 = outputs
return F.cross_entropy(main, target) + 0.3 * (F.cross_entropy(aux2, target) + F.cross_entropy(aux1, target))
""", "test_googlenet_loss_weights"),
    Plant("googlenet", "googlenet_loss", "right", "one weighted sum over the heads", """
heads = outputs if isinstance(outputs, tuple) else (outputs,)
weights = [1.0] + [aux_weight] * (len(heads) - 1)
return sum(wt * F.cross_entropy(h, target) for wt, h in zip(weights, heads))
"""),
    # --- ResNet ---
    Plant("resnet", "BasicBlock.__init__", "wrong", "takes torchvision's block apart", """
import torchvision
for name, module in torchvision.models.resnet.BasicBlock(
        in_channels, planes, stride, _projection(in_channels, planes, stride)).named_children():
    setattr(self, name, module)
""", "test_block_loads_torchvision_weights_and_matches_in_eval[BasicBlock"),
    Plant("resnet", "Bottleneck.__init__", "wrong", "puts the stride on the first 1x1 convolution (v1, not v1.5)", """
out_channels = planes * self.expansion
self.conv1 = nn.Conv2d(in_channels, planes, 1, stride, bias=False)
self.bn1 = nn.BatchNorm2d(planes)
self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
self.bn2 = nn.BatchNorm2d(planes)
self.conv3 = nn.Conv2d(planes, out_channels, 1, bias=False)
self.bn3 = nn.BatchNorm2d(out_channels)
self.relu = nn.ReLU(inplace=True)
self.downsample = _projection(in_channels, out_channels, stride)
""", "test_block_loads_torchvision_weights_and_matches_in_eval[Bottleneck-32"),
    Plant("resnet", "BasicBlock.forward", "wrong", "applies the ReLU before the addition", """
out = self.relu(self.bn1(self.conv1(x)))
out = self.relu(self.bn2(self.conv2(out)))
return out + (x if self.downsample is None else self.downsample(x))
""", "test_block_loads_torchvision_weights_and_matches_in_eval[BasicBlock"),
    Plant("resnet", "BasicBlock.forward", "right", "the shortcut computed first, functional ReLU", """
identity = x if self.downsample is None else self.downsample(x)
out = nn.functional.relu(self.bn1(self.conv1(x)))
return nn.functional.relu(self.bn2(self.conv2(out)) + identity)
"""),
    # --- DenseNet, MobileNet, BagNet ---
    Plant("densenet_mobilenet_bagnet", "DenseBlock.__init__", "wrong", "takes torchvision's dense block apart", """
from torchvision.models.densenet import _DenseBlock
for name, module in _DenseBlock(num_layers, in_channels, bn_size, growth_rate, drop_rate=0.0).items():
    self[name] = module
""", "test_dense_block"),
    Plant("densenet_mobilenet_bagnet", "DenseBlock.forward", "wrong", "each layer reads only the previous output", """
features, h = [x], x
for i, layer in enumerate(self.values()):
    h = layer(h if i == 0 else torch.cat([x, h], 1))
    features.append(h)
return torch.cat(features, 1)
""", "test_dense_block_loads"),
    Plant("densenet_mobilenet_bagnet", "separable_block", "wrong", "puts the stride on the pointwise convolution", """
return nn.Sequential(
    nn.Conv2d(in_channels, in_channels, 3, 1, 1, groups=in_channels, bias=False),
    nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True),
    nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
    nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True),
)
""", "test_separable_block"),
    Plant("densenet_mobilenet_bagnet", "separable_block", "wrong", "builds the course's DepthwiseSeparableConv2d", """
from cnncourse.layers import DepthwiseSeparableConv2d
return nn.Sequential(DepthwiseSeparableConv2d(in_channels, out_channels, stride=stride))
""", "test_separable_block"),
    # --- training ---
    Plant("training", "he_normal_", "wrong", "calls nn.init.kaiming_normal_",
          "return torch.nn.init.kaiming_normal_(weight, nonlinearity='relu')", "test_he_normal"),
    Plant("training", "he_normal_", "wrong", "uses the fan-out", """
with torch.no_grad():
    return weight.normal_(0.0, math.sqrt(2.0 / (weight.shape[0] * weight[0, 0].numel())))
""", "test_he_normal"),
    Plant("training", "he_normal_", "right", "standard normal, scaled in place", """
with torch.no_grad():
    return weight.copy_(torch.randn(weight.shape) * math.sqrt(2.0 / weight[0].numel()))
"""),
    Plant("training", "warmup_cosine_lr", "wrong", "ignores the warm-up", """
return base_lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
""", "test_warmup_cosine_lr"),
    Plant("training", "warmup_cosine_lr", "right", "the cosine written with sin squared", """
if step < warmup_steps:
    return base_lr * (step + 1) / warmup_steps
t = (step - warmup_steps) / (total_steps - warmup_steps)
return base_lr * (1 - math.sin(math.pi * t / 2) ** 2)
"""),
]


PLANTS += [
    # --- attribution ---
    Plant("attribution", "saliency", "wrong", "calls cnncourse.viz.saliency",
          "from cnncourse import viz\nreturn viz.saliency(model, x, target)", "test_saliency"),
    Plant("attribution", "saliency", "wrong", "forgets the absolute value", """
x = x.detach().clone().requires_grad_(True)
logits = model(x)
target = torch.as_tensor(target).long().flatten().expand(len(x))
(grad,) = torch.autograd.grad(logits.gather(1, target[:, None]).sum(), x)
return grad.amax(dim=1)
""", "test_saliency"),
    Plant("attribution", "saliency", "wrong", "averages the channels instead of taking the maximum", """
x = x.detach().clone().requires_grad_(True)
logits = model(x)
target = torch.as_tensor(target).long().flatten().expand(len(x))
(grad,) = torch.autograd.grad(logits.gather(1, target[:, None]).sum(), x)
return grad.abs().mean(dim=1)
""", "test_saliency"),
    Plant("attribution", "saliency", "right", "backward() on a leaf copy, one image at a time", """
maps = []
targets = torch.as_tensor(target).long().flatten().expand(len(x))
for image, t in zip(x, targets):
    leaf = image[None].detach().clone().requires_grad_(True)
    model(leaf)[0, t].backward()
    maps.append(leaf.grad[0].abs().max(dim=0).values)
for p in model.parameters():
    p.grad = None
return torch.stack(maps)
"""),
    Plant("attribution", "occlusion_map", "wrong", "records the logit, not the probability", """
n, _, h, w = x.shape
rows, cols = (h - window) // stride + 1, (w - window) // stride + 1
target = torch.as_tensor(target).long().flatten().expand(n)
out = torch.empty(n, rows, cols)
with torch.no_grad():
    for i in range(rows):
        for j in range(cols):
            occluded = x.clone()
            occluded[:, :, i * stride : i * stride + window, j * stride : j * stride + window] = baseline
            out[:, i, j] = model(occluded).gather(1, target[:, None])[:, 0]
return out
""", "test_occlusion_map"),
    Plant("attribution", "occlusion_map", "wrong", "calls cnncourse.viz.occlusion_map",
          "from cnncourse import viz\nreturn viz.occlusion_map(model, x, target, window, stride, baseline)",
          "test_occlusion_map"),
    Plant("attribution", "occlusion_map", "right", "every position in one batch per image", """
n, c, h, w = x.shape
rows, cols = (h - window) // stride + 1, (w - window) // stride + 1
target = torch.as_tensor(target).long().flatten().expand(n)
out = torch.empty(n, rows, cols)
with torch.no_grad():
    for k in range(n):
        copies = x[k:k + 1].repeat(rows * cols, 1, 1, 1)
        for p in range(rows * cols):
            i, j = divmod(p, cols)
            copies[p, :, i * stride : i * stride + window, j * stride : j * stride + window] = baseline
        out[k] = model(copies).softmax(dim=1)[:, target[k]].reshape(rows, cols)
return out
"""),
    Plant("attribution", "guided_relu_backward", "wrong", "DeconvNet's rule (ignores the forward pass)",
          "return grad_output.clamp(min=0)", "test_guided_relu"),
    Plant("attribution", "guided_relu_backward", "wrong", "the ordinary ReLU gradient",
          "return grad_output * (output > 0)", "test_guided_relu"),
    Plant("attribution", "guided_relu_backward", "right", "one torch.where",
          "return torch.where((output > 0) & (grad_output > 0), grad_output, torch.zeros_like(grad_output))"),
    # --- activations ---
    Plant("activations", "feature_maps", "wrong", "calls cnncourse.viz.activations",
          "from cnncourse import viz\nreturn viz.activations(model, x, names)", "test_feature_maps"),
    Plant("activations", "feature_maps", "wrong", "keeps a reference, which the in-place ReLU overwrites", """
modules = dict(model.named_modules())
outputs, handles = {}, []
for name in names:
    def hook(module, inputs, output, name=name):
        outputs[name] = output.detach()
    handles.append(modules[name].register_forward_hook(hook))
was_training = model.training
model.eval()
with torch.no_grad():
    model(x)
model.train(was_training)
for handle in handles:
    handle.remove()
return outputs
""",
          "test_feature_maps"),
    Plant("activations", "feature_maps", "wrong", "runs in training mode (batch norm uses the batch's statistics)",
          """
modules = dict(model.named_modules())
outputs, handles = {}, []
for name in names:
    def hook(module, inputs, output, name=name):
        outputs[name] = output.detach().clone()
    handles.append(modules[name].register_forward_hook(hook))
was_training = model.training
model.train()
with torch.no_grad():
    model(x)
model.train(was_training)
for handle in handles:
    handle.remove()
return outputs
""", "test_feature_maps"),
    Plant("activations", "feature_maps", "wrong", "never removes its hooks", """
modules = dict(model.named_modules())
outputs, handles = {}, []
for name in names:
    def hook(module, inputs, output, name=name):
        outputs[name] = output.detach().clone()
    handles.append(modules[name].register_forward_hook(hook))
was_training = model.training
model.eval()
with torch.no_grad():
    model(x)
model.train(was_training)

return outputs
""", "test_feature_maps"),
    Plant("activations", "feature_maps", "wrong", "records the layer's input, not its output", """
modules = dict(model.named_modules())
outputs, handles = {}, []
for name in names:
    def hook(module, inputs, output, name=name):
        outputs[name] = inputs[0].detach().clone()
    handles.append(modules[name].register_forward_hook(hook))
was_training = model.training
model.eval()
with torch.no_grad():
    model(x)
model.train(was_training)
for handle in handles:
    handle.remove()
return outputs
""", "test_feature_maps"),
    Plant("activations", "feature_maps", "right", "walks the (nested) Sequential by hand, no hooks", """
outputs = {}
def walk(module, name, h):
    if isinstance(module, nn.Sequential):
        for child_name, child in module.named_children():
            h = walk(child, f"{name}.{child_name}" if name else child_name, h)
    else:
        h = module(h)
    if name in names:
        outputs[name] = h.clone()
    return h
was_training = model.training
model.eval()
with torch.no_grad():
    walk(model, "", x)
model.train(was_training)
return outputs
"""),
    Plant("activations", "linear_probe", "wrong", "calls cnncourse.viz.linear_probe",
          "from cnncourse import viz\nreturn viz.linear_probe(model, layer_name, train, test)", "test_linear_probe"),
    Plant("activations", "linear_probe", "wrong", "probes the network's output instead of the layer", """
(x_train, y_train), (x_test, y_test) = train, test
with torch.no_grad():
    f_train, f_test = model.eval()(x_train), model(x_test)
probe = nn.Linear(f_train.shape[1], int(y_train.max()) + 1)
optimizer = torch.optim.Adam(probe.parameters(), lr=1e-2)
for _ in range(epochs):
    optimizer.zero_grad()
    nn.functional.cross_entropy(probe(f_train), y_train).backward()
    optimizer.step()
with torch.no_grad():
    return (probe(f_test).argmax(1) == y_test).float().mean().item()
""", "test_linear_probe"),
    Plant("activations", "linear_probe", "wrong", "reports the training accuracy", """
(x_train, y_train), (x_test, y_test) = train, test
f_train = feature_maps(model, x_train, [layer_name])[layer_name].flatten(1)
mean, std = f_train.mean(0), f_train.std(0).clamp(min=1e-6)
f_train = (f_train - mean) / std
probe = nn.Linear(f_train.shape[1], int(y_train.max()) + 1)
optimizer = torch.optim.Adam(probe.parameters(), lr=1e-2)
for _ in range(epochs):
    optimizer.zero_grad()
    nn.functional.cross_entropy(probe(f_train), y_train).backward()
    optimizer.step()
with torch.no_grad():
    return (probe(f_train).argmax(1) == y_train).float().mean().item()
""", "test_linear_probe"),
    Plant("activations", "linear_probe", "wrong", "fine-tunes the network along with the probe", """
(x_train, y_train), (x_test, y_test) = train, test
modules = dict(model.named_modules())
seen = {}
handle = modules[layer_name].register_forward_hook(lambda m, i, o: seen.__setitem__("out", o))
probe = None
for _ in range(epochs):
    model(x_train)
    f = seen["out"].flatten(1)
    if probe is None:
        probe = nn.Linear(f.shape[1], int(y_train.max()) + 1)
        optimizer = torch.optim.Adam([*probe.parameters(), *model.parameters()], lr=1e-2)
    optimizer.zero_grad()
    nn.functional.cross_entropy(probe(f), y_train).backward()
    optimizer.step()
with torch.no_grad():
    model(x_test)
    accuracy = (probe(seen["out"].flatten(1)).argmax(1) == y_test).float().mean().item()
handle.remove()
return accuracy
""", "test_linear_probe"),
    Plant("activations", "linear_probe", "right", "scikit-learn's logistic regression on the features", """
from sklearn.linear_model import LogisticRegression
(x_train, y_train), (x_test, y_test) = train, test
f_train = feature_maps(model, x_train, [layer_name])[layer_name].flatten(1).numpy()
f_test = feature_maps(model, x_test, [layer_name])[layer_name].flatten(1).numpy()
classifier = LogisticRegression(max_iter=1000).fit(f_train, y_train.numpy())
return float((classifier.predict(f_test) == y_test.numpy()).mean())
"""),
    # --- retrieval ---
    Plant("retrieval", "seen_by", "wrong", "calls the course's Field.seen_by", """
from cnncourse.analysis import Field
((first, last),) = Field((start,), (end,), (jump,)).seen_by((index,), (size,))
return first, last
""", "test_seen_by"),
    Plant("retrieval", "seen_by", "wrong", "forgets to clip to the image",
          "return int(start + index * jump), int(end + index * jump)", "test_seen_by"),
    Plant("retrieval", "seen_by", "wrong", "moves by one pixel per unit (ignores the jump)",
          "return max(0, int(start + index)), min(size, int(end + index))", "test_seen_by"),
    Plant("retrieval", "seen_by", "wrong", "clips the end to size - 1 (drops the last pixel)",
          "return max(0, int(start + index * jump)), min(size - 1, int(end + index * jump))", "test_seen_by"),
    Plant("retrieval", "seen_by", "right", "lists the pixels and takes the first and last", """
pixels = [p for p in range(size) if start + index * jump <= p < end + index * jump]
return pixels[0], pixels[-1] + 1
"""),
    Plant("retrieval", "precision_at_k", "wrong", "calls cnncourse.viz", """
from cnncourse import viz
return viz.precision_at_k(viz.nearest_neighbours(queries, gallery, k), query_labels, gallery_labels)
""", "test_precision_at_k"),
    Plant("retrieval", "precision_at_k", "wrong", "Euclidean distance instead of cosine similarity", """
neighbours = torch.cdist(queries.float(), gallery.float()).topk(k, dim=1, largest=False).indices
return (gallery_labels[neighbours] == query_labels[:, None]).float().mean().item()
""", "test_precision_at_k"),
    Plant("retrieval", "precision_at_k", "wrong", "takes the k least similar", """
q = torch.nn.functional.normalize(queries.float(), dim=1)
g = torch.nn.functional.normalize(gallery.float(), dim=1)
neighbours = (q @ g.T).topk(k, dim=1, largest=False).indices
return (gallery_labels[neighbours] == query_labels[:, None]).float().mean().item()
""", "test_precision_at_k"),
    Plant("retrieval", "precision_at_k", "wrong", "dot product without normalising", """
neighbours = (queries.float() @ gallery.float().T).topk(k, dim=1).indices
return (gallery_labels[neighbours] == query_labels[:, None]).float().mean().item()
""", "test_precision_at_k"),
    Plant("retrieval", "precision_at_k", "right", "scikit-learn's NearestNeighbors with the cosine metric", """
from sklearn.neighbors import NearestNeighbors
index = NearestNeighbors(n_neighbors=k, metric="cosine").fit(gallery.numpy())
neighbours = torch.from_numpy(index.kneighbors(queries.numpy(), return_distance=False))
return (gallery_labels[neighbours] == query_labels[:, None]).float().mean().item()
"""),
    # --- gradient ascent ---
    Plant("gradient_ascent", "ascent_step", "wrong", "calls cnncourse.viz.gradient_ascent", """
from cnncourse import viz
return viz.gradient_ascent(model, viz.ClassLogit(target), x, steps=1, lr=lr, mean=0.0, value_range=None,
                           regularizers=[viz.L2Decay(decay)]).image
""", "test_ascent_step"),
    Plant("gradient_ascent", "ascent_step", "wrong", "ignores the decay", """
x = x.detach().clone().requires_grad_(True)
(grad,) = torch.autograd.grad(model(x)[:, target].sum(), x)
return (x + lr * grad / grad.abs().mean(dim=(1, 2, 3), keepdim=True)).detach()
""", "test_ascent_step"),
    Plant("gradient_ascent", "ascent_step", "wrong", "normalises by the whole batch's mean, not each image's", """
x = x.detach().clone().requires_grad_(True)
(grad,) = torch.autograd.grad(model(x)[:, target].sum(), x)
return ((x + lr * grad / grad.abs().mean()) * (1 - decay)).detach()
""", "test_ascent_step"),
    Plant("gradient_ascent", "ascent_step", "wrong", "decays before the step instead of after it", """
x = x.detach().clone().requires_grad_(True)
(grad,) = torch.autograd.grad(model(x)[:, target].sum(), x)
return (x * (1 - decay) + lr * grad / grad.abs().mean(dim=(1, 2, 3), keepdim=True)).detach()
""", "test_ascent_step"),
    Plant("gradient_ascent", "ascent_step", "right", "backward() image by image on leaf copies", """
steps = []
for image in x:
    leaf = image[None].detach().clone().requires_grad_(True)
    model(leaf)[0, target].backward()
    g = leaf.grad
    steps.append((leaf.detach() + lr * g / g.abs().mean()) * (1 - decay))
for p in model.parameters():
    p.grad = None
return torch.cat(steps)
"""),
    Plant("gradient_ascent", "clip_small_norm", "wrong", "calls cnncourse.viz.ClipNorm", """
from cnncourse import viz
return viz.ClipNorm(percentile)(z, z, 0)
""", "test_clip_small_norm"),
    Plant("gradient_ascent", "clip_small_norm", "wrong", "ranks the pixels of the whole batch together", """
n, c, h, w = z.shape
count = round(percentile / 100 * h * w) * n
keep = torch.ones(n * h * w)
if count:
    keep[z.norm(dim=1).flatten().topk(count, largest=False).indices] = 0.0
return z * keep.view(n, 1, h, w)
""", "test_clip_small_norm"),
    Plant("gradient_ascent", "clip_small_norm", "wrong", "clips each channel separately by absolute value", """
n, c, h, w = z.shape
count = round(percentile / 100 * h * w)
if not count:
    return z.clone()
smallest = z.abs().flatten(2).topk(count, dim=2, largest=False).indices
return z * torch.ones(n, c, h * w).scatter_(2, smallest, 0.0).view(n, c, h, w)
""", "test_clip_small_norm"),
    Plant("gradient_ascent", "clip_small_norm", "wrong", "zeroes the largest pixels instead", """
n, c, h, w = z.shape
count = round(percentile / 100 * h * w)
keep = torch.ones(n, h * w)
if count:
    keep.scatter_(1, z.norm(dim=1).flatten(1).topk(count, dim=1).indices, 0.0)
return z * keep.view(n, 1, h, w)
""", "test_clip_small_norm"),
    Plant("gradient_ascent", "clip_small_norm", "right", "a threshold at the count-th smallest norm", """
n, c, h, w = z.shape
count = round(percentile / 100 * h * w)
if count == 0:
    return z.clone()
norms = z.norm(dim=1).flatten(1)
threshold = norms.kthvalue(count, dim=1, keepdim=True).values
return z * (norms > threshold).view(n, 1, h, w)
"""),
    # --- deep dream ---
    Plant("deep_dream", "octave_loop", "wrong", "calls cnncourse.viz.octave_loop", """
from cnncourse import viz
return viz.octave_loop(image, octaves, octave_scale, ascend)
""", "test_octave_loop"),
    Plant("deep_dream", "octave_loop", "wrong", "restarts each octave from the photograph (drops the detail)", """
h, w = image.shape[2:]
for k in reversed(range(octaves)):
    size = (max(1, round(h / octave_scale ** k)), max(1, round(w / octave_scale ** k)))
    base = image if tuple(image.shape[2:]) == size else F.interpolate(
        image, size=size, mode="bilinear", align_corners=False, antialias=True)
    result = ascend(base.clamp(0, 1), octaves - 1 - k)
return result
""", "test_octave_loop"),
    Plant("deep_dream", "octave_loop", "wrong", "carries the whole image instead of the detail", """
h, w = image.shape[2:]
x = None
for k in reversed(range(octaves)):
    size = (max(1, round(h / octave_scale ** k)), max(1, round(w / octave_scale ** k)))
    source = image if x is None else x
    x = source if tuple(source.shape[2:]) == size else F.interpolate(
        source, size=size, mode="bilinear", align_corners=False, antialias=True)
    x = ascend(x.clamp(0, 1), octaves - 1 - k)
return x
""", "test_octave_loop"),
    Plant("deep_dream", "octave_loop", "wrong", "runs the octaves from the largest to the smallest", """
h, w = image.shape[2:]
sizes = [(max(1, round(h / octave_scale ** k)), max(1, round(w / octave_scale ** k))) for k in range(octaves)]
detail = torch.zeros_like(image)
for k, size in enumerate(sizes):
    base = F.interpolate(image, size=size, mode="bilinear", align_corners=False, antialias=True)
    d = F.interpolate(detail, size=size, mode="bilinear", align_corners=False, antialias=True)
    result = ascend((base + d).clamp(0, 1), k)
    detail = result - base
return result
""", "test_octave_loop"),
    Plant("deep_dream", "octave_loop", "right", "resizes the detail to the next size at the end of each octave", """
h, w = image.shape[2:]
sizes = [(max(1, round(h / octave_scale ** k)), max(1, round(w / octave_scale ** k)))
         for k in reversed(range(octaves))]


def resize(x, size):
    return x if tuple(x.shape[2:]) == size else F.interpolate(
        x, size=size, mode="bilinear", align_corners=False, antialias=True)


detail = 0.0
for k, size in enumerate(sizes):
    base = resize(image, size)
    result = ascend((base + detail).clamp(0, 1), k)
    if k + 1 < len(sizes):
        detail = resize(result - base, sizes[k + 1])
return result
"""),
    # --- style transfer ---
    Plant("style_transfer", "gram_matrix", "wrong", "calls cnncourse.viz.gram_matrix", """
from cnncourse import viz
return viz.gram_matrix(features)
""", "test_gram_matrix"),
    Plant("style_transfer", "gram_matrix", "wrong", "forgets to divide by the number of positions", """
flat = features.flatten(2)
return flat @ flat.transpose(1, 2)
""", "test_gram_matrix"),
    Plant("style_transfer", "gram_matrix", "wrong", "correlates positions instead of channels (F.T @ F)", """
flat = features.flatten(2)
return flat.transpose(1, 2) @ flat / flat.shape[2]
""", "test_gram_matrix"),
    Plant("style_transfer", "gram_matrix", "right", "an einsum over the positions", """
n, c, h, w = features.shape
return torch.einsum("nchw,ndhw->ncd", features, features) / (h * w)
"""),
    Plant("style_transfer", "style_loss", "wrong", "sums the layers without weighing them", """
total = 0.0
for name, target in targets.items():
    total = total + (gram_matrix(features[name]) - target).pow(2).mean()
return total
""", "test_style_loss"),
    Plant("style_transfer", "style_loss", "wrong", "compares the maps' means instead of their Gram matrices", """
total = 0.0
for name, target in targets.items():
    total = total + (features[name].mean((2, 3)) - target.diagonal(dim1=1, dim2=2)).pow(2).mean()
return total / len(targets)
""", "test_style_loss"),
    Plant("style_transfer", "style_loss", "right", "a mean over a stacked list, torch.nn.functional.mse_loss", """
import torch.nn.functional as F
terms = [F.mse_loss(gram_matrix(features[name]), target.expand(len(features[name]), -1, -1))
         for name, target in targets.items()]
return torch.stack(terms).mean()
"""),
    Plant("texture_shape", "shape_bias", "wrong", "calls cnncourse.data.shape_bias", """
from cnncourse import data
return data.shape_bias(predictions, shape_labels, texture_labels)
""", "test_shape_bias"),
    Plant("texture_shape", "shape_bias", "wrong", "counts the images decided for a third class", """
conflict = shape_labels != texture_labels
shape = (conflict & (predictions == shape_labels)).sum().item()
texture = (conflict & (predictions == texture_labels)).sum().item()
if shape + texture == 0:
    return float("nan")
return shape / conflict.sum().item()
""", "test_shape_bias"),
    Plant("texture_shape", "shape_bias", "wrong", "uses every image, not only the cue-conflict ones", """
shape = (predictions == shape_labels).sum().item()
texture = (predictions == texture_labels).sum().item()
if shape + texture == 0:
    return float("nan")
return shape / (shape + texture)
""", "test_shape_bias"),
    Plant("texture_shape", "shape_bias", "wrong", "swaps shape and texture", """
conflict = shape_labels != texture_labels
shape = (conflict & (predictions == shape_labels)).sum().item()
texture = (conflict & (predictions == texture_labels)).sum().item()
if shape + texture == 0:
    return float("nan")
return texture / (shape + texture)
""", "test_shape_bias"),
    Plant("texture_shape", "shape_bias", "right", "a loop over the images, keeping the decided conflicts", """
decisions = []
for p, s, t in zip(predictions.tolist(), shape_labels.tolist(), texture_labels.tolist()):
    if s != t and p in (s, t):
        decisions.append(p == s)
return sum(decisions) / len(decisions) if decisions else float("nan")
"""),
    # --- classification + localisation, and pose ---
    Plant("localization_pose", "box_iou", "wrong", "calls torchvision.ops.box_iou", """
import torchvision
return torchvision.ops.box_iou(boxes1, boxes2)
""", "test_box_iou"),
    Plant("localization_pose", "box_iou", "wrong", "forgets to clamp: disjoint boxes get a negative overlap", """
top_left = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
bottom_right = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
wh = bottom_right - top_left
inter = wh[..., 0] * wh[..., 1]
area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
return inter / (area1[:, None] + area2[None, :] - inter)
""", "test_box_iou"),
    Plant("localization_pose", "box_iou", "wrong", "divides by the sum of the areas (double-counts the overlap)", """
top_left = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
bottom_right = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
wh = (bottom_right - top_left).clamp(min=0)
inter = wh[..., 0] * wh[..., 1]
area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
return inter / (area1[:, None] + area2[None, :])
""", "test_box_iou"),
    Plant("localization_pose", "box_iou", "right", "one coordinate at a time, with torch.min/max", """
x1 = torch.max(boxes1[:, None, 0], boxes2[None, :, 0])
y1 = torch.max(boxes1[:, None, 1], boxes2[None, :, 1])
x2 = torch.min(boxes1[:, None, 2], boxes2[None, :, 2])
y2 = torch.min(boxes1[:, None, 3], boxes2[None, :, 3])
inter = (x2 - x1).clamp(min=0) * (y2 - y1).clamp(min=0)
a1 = ((boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1]))[:, None]
a2 = ((boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1]))[None, :]
return inter / (a1 + a2 - inter)
"""),
    Plant("localization_pose", "iou_loss", "wrong", "averages over every pair instead of the matched ones", """
return (1 - box_iou(pred, target)).mean()
""", "test_iou_loss"),
    Plant("localization_pose", "iou_loss", "wrong", "returns the mean IoU, not 1 - IoU", """
return box_iou(pred, target).diagonal().mean()
""", "test_iou_loss"),
    Plant("localization_pose", "iou_loss", "right", "the diagonal of the student's own box_iou", """
return (1 - box_iou(pred, target).diagonal()).mean()
"""),
    Plant("localization_pose", "soft_argmax", "wrong", "a hard argmax: no gradient", """
n, k, h, w = heatmaps.shape
index = heatmaps.reshape(n, k, h * w).argmax(-1)
x = (index % w + 0.5) * stride
y = (index // w + 0.5) * stride
return torch.stack([x, y], -1).float()
""", "test_soft_argmax"),
    Plant("localization_pose", "soft_argmax", "wrong", "forgets the half-cell offset (cell corners, not centres)", """
n, k, h, w = heatmaps.shape
prob = heatmaps.reshape(n, k, h * w).softmax(-1).reshape(n, k, h, w)
xs = torch.arange(w, dtype=prob.dtype) * stride
ys = torch.arange(h, dtype=prob.dtype) * stride
return torch.stack([(prob.sum(2) * xs).sum(-1), (prob.sum(3) * ys).sum(-1)], -1)
""", "test_soft_argmax"),
    Plant("localization_pose", "soft_argmax", "wrong", "a softmax per row instead of over the whole map", """
n, k, h, w = heatmaps.shape
prob = heatmaps.softmax(-1) / h
xs = (torch.arange(w, dtype=prob.dtype) + 0.5) * stride
ys = (torch.arange(h, dtype=prob.dtype) + 0.5) * stride
return torch.stack([(prob.sum(2) * xs).sum(-1), (prob.sum(3) * ys).sum(-1)], -1)
""", "test_soft_argmax"),
    Plant("localization_pose", "soft_argmax", "right", "an einsum against a coordinate grid", """
n, k, h, w = heatmaps.shape
prob = heatmaps.flatten(2).softmax(-1)
ys, xs = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
grid = torch.stack([xs.flatten(), ys.flatten()], -1).to(prob) * stride
return torch.einsum("nkp,pd->nkd", prob, grid)
"""),
    # --- semantic segmentation ---
    Plant("semantic_segmentation", "bilinear_kernel", "wrong", "calls cnncourse.layers.bilinear_kernel", """
from cnncourse.layers import bilinear_kernel as kernel
return kernel(channels, scale_factor)
""", "test_bilinear_kernel"),
    Plant("semantic_segmentation", "bilinear_kernel", "wrong", "fills every channel pair: each output mixes all inputs", """
f = scale_factor
k = 2 * f - f % 2
centre = f - 1 if k % 2 == 1 else f - 0.5
tent = 1 - (torch.arange(k, dtype=torch.float32) - centre).abs() / f
return torch.outer(tent, tent).expand(channels, channels, k, k).clone()
""", "test_bilinear_kernel"),
    Plant("semantic_segmentation", "bilinear_kernel", "wrong", "puts the centre at f - 1 for every kernel size", """
f = scale_factor
k = 2 * f - f % 2
tent = 1 - (torch.arange(k, dtype=torch.float32) - (f - 1)).abs() / f
weight = torch.zeros(channels, channels, k, k)
for c in range(channels):
    weight[c, c] = torch.outer(tent, tent)
return weight
""", "test_bilinear_kernel"),
    Plant("semantic_segmentation", "bilinear_kernel", "right", "Caffe's upsample_filt with numpy's ogrid", """
import numpy as np
f = scale_factor
size = 2 * f - f % 2
factor = (size + 1) // 2
center = factor - 1 if size % 2 == 1 else factor - 0.5
og = np.ogrid[:size, :size]
filt = (1 - abs(og[0] - center) / factor) * (1 - abs(og[1] - center) / factor)
weight = torch.zeros(channels, channels, size, size)
weight[range(channels), range(channels)] = torch.from_numpy(filt).float()
return weight
"""),
    Plant("semantic_segmentation", "skip_fusion", "wrong", "ignores upsample and interpolates instead", """
import torch.nn.functional as F
return F.interpolate(coarse, size=skip.shape[-2:], mode="bilinear", align_corners=False) + skip
""", "test_skip_fusion"),
    Plant("semantic_segmentation", "skip_fusion", "wrong", "keeps the bottom-right instead of the top-left", """
up = upsample(coarse)
h, w = skip.shape[-2:]
return up[..., up.shape[-2] - h:, up.shape[-1] - w:] + skip
""", "test_skip_fusion"),
    Plant("semantic_segmentation", "skip_fusion", "right", "narrow() to the skip's size", """
h, w = skip.shape[-2:]
return skip + upsample(coarse).narrow(-2, 0, h).narrow(-1, 0, w)
"""),
    Plant("semantic_segmentation", "iou_from_confusion", "wrong", "calls cnncourse.segmentation.scores", """
from cnncourse import segmentation
result = segmentation.scores(confmat)
return result.iou, result.miou
""", "test_iou_from_confusion"),
    Plant("semantic_segmentation", "iou_from_confusion", "wrong", "counts absent classes as IoU 0", """
m = confmat.double()
tp = torch.diag(m)
union = m.sum(0) + m.sum(1) - tp
iou = tp / union.clamp(min=1)
return iou.float(), iou.mean().item()
""", "test_iou_from_confusion"),
    Plant("semantic_segmentation", "iou_from_confusion", "wrong", "divides by the row (per-class accuracy, not IoU)", """
m = confmat.double()
tp = torch.diag(m)
rows = m.sum(1)
iou = torch.where(rows > 0, tp / rows.clamp(min=1), torch.nan)
return iou.float(), iou[rows > 0].mean().item()
""", "test_iou_from_confusion"),
    Plant("semantic_segmentation", "iou_from_confusion", "right", "a loop over the classes with nanmean", """
ious = []
for c in range(len(confmat)):
    tp = confmat[c, c].item()
    union = confmat[c, :].sum().item() + confmat[:, c].sum().item() - tp
    ious.append(tp / union if union else float("nan"))
iou = torch.tensor(ious)
return iou, iou.nanmean().item()
"""),
    # --- encoder-decoders ---
    Plant("encoder_decoder", "max_unpool", "wrong", "calls torch.nn.functional.max_unpool2d", """
import torch.nn.functional as F
return F.max_unpool2d(x, indices, 2, output_size=output_size)
""", "test_max_unpool"),
    Plant("encoder_decoder", "max_unpool", "wrong", "copies each value to the whole window (nearest neighbour)", """
import torch.nn.functional as F
return F.interpolate(x, size=output_size, mode="nearest")
""", "test_max_unpool"),
    Plant("encoder_decoder", "max_unpool", "wrong", "bed of nails: every value at its window's top-left corner", """
n, c, h, w = x.shape
out = x.new_zeros(n, c, *output_size)
sh, sw = output_size[0] // h, output_size[1] // w
out[..., ::sh, ::sw][..., :h, :w] = x
return out
""", "test_max_unpool"),
    Plant("encoder_decoder", "max_unpool", "right", "index_put on the flattened map", """
n, c = x.shape[:2]
flat = x.new_zeros(n * c, output_size[0] * output_size[1])
rows = torch.arange(n * c)[:, None].expand(-1, indices[0, 0].numel())
flat = flat.index_put((rows, indices.reshape(n * c, -1)), x.reshape(n * c, -1))
return flat.view(n, c, *output_size)
"""),
    Plant("encoder_decoder", "copy_and_crop", "wrong", "crops the top-left corner", """
h, w = decoder.shape[-2:]
return torch.cat([encoder[..., :h, :w], decoder], dim=1)
""", "test_copy_and_crop"),
    Plant("encoder_decoder", "copy_and_crop", "wrong", "concatenates the decoder first", """
h, w = decoder.shape[-2:]
top, left = (encoder.shape[-2] - h) // 2, (encoder.shape[-1] - w) // 2
return torch.cat([decoder, encoder[..., top:top + h, left:left + w]], dim=1)
""", "test_copy_and_crop"),
    Plant("encoder_decoder", "copy_and_crop", "right", "narrow() twice", """
h, w = decoder.shape[-2:]
crop = encoder.narrow(-2, (encoder.shape[-2] - h) // 2, h).narrow(-1, (encoder.shape[-1] - w) // 2, w)
return torch.cat((crop, decoder), 1)
"""),
    # --- segmentation at scale and speed ---
    Plant("segmentation_scale", "valid_taps", "wrong", "calls cnncourse's valid_taps", """
from cnncourse.segmentation.deeplab import valid_taps as taps
return taps(size, rate)
""", "test_valid_taps"),
    Plant("segmentation_scale", "valid_taps", "wrong", "ignores the rate (an ordinary 3x3 filter)", """
i = torch.arange(size)
per_axis = 1 + (i - 1 >= 0).float() + (i + 1 < size).float()
return (per_axis.mean() ** 2).item()
""", "test_valid_taps"),
    Plant("segmentation_scale", "valid_taps", "wrong", "off by one at the far edge (i + rate <= size)", """
i = torch.arange(size)
per_axis = 1 + (i - rate >= 0).float() + (i + rate <= size).float()
return (per_axis.mean() ** 2).item()
""", "test_valid_taps"),
    Plant("segmentation_scale", "valid_taps", "wrong", "squares the counts before averaging", """
i = torch.arange(size)
per_axis = 1 + (i - rate >= 0).float() + (i + rate < size).float()
return (per_axis ** 2).mean().item()
""", "test_valid_taps"),
    Plant("segmentation_scale", "valid_taps", "right", "a double loop over centres and taps", """
total = 0
for i in range(size):
    for j in range(size):
        for a in (-1, 0, 1):
            for b in (-1, 0, 1):
                total += 0 <= i + a * rate < size and 0 <= j + b * rate < size
return total / size ** 2
"""),
    # --- depth and camera pose ---
    Plant("depth_camera_pose", "scale_invariant_loss", "wrong", "calls cnncourse.depth.scale_invariant_loss", """
from cnncourse.depth import scale_invariant_loss as loss
return loss(pred_log, target_log, lam)
""", "test_scale_invariant_loss"),
    Plant("depth_camera_pose", "scale_invariant_loss", "wrong", "averages d over the whole batch, not per image", """
d = pred_log - target_log
return d.pow(2).mean() - lam * d.mean().pow(2)
""", "test_scale_invariant_loss"),
    Plant("depth_camera_pose", "scale_invariant_loss", "wrong", "forgets to square the mean term", """
d = (pred_log - target_log).flatten(1)
return (d.pow(2).mean(1) - lam * d.mean(1)).mean()
""", "test_scale_invariant_loss"),
    Plant("depth_camera_pose", "scale_invariant_loss", "wrong", "the mean of squares where the square of the mean belongs", """
d = (pred_log - target_log).flatten(1)
return (d.pow(2).mean(1) - lam * d.pow(2).mean(1)).mean()
""", "test_scale_invariant_loss"),
    Plant("depth_camera_pose", "scale_invariant_loss", "right", "sums as in the paper's formula", """
d = (pred_log - target_log).reshape(len(pred_log), -1)
n = d.shape[1]
return (d.pow(2).sum(1) / n - lam * d.sum(1).pow(2) / n**2).mean()
"""),
    Plant("depth_camera_pose", "scale_invariant_loss", "right", "through the variance", """
d = (pred_log - target_log).flatten(1)
return (d.var(1, unbiased=False) + (1 - lam) * d.mean(1).pow(2)).mean()
"""),
    Plant("boxes_nms_map", "nms", "wrong", "calls torchvision.ops.nms", """
import torchvision
return torchvision.ops.nms(boxes, scores, iou_threshold)
""", "test_nms"),
    Plant("boxes_nms_map", "nms", "wrong", "walks the boxes in their given order, not by score", """
iou = box_iou(boxes, boxes)
suppressed = torch.zeros(len(boxes), dtype=torch.bool)
keep = []
for i in range(len(boxes)):
    if suppressed[i]:
        continue
    keep.append(i)
    suppressed |= iou[i] > iou_threshold
return torch.tensor(keep, dtype=torch.int64)
""", "test_nms"),
    Plant("boxes_nms_map", "nms", "wrong", "ignores iou_threshold (always 0.5)", """
order = scores.argsort(descending=True)
iou = box_iou(boxes, boxes)
suppressed = torch.zeros(len(boxes), dtype=torch.bool)
keep = []
for i in order.tolist():
    if suppressed[i]:
        continue
    keep.append(i)
    suppressed |= iou[i] > 0.5
return torch.tensor(keep, dtype=torch.int64)
""", "test_nms"),
    Plant("boxes_nms_map", "nms", "wrong", "suppressed boxes suppress others too", """
order = scores.argsort(descending=True)
iou = box_iou(boxes, boxes)
keep = []
for rank, i in enumerate(order.tolist()):
    if any(iou[j, i] > iou_threshold for j in order[:rank].tolist()):
        continue
    keep.append(i)
return torch.tensor(keep, dtype=torch.int64)
""", "test_nms"),
    Plant("boxes_nms_map", "nms", "wrong", "suppresses at IoU >= the threshold", """
order = scores.argsort(descending=True)
iou = box_iou(boxes, boxes)
suppressed = torch.zeros(len(boxes), dtype=torch.bool)
keep = []
for i in order.tolist():
    if suppressed[i]:
        continue
    keep.append(i)
    suppressed |= iou[i] >= iou_threshold
return torch.tensor(keep, dtype=torch.int64)
""", "test_nms"),
    Plant("boxes_nms_map", "nms", "right", "pops the best of a shrinking list", """
order = scores.argsort(descending=True)
keep = []
while len(order):
    best = order[0]
    keep.append(int(best))
    rest = order[1:]
    order = rest[box_iou(boxes[best][None], boxes[rest])[0] <= iou_threshold]
return torch.tensor(keep, dtype=torch.int64)
"""),
    Plant("boxes_nms_map", "precision_recall", "wrong", "does not rank by score", """
tp = np.cumsum(np.asarray(hits, dtype=bool))
return tp / np.arange(1, len(tp) + 1), tp / num_truths
""", "test_precision_recall"),
    Plant("boxes_nms_map", "precision_recall", "wrong", "recall over the detections, not the objects", """
ranked = np.asarray(hits, dtype=bool)[np.argsort(-np.asarray(scores), kind="stable")]
tp = np.cumsum(ranked)
return tp / np.arange(1, len(tp) + 1), tp / len(tp)
""", "test_precision_recall"),
    Plant("boxes_nms_map", "precision_recall", "right", "with torch", """
order = torch.as_tensor(np.asarray(scores, dtype=float)).argsort(descending=True, stable=True)
tp = torch.as_tensor(np.asarray(hits, dtype=bool))[order].double().cumsum(0)
return (tp / torch.arange(1, len(tp) + 1)).numpy(), (tp / num_truths).numpy()
"""),
    Plant("boxes_nms_map", "average_precision", "wrong", "calls the course's average_precision", """
from cnncourse.detection import average_precision as ap
return ap(recall, precision, "voc")
""", "test_average_precision"),
    Plant("boxes_nms_map", "average_precision", "wrong", "no envelope: the raw precision (sklearn's step sum)", """
recall, precision = np.asarray(recall, dtype=float), np.asarray(precision, dtype=float)
return float((np.diff(recall, prepend=0.0) * precision).sum())
""", "test_average_precision"),
    Plant("boxes_nms_map", "average_precision", "wrong", "the 11-point mean of VOC 2007", """
recall, precision = np.asarray(recall, dtype=float), np.asarray(precision, dtype=float)
if len(recall) == 0:
    return 0.0
return float(np.mean([precision[recall >= t].max() if (recall >= t).any() else 0.0
                      for t in np.linspace(0, 1, 11)]))
""", "test_average_precision"),
    Plant("boxes_nms_map", "average_precision", "wrong", "forgets the first step from recall 0", """
recall, precision = np.asarray(recall, dtype=float), np.asarray(precision, dtype=float)
if len(recall) == 0:
    return 0.0
envelope = np.maximum.accumulate(precision[::-1])[::-1]
return float((np.diff(recall) * envelope[1:]).sum())
""", "test_average_precision"),
    Plant("boxes_nms_map", "average_precision", "right", "a loop from the last rank back", """
total, best = 0.0, 0.0
points = list(zip(recall, precision))
for i in range(len(points) - 1, -1, -1):
    r, p = points[i]
    best = max(best, p)
    gained = r - (points[i - 1][0] if i > 0 else 0.0)
    total += gained * best
return float(total)
"""),
    Plant("fast_faster_rcnn", "roi_pool", "wrong", "calls torchvision.ops.roi_pool", """
import torchvision
return torchvision.ops.roi_pool(features[None], [boxes], output_size, spatial_scale)
""", "test_roi_pool"),
    Plant("fast_faster_rcnn", "roi_pool", "wrong", "rounds with Python's round (halves to even)", """
C, H, W = features.shape
out = features.new_zeros(len(boxes), C, output_size, output_size)
for k, box in enumerate(boxes.tolist()):
    x1, y1, x2, y2 = (int(round(v * spatial_scale)) for v in box)
    w, h = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)
    for i in range(output_size):
        top = min(max(y1 + math.floor(i * h / output_size), 0), H)
        bottom = min(max(y1 + math.ceil((i + 1) * h / output_size), 0), H)
        for j in range(output_size):
            left = min(max(x1 + math.floor(j * w / output_size), 0), W)
            right = min(max(x1 + math.ceil((j + 1) * w / output_size), 0), W)
            if bottom > top and right > left:
                out[k, :, i, j] = features[:, top:bottom, left:right].amax((1, 2))
return out
""", "test_roi_pool"),
    Plant("fast_faster_rcnn", "roi_pool", "wrong", "averages each bin instead of taking its maximum", """
C, H, W = features.shape
out = features.new_zeros(len(boxes), C, output_size, output_size)
for k, box in enumerate(boxes.tolist()):
    x1, y1, x2, y2 = (int(math.copysign(math.floor(abs(v * spatial_scale) + 0.5), v)) for v in box)
    w, h = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)
    for i in range(output_size):
        top = min(max(y1 + math.floor(i * h / output_size), 0), H)
        bottom = min(max(y1 + math.ceil((i + 1) * h / output_size), 0), H)
        for j in range(output_size):
            left = min(max(x1 + math.floor(j * w / output_size), 0), W)
            right = min(max(x1 + math.ceil((j + 1) * w / output_size), 0), W)
            if bottom > top and right > left:
                out[k, :, i, j] = features[:, top:bottom, left:right].mean((1, 2))
return out
""", "test_roi_pool"),
    Plant("fast_faster_rcnn", "roi_pool", "wrong", "ignores spatial_scale (boxes read as cells)", """
C, H, W = features.shape
out = features.new_zeros(len(boxes), C, output_size, output_size)
for k, box in enumerate(boxes.tolist()):
    x1, y1, x2, y2 = (int(math.copysign(math.floor(abs(v) + 0.5), v)) for v in box)
    w, h = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)
    for i in range(output_size):
        top = min(max(y1 + math.floor(i * h / output_size), 0), H)
        bottom = min(max(y1 + math.ceil((i + 1) * h / output_size), 0), H)
        for j in range(output_size):
            left = min(max(x1 + math.floor(j * w / output_size), 0), W)
            right = min(max(x1 + math.ceil((j + 1) * w / output_size), 0), W)
            if bottom > top and right > left:
                out[k, :, i, j] = features[:, top:bottom, left:right].amax((1, 2))
return out
""", "test_roi_pool"),
    Plant("fast_faster_rcnn", "roi_pool", "right", "rounds with torch and pools the box's cells per bin with tensor slicing", """
C, H, W = features.shape
corners = boxes * spatial_scale
snapped = (torch.sign(corners) * torch.floor(corners.abs() + 0.5)).long().tolist()
out = features.new_zeros(len(boxes), C, output_size, output_size)
for k, (x1, y1, x2, y2) in enumerate(snapped):
    w, h = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)
    rows = [(y1 + (i * h) // output_size, y1 + -((-(i + 1) * h) // output_size)) for i in range(output_size)]
    cols = [(x1 + (j * w) // output_size, x1 + -((-(j + 1) * w) // output_size)) for j in range(output_size)]
    for i, (top, bottom) in enumerate(rows):
        for j, (left, right) in enumerate(cols):
            top_, bottom_ = max(top, 0), min(bottom, H)
            left_, right_ = max(left, 0), min(right, W)
            if bottom_ > top_ and right_ > left_:
                out[k, :, i, j] = features[:, top_:bottom_, left_:right_].flatten(1).max(1).values
return out
"""),
    Plant("region_proposals", "encode", "wrong", "ignores the weights", """
w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
x, y = boxes[:, 0] + 0.5 * w, boxes[:, 1] + 0.5 * h
pw, ph = references[:, 2] - references[:, 0], references[:, 3] - references[:, 1]
px, py = references[:, 0] + 0.5 * pw, references[:, 1] + 0.5 * ph
return torch.stack([(x - px) / pw, (y - py) / ph, torch.log(w / pw), torch.log(h / ph)], 1)
""", "test_encode"),
    Plant("region_proposals", "encode", "wrong", "offsets of the top-left corners instead of the centres", """
wx, wy, ww, wh = weights
w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
pw, ph = references[:, 2] - references[:, 0], references[:, 3] - references[:, 1]
return torch.stack([wx * (boxes[:, 0] - references[:, 0]) / pw, wy * (boxes[:, 1] - references[:, 1]) / ph,
                    ww * torch.log(w / pw), wh * torch.log(h / ph)], 1)
""", "test_encode"),
    Plant("region_proposals", "encode", "wrong", "size ratios without the log", """
wx, wy, ww, wh = weights
w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
x, y = boxes[:, 0] + 0.5 * w, boxes[:, 1] + 0.5 * h
pw, ph = references[:, 2] - references[:, 0], references[:, 3] - references[:, 1]
px, py = references[:, 0] + 0.5 * pw, references[:, 1] + 0.5 * ph
return torch.stack([wx * (x - px) / pw, wy * (y - py) / ph, ww * (w / pw - 1), wh * (h / ph - 1)], 1)
""", "test_encode"),
    Plant("region_proposals", "encode", "right", "through centre-size boxes from torchvision.ops.box_convert", """
import torchvision
b = torchvision.ops.box_convert(boxes, "xyxy", "cxcywh")
r = torchvision.ops.box_convert(references, "xyxy", "cxcywh")
t = torch.cat([(b[:, :2] - r[:, :2]) / r[:, 2:], torch.log(b[:, 2:] / r[:, 2:])], 1)
return t * torch.tensor(weights, dtype=t.dtype)
"""),
    Plant("fast_faster_rcnn", "anchors", "wrong", "calls torchvision's AnchorGenerator", """
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
h, w = feature_size
images = ImageList(torch.zeros(1, 3, h * stride, w * stride), [(h * stride, w * stride)])
return AnchorGenerator((tuple(sizes),), (tuple(aspect_ratios),))(images, [torch.zeros(1, 1, h, w)])[0]
""", "test_anchors"),
    Plant("fast_faster_rcnn", "anchors", "wrong", "aspect ratio read as width / height", """
scales = torch.as_tensor(sizes, dtype=torch.float32)
root = torch.as_tensor(aspect_ratios, dtype=torch.float32).sqrt()
widths = (scales[None, :] * root[:, None]).flatten()
heights = (scales[None, :] / root[:, None]).flatten()
cell = (torch.stack([-widths, -heights, widths, heights], 1) / 2).round()
h, w = feature_size
ys, xs = torch.meshgrid(torch.arange(h) * stride, torch.arange(w) * stride, indexing="ij")
shifts = torch.stack([xs, ys, xs, ys], -1).reshape(-1, 1, 4).float()
return (shifts + cell[None]).reshape(-1, 4)
""", "test_anchors"),
    Plant("fast_faster_rcnn", "anchors", "wrong", "size-major inside a cell (every ratio of the first size first)", """
scales = torch.as_tensor(sizes, dtype=torch.float32)
root = torch.as_tensor(aspect_ratios, dtype=torch.float32).sqrt()
widths = (scales[:, None] / root[None, :]).flatten()
heights = (scales[:, None] * root[None, :]).flatten()
cell = (torch.stack([-widths, -heights, widths, heights], 1) / 2).round()
h, w = feature_size
ys, xs = torch.meshgrid(torch.arange(h) * stride, torch.arange(w) * stride, indexing="ij")
shifts = torch.stack([xs, ys, xs, ys], -1).reshape(-1, 1, 4).float()
return (shifts + cell[None]).reshape(-1, 4)
""", "test_anchors"),
    Plant("fast_faster_rcnn", "anchors", "wrong", "centres the anchors on the cells' centres", """
scales = torch.as_tensor(sizes, dtype=torch.float32)
root = torch.as_tensor(aspect_ratios, dtype=torch.float32).sqrt()
widths = (scales[None, :] / root[:, None]).flatten()
heights = (scales[None, :] * root[:, None]).flatten()
cell = (torch.stack([-widths, -heights, widths, heights], 1) / 2).round()
h, w = feature_size
ys, xs = torch.meshgrid((torch.arange(h) + 0.5) * stride, (torch.arange(w) + 0.5) * stride, indexing="ij")
shifts = torch.stack([xs, ys, xs, ys], -1).reshape(-1, 1, 4).float()
return (shifts + cell[None]).reshape(-1, 4)
""", "test_anchors"),
    Plant("fast_faster_rcnn", "anchors", "right", "loops over cells and anchors", """
h, w = feature_size
out = []
for y in range(h):
    for x in range(w):
        for r in aspect_ratios:
            for s in sizes:
                aw, ah = s / math.sqrt(r), s * math.sqrt(r)
                half = torch.tensor([-aw, -ah, aw, ah], dtype=torch.float32) / 2
                out.append(half.round() + torch.tensor([x * stride, y * stride] * 2, dtype=torch.float32))
return torch.stack(out)
"""),
    Plant("region_proposals", "hinge_loss", "wrong", "calls the course's hinge_loss", """
from cnncourse.detection.rcnn import hinge_loss as reference
return reference(scores, targets)
""", "test_hinge_loss"),
    Plant("region_proposals", "hinge_loss", "wrong", "averages over every entry, the left-out ones too", """
return torch.relu(1 - targets * scores).mean()
""", "test_hinge_loss"),
    Plant("region_proposals", "hinge_loss", "wrong", "no margin: max(0, -y f(x))", """
used = (targets != 0).to(scores.dtype)
return (torch.relu(-targets * scores) * used).sum() / used.sum().clamp(min=1)
""", "test_hinge_loss"),
    Plant("region_proposals", "hinge_loss", "right", "selects the used entries first", """
used = targets != 0
if not used.any():
    return scores.sum() * 0
return (1 - targets[used] * scores[used]).clamp(min=0).mean()
"""),
    Plant("single_shot", "yolo_targets", "wrong", "calls the course's yolo_targets", """
from cnncourse.detection import yolo
return yolo.yolo_targets([boxes], [labels], image_size, grid, num_classes)[0]
""", "test_yolo_targets"),
    Plant("single_shot", "yolo_targets", "wrong", "the centre as a fraction of the image, not an offset in its cell", """
target = torch.zeros(grid, grid, 5 + num_classes)
for (x1, y1, x2, y2), label in zip(boxes.tolist(), labels.tolist()):
    cx, cy = (x1 + x2) / 2 / image_size, (y1 + y2) / 2 / image_size
    j, i = min(max(math.floor(cx * grid), 0), grid - 1), min(max(math.floor(cy * grid), 0), grid - 1)
    target[i, j, :5] = torch.tensor([cx, cy, (x2 - x1) / image_size, (y2 - y1) / image_size, 1.0])
    target[i, j, 5:] = 0.0
    target[i, j, 5 + label] = 1.0
return target
""", "test_yolo_targets"),
    Plant("single_shot", "yolo_targets", "wrong", "indexes the cell as (column, row)", """
target = torch.zeros(grid, grid, 5 + num_classes)
for (x1, y1, x2, y2), label in zip(boxes.tolist(), labels.tolist()):
    cx, cy = (x1 + x2) / 2 / image_size * grid, (y1 + y2) / 2 / image_size * grid
    j, i = min(max(math.floor(cx), 0), grid - 1), min(max(math.floor(cy), 0), grid - 1)
    target[j, i, :5] = torch.tensor([cx - j, cy - i, (x2 - x1) / image_size, (y2 - y1) / image_size, 1.0])
    target[j, i, 5:] = 0.0
    target[j, i, 5 + label] = 1.0
return target
""", "test_yolo_targets"),
    Plant("single_shot", "yolo_targets", "wrong", "keeps the earlier class bit when a later object takes the cell", """
target = torch.zeros(grid, grid, 5 + num_classes)
for (x1, y1, x2, y2), label in zip(boxes.tolist(), labels.tolist()):
    cx, cy = (x1 + x2) / 2 / image_size * grid, (y1 + y2) / 2 / image_size * grid
    j, i = min(max(math.floor(cx), 0), grid - 1), min(max(math.floor(cy), 0), grid - 1)
    target[i, j, :5] = torch.tensor([cx - j, cy - i, (x2 - x1) / image_size, (y2 - y1) / image_size, 1.0])
    target[i, j, 5 + label] = 1.0
return target
""", "test_yolo_targets"),
    Plant("single_shot", "yolo_targets", "right", "vectorised: the cells by tensor arithmetic, written in order", """
target = torch.zeros(grid, grid, 5 + num_classes)
boxes = boxes.float().reshape(-1, 4)
centre = (boxes[:, :2] + boxes[:, 2:]) / 2 / image_size * grid
cells = centre.floor().clamp(0, grid - 1).long()
values = torch.cat([centre - cells, (boxes[:, 2:] - boxes[:, :2]) / image_size, torch.ones(len(boxes), 1),
                    torch.nn.functional.one_hot(labels.long(), num_classes).float()], 1)
for (j, i), value in zip(cells.tolist(), values):
    target[i, j] = value
return target
"""),
    Plant("single_shot", "hard_negatives", "wrong", "calls the course's hard_negatives", """
from cnncourse.detection import ssd
return ssd.hard_negatives(loss, positive, ratio)
""", "test_hard_negatives"),
    Plant("single_shot", "hard_negatives", "wrong", "ignores ratio (always three per positive)", """
wanted = 3 * positive.sum(1, keepdim=True)
rank = loss.masked_fill(positive, -math.inf).argsort(1, descending=True).argsort(1)
return (rank < wanted) & ~positive
""", "test_hard_negatives"),
    Plant("single_shot", "hard_negatives", "wrong", "the easiest negatives (lowest loss) instead of the hardest", """
wanted = ratio * positive.sum(1, keepdim=True)
rank = loss.masked_fill(positive, math.inf).argsort(1).argsort(1)
return (rank < wanted) & ~positive
""", "test_hard_negatives"),
    Plant("single_shot", "hard_negatives", "wrong", "counts the positives over the whole batch, not per image", """
wanted = ratio * positive.sum()
rank = loss.masked_fill(positive, -math.inf).argsort(1, descending=True).argsort(1)
return (rank < wanted) & ~positive
""", "test_hard_negatives"),
    Plant("single_shot", "hard_negatives", "right", "a loop over images with topk", """
chosen = torch.zeros_like(positive)
for n in range(len(loss)):
    candidates = (~positive[n]).nonzero().flatten()
    k = min(ratio * int(positive[n].sum()), len(candidates))
    chosen[n, candidates[loss[n, candidates].topk(k).indices]] = True
return chosen
"""),
    Plant("instance_segmentation", "roi_align_mask", "wrong", "calls torchvision's roi_align", """
import torchvision
return torchvision.ops.roi_align(mask[None, None], [box[None].to(mask)], size, 1.0, 1, aligned=True)[0, 0]
""", "test_roi_align_mask"),
    Plant("instance_segmentation", "roi_align_mask", "wrong", "no half-pixel shift (aligned=False)", """
H, W = mask.shape
x1, y1, x2, y2 = box.tolist()
out = torch.zeros(size, size, dtype=mask.dtype)

def axis(v, n):
    v = max(v, 0.0)
    low = math.floor(v)
    if low >= n - 1:
        return n - 1, n - 1, 0.0
    return low, low + 1, v - low

for i in range(size):
    y = y1 + (i + 0.5) * (y2 - y1) / size
    for j in range(size):
        x = x1 + (j + 0.5) * (x2 - x1) / size
        if y < -1 or y > H or x < -1 or x > W:
            continue
        (top, bottom, dy), (left, right, dx) = axis(y, H), axis(x, W)
        out[i, j] = ((1 - dy) * (1 - dx) * mask[top, left] + (1 - dy) * dx * mask[top, right]
                     + dy * (1 - dx) * mask[bottom, left] + dy * dx * mask[bottom, right])
return out
""", "test_roi_align_mask"),
    Plant("instance_segmentation", "roi_align_mask", "wrong", "the nearest pixel, as RoI pooling rounds", """
H, W = mask.shape
x1, y1, x2, y2 = box.tolist()
out = torch.zeros(size, size, dtype=mask.dtype)
for i in range(size):
    y = y1 + (i + 0.5) * (y2 - y1) / size - 0.5
    for j in range(size):
        x = x1 + (j + 0.5) * (x2 - x1) / size - 0.5
        if y < -1 or y > H or x < -1 or x > W:
            continue
        out[i, j] = mask[min(max(round(y), 0), H - 1), min(max(round(x), 0), W - 1)]
return out
""", "test_roi_align_mask"),
    Plant("instance_segmentation", "roi_align_mask", "wrong", "reads the cells' corners, not their centres", """
H, W = mask.shape
x1, y1, x2, y2 = box.tolist()
out = torch.zeros(size, size, dtype=mask.dtype)

def axis(v, n):
    v = max(v, 0.0)
    low = math.floor(v)
    if low >= n - 1:
        return n - 1, n - 1, 0.0
    return low, low + 1, v - low

for i in range(size):
    y = y1 + i * (y2 - y1) / size - 0.5
    for j in range(size):
        x = x1 + j * (x2 - x1) / size - 0.5
        if y < -1 or y > H or x < -1 or x > W:
            continue
        (top, bottom, dy), (left, right, dx) = axis(y, H), axis(x, W)
        out[i, j] = ((1 - dy) * (1 - dx) * mask[top, left] + (1 - dy) * dx * mask[top, right]
                     + dy * (1 - dx) * mask[bottom, left] + dy * dx * mask[bottom, right])
return out
""", "test_roi_align_mask"),
    Plant("instance_segmentation", "roi_align_mask", "right", "vectorised over the cells, with the same rules", """
H, W = mask.shape
x1, y1, x2, y2 = box.tolist()
steps = (torch.arange(size, dtype=torch.float64) + 0.5) / size
ys, xs = y1 + steps * (y2 - y1) - 0.5, x1 + steps * (x2 - x1) - 0.5

def axis(v, n):
    valid = (v >= -1) & (v <= n)
    v = v.clamp(min=0)
    low = v.floor().long()
    edge = low >= n - 1
    low = torch.where(edge, n - 1, low)
    high = torch.where(edge, n - 1, low + 1)
    return low, high, torch.where(edge, 0.0, v - low), valid

top, bottom, dy, vy = axis(ys, H)
left, right, dx, vx = axis(xs, W)
m = mask.double()
dy, dx = dy[:, None], dx[None, :]
value = ((1 - dy) * (1 - dx) * m[top][:, left] + (1 - dy) * dx * m[top][:, right]
         + dy * (1 - dx) * m[bottom][:, left] + dy * dx * m[bottom][:, right])
return (value * (vy[:, None] & vx[None, :])).to(mask.dtype)
"""),
    Plant("instance_segmentation", "assemble", "wrong", "calls the course's assemble on the region", """
from cnncourse.detection import fcis
M = pooled.shape[-1]
return fcis.assemble(pooled[None], torch.tensor([[0.0, 0, M, M]]), k, M, 1.0)[0]
""", "test_assemble"),
    Plant("instance_segmentation", "assemble", "wrong", "the cells by column, then row", """
M = pooled.shape[-1]
groups, r = pooled.shape[0] // (k * k), M // k
maps = pooled.view(groups, k, k, M, M)
out = pooled.new_zeros(groups, M, M)
for a in range(k):
    for b in range(k):
        block = (slice(None), slice(a * r, (a + 1) * r), slice(b * r, (b + 1) * r))
        out[block] = maps[:, b, a][block]
return out
""", "test_assemble"),
    Plant("instance_segmentation", "assemble", "wrong", "the groups outermost: channel (a * k + b) * D + d", """
M = pooled.shape[-1]
groups, r = pooled.shape[0] // (k * k), M // k
maps = pooled.view(k, k, groups, M, M)
out = pooled.new_zeros(groups, M, M)
for a in range(k):
    for b in range(k):
        block = (slice(None), slice(a * r, (a + 1) * r), slice(b * r, (b + 1) * r))
        out[block] = maps[a, b][block]
return out
""", "test_assemble"),
    Plant("instance_segmentation", "assemble", "wrong", "cells of k pixels instead of M / k", """
M = pooled.shape[-1]
groups = pooled.shape[0] // (k * k)
out = pooled.new_zeros(groups, M, M)
for i in range(M):
    for j in range(M):
        a, b = min(i // k, k - 1), min(j // k, k - 1)
        out[:, i, j] = pooled[torch.arange(groups) * k * k + a * k + b, i, j]
return out
""", "test_assemble"),
    Plant("instance_segmentation", "assemble", "right", "torch.gather with the cell number of every pixel", """
M = pooled.shape[-1]
groups = pooled.shape[0] // (k * k)
cell = torch.arange(M) // (M // k)
index = (cell[:, None] * k + cell[None, :]).expand(groups, 1, M, M)
return pooled.view(groups, k * k, M, M).gather(1, index)[:, 0]
"""),
    # --- sequences ---
    Plant("sequences", "text_cnn_features", "wrong", "calls the course's TextCNN", """
from cnncourse.sequences import TextCNN
tokens = (torch.arange(embedded.shape[1])[None, :] < lengths[:, None]).long()
model = TextCNN(2, 1, embedded.shape[2], [w.shape[-1] for w in weights], weights[0].shape[0]).to(embedded.dtype)
model.embedding.forward = lambda _: embedded
for conv, weight, bias in zip(model.convs, weights, biases):
    conv.weight.data, conv.bias.data = weight, bias
return model.features(tokens)
""", "test_text_cnn_features"),
    Plant("sequences", "text_cnn_features", "wrong", "the max over every window, padding included", """
x = embedded.transpose(1, 2)
return torch.cat([F.relu(F.conv1d(x, w, b)).amax(-1) for w, b in zip(weights, biases)], 1)
""", "test_text_cnn_features"),
    Plant("sequences", "text_cnn_features", "wrong", "counts windows that start inside the sentence (t < length)", """
x = embedded.transpose(1, 2)
pooled = []
for weight, bias in zip(weights, biases):
    maps = F.relu(F.conv1d(x, weight, bias))
    inside = torch.arange(maps.shape[-1])[None, :] < lengths[:, None]
    pooled.append(maps.masked_fill(~inside[:, None, :], float("-inf")).amax(-1))
return torch.cat(pooled, 1)
""", "test_text_cnn_features"),
    Plant("sequences", "text_cnn_features", "wrong", "average pooling over time, not 1-max", """
x = embedded.transpose(1, 2)
pooled = []
for weight, bias in zip(weights, biases):
    maps = F.relu(F.conv1d(x, weight, bias))
    inside = (torch.arange(maps.shape[-1])[None, :] + weight.shape[-1] <= lengths[:, None]).to(maps.dtype)
    pooled.append((maps * inside[:, None, :]).sum(-1) / inside.sum(-1, keepdim=True))
return torch.cat(pooled, 1)
""", "test_text_cnn_features"),
    Plant("sequences", "text_cnn_features", "right", "each sentence alone, ReLU after the max (they commute)", """
rows = []
for row, length in zip(embedded, lengths.tolist()):
    x = row[:length].T[None]  # (1, D, length)
    rows.append(torch.cat([F.conv1d(x, w, b).amax(-1).relu() for w, b in zip(weights, biases)], 1))
return torch.cat(rows)
"""),
    Plant("sequences", "causal_conv1d", "wrong", "calls the course's causal_conv1d", """
from cnncourse.sequences import causal_conv1d as course
return course(x, weight, bias, dilation)
""", "test_causal_conv1d"),
    Plant("sequences", "causal_conv1d", "wrong", "pads both sides ('same'), so it looks ahead", """
return F.conv1d(x, weight, bias, dilation=dilation, padding="same")
""", "test_causal_conv1d"),
    Plant("sequences", "causal_conv1d", "wrong", "ignores the dilation", """
return F.conv1d(F.pad(x, (weight.shape[-1] - 1, 0)), weight, bias)
""", "test_causal_conv1d"),
    Plant("sequences", "causal_conv1d", "right", "a sum over the taps of shifted copies of x", """
K, L = weight.shape[-1], x.shape[-1]
out = bias.view(1, -1, 1).expand(x.shape[0], -1, L).clone()
for k in range(K):
    shift = (K - 1 - k) * dilation
    shifted = F.pad(x, (shift, 0))[..., :L]  # step t reads x[t - shift]
    out = out + torch.einsum("fc,ncl->nfl", weight[:, :, k], shifted)
return out
"""),
    # --- data_parallel ---
    Plant("data_parallel", "reduce_scatter", "wrong", "calls the course's reduce_scatter", """
from cnncourse import distributed
return distributed.reduce_scatter(chunks)
""", "test_reduce_scatter"),
    Plant("data_parallel", "reduce_scatter", "wrong", "sums every chunk over all ranks at once, no ring", """
world = len(chunks)
return [[sum(chunks[q][c] for q in range(world)).clone() for c in range(world)] for _ in range(world)]
""", "test_reduce_scatter"),
    Plant("data_parallel", "reduce_scatter", "right", "in place, rank by rank: a step's chunks are all distinct", """
world = len(chunks)
state = [[c.clone() for c in rank] for rank in chunks]
for step in range(world - 1):
    for r in range(world):
        state[(r + 1) % world][(r - step) % world] += state[r][(r - step) % world]
return state
"""),
    Plant("data_parallel", "reduce_scatter", "wrong", "sends chunk (r + s) instead of (r - s)", """
world = len(chunks)
state = [[c.clone() for c in rank] for rank in chunks]
for step in range(world - 1):
    outgoing = [state[r][(r + step) % world].clone() for r in range(world)]
    for r in range(world):
        state[(r + 1) % world][(r + step) % world] += outgoing[r]
return state
""", "test_reduce_scatter"),
    Plant("data_parallel", "reduce_scatter", "right", "builds each step's state anew from the last", """
world = len(chunks)
state = [list(rank) for rank in chunks]
for step in range(world - 1):
    new = [[c.clone() for c in rank] for rank in state]
    for r in range(world):
        c = (r - step) % world
        new[(r + 1) % world][c] = state[(r + 1) % world][c] + state[r][c]
    state = new
return [[c.clone() for c in rank] for rank in state]
"""),
    Plant("data_parallel", "average_gradients", "wrong", "the sum of the gradients, not their mean", """
for params in zip(*(m.parameters() for m in replicas)):
    if params[0].grad is None:
        continue
    total = torch.stack([p.grad for p in params]).sum(0)
    for p in params:
        p.grad = total.clone()
""", "test_average_gradients"),
    Plant("data_parallel", "average_gradients", "wrong", "only the first replica gets the mean", """
for params in zip(*(m.parameters() for m in replicas)):
    if params[0].grad is not None:
        params[0].grad = torch.stack([p.grad for p in params]).mean(0)
""", "test_average_gradients"),
    Plant("data_parallel", "average_gradients", "wrong", "one shared gradient tensor for every replica", """
for params in zip(*(m.parameters() for m in replicas)):
    if params[0].grad is not None:
        mean = torch.stack([p.grad for p in params]).mean(0)
        for p in params:
            p.grad = mean
""", "test_average_gradients"),
    Plant("data_parallel", "average_gradients", "right", "in place: add the others' gradients, then divide", """
first = list(replicas[0].parameters())
others = [list(m.parameters()) for m in replicas[1:]]
for i, p in enumerate(first):
    if p.grad is None:
        continue
    for params in others:
        p.grad += params[i].grad
    p.grad /= len(replicas)
    for params in others:
        params[i].grad = p.grad.clone()
"""),
    # --- transfer_learning ---
    Plant("transfer_learning", "freeze_bottom", "wrong", "calls the course's transfer.freeze", """
from cnncourse import transfer
return transfer.freeze(model, k)
""", "test_freeze_bottom"),
    Plant("transfer_learning", "freeze_bottom", "wrong", "counts every child, the pooling layer too", """
frozen = [name for name, _ in model.named_children()][:k]
for name in frozen:
    block = getattr(model, name)
    block.requires_grad_(False)
    for module in block.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            module.register_forward_pre_hook(lambda m, inputs: m.train(False) and None)
return frozen
""", "test_freeze_bottom"),
    Plant("transfer_learning", "freeze_bottom", "wrong", "freezes the parameters but lets batch norm's statistics move", """
names = [name for name, child in model.named_children() if any(True for _ in child.parameters())]
for name in names[:k]:
    getattr(model, name).requires_grad_(False)
return names[:k]
""", "test_freeze_bottom"),
    Plant("transfer_learning", "freeze_bottom", "wrong", "momentum 0: statistics kept, but batch statistics used in training", """
names = [name for name, child in model.named_children() if any(True for _ in child.parameters())]
for name in names[:k]:
    block = getattr(model, name)
    block.requires_grad_(False)
    for module in block.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            module.momentum = 0.0
return names[:k]
""", "test_freeze_bottom"),
    Plant("transfer_learning", "freeze_bottom", "right", "a named hook; requires_grad_ on the whole block", """
def keep_statistics(module, inputs):
    module.eval()

frozen = []
for name, child in model.named_children():
    if len(frozen) == k:
        break
    if list(child.parameters()):
        child.requires_grad_(False)
        for module in child.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.register_forward_pre_hook(keep_statistics)
        frozen.append(name)
return frozen
""", "test_freeze_bottom"),
    Plant("transfer_learning", "new_head", "wrong", "calls the course's transfer.replace_head", """
from cnncourse import transfer
return transfer.replace_head(model, num_classes)
""", "test_new_head"),
    Plant("transfer_learning", "new_head", "wrong", "replaces the first nn.Linear, not the last", """
name = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][0]
parent_name, _, attribute = name.rpartition(".")
parent = model.get_submodule(parent_name)
old = getattr(parent, attribute)
head = nn.Linear(old.in_features, num_classes, bias=old.bias is not None).to(old.weight.device)
setattr(parent, attribute, head)
return head
""", "test_new_head"),
    Plant("transfer_learning", "new_head", "wrong", "always with a bias, on the CPU", """
name = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
parent_name, _, attribute = name.rpartition(".")
parent = model.get_submodule(parent_name)
head = nn.Linear(getattr(parent, attribute).in_features, num_classes)
setattr(parent, attribute, head)
return head
""", "test_new_head"),
    Plant("transfer_learning", "new_head", "right", "walks the path by hand and writes into _modules", """
last = None
for name, module in model.named_modules():
    if isinstance(module, nn.Linear):
        last = name
*path, attribute = last.split(".")
parent = model
for part in path:
    parent = parent._modules[part]
old = parent._modules[attribute]
head = nn.Linear(old.weight.shape[1], num_classes, bias=old.bias is not None, device=old.weight.device)
parent._modules[attribute] = head
return head
""", "test_new_head"),
    # --- relations ---
    Plant("relations", "intersection_boxes", "wrong", "calls the course's relations.intersection_boxes", """
from cnncourse.relations import intersection_boxes as course
return course(boxes, pairs)
""", "test_intersection_boxes"),
    Plant("relations", "intersection_boxes", "wrong", "no clamp: boxes that do not meet come out inside out", """
s, o = boxes[pairs[:, 0]], boxes[pairs[:, 1]]
return torch.cat([torch.maximum(s[:, :2], o[:, :2]), torch.minimum(s[:, 2:], o[:, 2:])], dim=1)
""", "test_intersection_boxes"),
    Plant("relations", "intersection_boxes", "wrong", "minimum and maximum swapped: the union", """
s, o = boxes[pairs[:, 0]], boxes[pairs[:, 1]]
return torch.cat([torch.minimum(s[:, :2], o[:, :2]), torch.maximum(s[:, 2:], o[:, 2:])], dim=1)
""", "test_intersection_boxes"),
    Plant("relations", "intersection_boxes", "wrong", "clamps the top-left corner down to the bottom-right one", """
s, o = boxes[pairs[:, 0]], boxes[pairs[:, 1]]
high = torch.minimum(s[:, 2:], o[:, 2:])
return torch.cat([torch.minimum(torch.maximum(s[:, :2], o[:, :2]), high), high], dim=1)
""", "test_intersection_boxes"),
    Plant("relations", "intersection_boxes", "right", "one coordinate at a time, clamped with torch.clamp", """
s, o = boxes[pairs[:, 0]], boxes[pairs[:, 1]]
x1 = torch.max(s[:, 0], o[:, 0])
y1 = torch.max(s[:, 1], o[:, 1])
x2 = torch.clamp(torch.min(s[:, 2], o[:, 2]) - x1, min=0) + x1
y2 = torch.clamp(torch.min(s[:, 3], o[:, 3]) - y1, min=0) + y1
return torch.stack([x1, y1, x2, y2], dim=1)
""", "test_intersection_boxes"),
    Plant("relations", "found_triplets", "wrong", "calls the course's relations.found_triplets", """
from cnncourse.relations import found_triplets as course
return course(boxes, labels, pairs, predicted, true_boxes, true_labels, true_pairs, true_relations, threshold)[0]
""", "test_found_triplets"),
    Plant("relations", "found_triplets", "wrong", "ignores the classes: any box that overlaps will do", """
same = box_iou(boxes, true_boxes) >= threshold
both = same[pairs[:, 0]][:, true_pairs[:, 0]] & same[pairs[:, 1]][:, true_pairs[:, 1]]
return (both[:, :, None] & predicted.bool()[:, None, :] & true_relations.bool()[None]).any(0)
""", "test_found_triplets"),
    Plant("relations", "found_triplets", "wrong", "ignores threshold: always IoU >= 0.5", """
same = (box_iou(boxes, true_boxes) >= 0.5) & (labels[:, None] == true_labels[None])
both = same[pairs[:, 0]][:, true_pairs[:, 0]] & same[pairs[:, 1]][:, true_pairs[:, 1]]
return (both[:, :, None] & predicted.bool()[:, None, :] & true_relations.bool()[None]).any(0)
""", "test_found_triplets"),
    Plant("relations", "found_triplets", "wrong", "either order: a predicted (o, r, s) finds the true (s, r, o)", """
same = (box_iou(boxes, true_boxes) >= threshold) & (labels[:, None] == true_labels[None])
ts, to = true_pairs[:, 0], true_pairs[:, 1]
both = same[pairs[:, 0]][:, ts] & same[pairs[:, 1]][:, to]
both = both | (same[pairs[:, 0]][:, to] & same[pairs[:, 1]][:, ts])
return (both[:, :, None] & predicted.bool()[:, None, :] & true_relations.bool()[None]).any(0)
""", "test_found_triplets"),
    Plant("relations", "found_triplets", "wrong", "only the subjects are matched", """
same = (box_iou(boxes, true_boxes) >= threshold) & (labels[:, None] == true_labels[None])
both = same[pairs[:, 0]][:, true_pairs[:, 0]]
return (both[:, :, None] & predicted.bool()[:, None, :] & true_relations.bool()[None]).any(0)
""", "test_found_triplets"),
    Plant("relations", "found_triplets", "right", "loops over true and predicted pairs", """
iou = box_iou(boxes, true_boxes)
found = torch.zeros(true_relations.shape, dtype=torch.bool)
for p, (s, o) in enumerate(true_pairs.tolist()):
    for q, (ds, do) in enumerate(pairs.tolist()):
        if (labels[ds] == true_labels[s] and labels[do] == true_labels[o]
                and iou[ds, s] >= threshold and iou[do, o] >= threshold):
            found[p] |= predicted[q].bool() & true_relations[p].bool()
return found
""", "test_found_triplets"),
]


def rounds() -> list[list[Plant]]:
    """The plants in rounds with at most one plant per chapter each."""
    result: list[list[Plant]] = []
    for plant in PLANTS:
        for group in result:
            if all(p.chapter != plant.chapter for p in group):
                group.append(plant)
                break
        else:
            result.append([plant])
    return result
