"""Receptive fields of every layer of any network: by arithmetic, and measured by gradients.

:func:`receptive_fields` runs the network once and carries, with every
tensor, the interval of input pixels that its first unit sees and the *jump*
between neighbouring units (per spatial axis). Each layer updates them:

* convolution and pooling with kernel ``k``, stride ``s``, padding ``p`` and
  dilation ``d`` (any module with ``kernel_size`` and ``stride``, so the
  course's own layers and LeNet's subsampling too):
  ``start -= p * jump``, ``end += (d (k - 1) - p) * jump``, ``jump *= s``;
* a strided slice ``x[..., ::2, ::2]`` multiplies the jump;
* adding or concatenating tensors (residual shortcuts, Inception's branches,
  DenseNet's concatenations) takes the union of their fields;
* a global pooling, a spatial mean or a linear layer makes the field global.

Unit ``i`` of a map sees ``[start + i * jump, end + i * jump)``, clipped to
the image; ``end - start`` is the receptive field's size.

:func:`measure_receptive_field` checks this empirically: the gradient of one
unit with respect to the input is non-zero exactly on the pixels it depends
on, once nothing can cancel or block a path (positive averaging weights, max
pooling replaced by average pooling over the same windows).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from cnncourse.runtime import evaluating

_KEY = "_cnncourse_field"
_REDUCTIONS = {"mean", "sum", "amax", "amin", "max", "min", "std", "var", "logsumexp", "norm", "prod"}


@dataclass(frozen=True)
class Field:
    """Where the first unit of a map looks, per spatial axis, in input pixels.

    ``start`` and ``end`` bound the interval seen by unit 0 (unclipped: it
    may start before pixel 0), ``jump`` is the distance between neighbouring
    units; ``start`` is None for a global field (every input pixel).
    """

    start: tuple | None
    end: tuple | None
    jump: tuple

    @property
    def is_global(self) -> bool:
        return self.start is None

    @property
    def size(self):
        """Receptive field per axis (``'global'`` when the unit sees the whole input)."""
        if self.is_global:
            return "global"
        return tuple(_int(e - s) for s, e in zip(self.start, self.end))

    def seen_by(self, index: Sequence[int], input_size: Sequence[int]) -> tuple:
        """The pixels unit ``index`` sees along each axis, clipped to an input of ``input_size``."""
        if self.is_global:
            return tuple((0, n) for n in input_size)
        return tuple((max(0, _int(s + i * j)), min(n, _int(e + i * j)))
                     for s, e, j, i, n in zip(self.start, self.end, self.jump, index, input_size))


def _int(value):
    return int(value) if float(value).is_integer() else value


def _global(jump) -> Field:
    return Field(None, None, jump)


def _field(tensor):
    return tensor.__dict__.get(_KEY) if isinstance(tensor, torch.Tensor) else None


def _set(result, field):
    if isinstance(result, torch.Tensor):
        result.__dict__[_KEY] = field
    elif isinstance(result, (tuple, list)):
        for item in result:
            _set(item, field)
    return result


def _union(fields) -> Field | None:
    fields = [f for f in fields if f is not None]
    if not fields:
        return None
    jump = tuple(max(js) for js in zip(*(f.jump for f in fields)))
    if any(f.is_global for f in fields):
        return _global(jump)
    return Field(tuple(map(min, zip(*(f.start for f in fields)))), tuple(map(max, zip(*(f.end for f in fields)))), jump)


def _tensors(obj):
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            yield from _tensors(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _tensors(item)


def _per_axis(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _window(field: Field, kernel, stride, padding, dilation) -> Field:
    """One convolution or pooling step of the recursion."""
    if field.is_global:
        return field
    n = len(field.jump)
    k, s, d = _per_axis(kernel, n), _per_axis(stride or kernel, n), _per_axis(dilation, n)
    if padding == "same":
        p = tuple(di * (ki - 1) // 2 for ki, di in zip(k, d))
    else:
        p = _per_axis(0 if padding == "valid" else padding, n)
    start = tuple(a - pi * j for a, pi, j in zip(field.start, p, field.jump))
    end = tuple(b + (di * (ki - 1) - pi) * j for b, ki, pi, di, j in zip(field.end, k, p, d, field.jump))
    return Field(start, end, tuple(j * si for j, si in zip(field.jump, s)))


def _resample(field: Field, in_size, out_size) -> Field:
    """Adaptive pooling or interpolation from ``in_size`` to ``out_size`` (per axis)."""
    if field.is_global or all(o == i for i, o in zip(in_size, out_size)):
        return field
    if all(o == 1 for o in out_size):
        return _global(field.jump)
    ratio = tuple(i / o for i, o in zip(in_size, out_size))
    if all(r < 1 for r in ratio):  # upsampling: same pixels, denser units
        return Field(field.start, field.end, tuple(j * r for j, r in zip(field.jump, ratio)))
    end = tuple(e + (math.ceil(r) - 1) * j for e, r, j in zip(field.end, ratio, field.jump))
    return Field(field.start, end, tuple(j * r for j, r in zip(field.jump, ratio)))


def _geometric(module) -> bool:
    """Modules whose output field follows from their settings (convolution, pooling, linear...)."""
    return isinstance(module, (nn.Linear, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d,
                               nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.Upsample)) or (
        hasattr(module, "kernel_size") and hasattr(module, "stride"))


def _module_field(module, field: Field, inputs, output) -> Field:
    """The output field of a leaf module, from its input field."""
    spatial = len(field.jump)
    if isinstance(module, nn.Linear) and inputs and inputs[0].dim() <= 2:
        return _global(field.jump)
    if isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d)):
        k, s = _per_axis(module.kernel_size, spatial), _per_axis(module.stride, spatial)
        d, p = _per_axis(module.dilation, spatial), _per_axis(module.padding, spatial)
        reach = tuple((di * (ki - 1)) // si for ki, si, di in zip(k, s, d))
        end = tuple(e + r * j for e, r, j in zip(field.end, reach, field.jump))
        start = tuple(a - (pi // si) * j for a, pi, si, j in zip(field.start, p, s, field.jump))
        return Field(start, end, tuple(j / si for j, si in zip(field.jump, s)))
    if isinstance(module, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.Upsample)):
        return _resample(field, inputs[0].shape[2:], output.shape[2:])
    if hasattr(module, "kernel_size") and hasattr(module, "stride"):
        return _window(field, module.kernel_size, module.stride, getattr(module, "padding", 0),
                       getattr(module, "dilation", 1))
    return field


def _sliced(field: Field, tensor, index) -> Field:
    """``tensor[index]``: a strided slice of a spatial axis moves the start and multiplies the jump."""
    if field.is_global:
        return field
    index = index if isinstance(index, tuple) else (index,)
    if Ellipsis in index:
        at = index.index(Ellipsis)
        index = index[:at] + (slice(None),) * (tensor.dim() - len(index) + 1) + index[at + 1:]
    start, end, jump = list(field.start), list(field.end), list(field.jump)
    first = tensor.dim() - len(jump)
    for axis, item in enumerate(index):
        if axis >= first and isinstance(item, slice) and axis - first < len(jump):
            a = axis - first
            offset, step = (item.start or 0), (item.step or 1)
            start[a], end[a] = start[a] + offset * jump[a], end[a] + offset * jump[a]
            jump[a] *= step
    return Field(tuple(start), tuple(end), tuple(jump))


class _Trace(TorchFunctionMode):
    """Carries fields through the functional operations between modules."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        inputs = [t for t in _tensors((args, kwargs))]
        field = _union(_field(t) for t in inputs)
        if field is None or not isinstance(result, (torch.Tensor, tuple, list)):
            return result
        name = getattr(func, "__name__", "")
        source = args[0] if args and isinstance(args[0], torch.Tensor) else None
        if func is torch.Tensor.__getitem__ and source is not None:
            field = _sliced(field, source, args[1])
        elif name in _REDUCTIONS and source is not None and source.dim() > 2 and not (
                len(args) > 1 and isinstance(args[1], torch.Tensor)):  # torch.max(a, b) is elementwise
            dims = kwargs.get("dim", args[1] if len(args) > 1 else None)
            if dims is None:
                spatial_gone = isinstance(result, torch.Tensor) and result.dim() < source.dim()
            else:
                spatial_gone = any(d % source.dim() >= 2 for d in _per_axis(dims, 1))
            if spatial_gone:
                field = _global(field.jump)
        elif name.startswith(("adaptive_", "interpolate", "upsample")) and isinstance(result, torch.Tensor) and source is not None:
            field = _resample(field, source.shape[2:], result.shape[2:])
        elif name in ("conv1d", "conv2d"):
            weight = args[1] if len(args) > 1 else kwargs["weight"]
            get = lambda i, key, default: args[i] if len(args) > i else kwargs.get(key, default)  # noqa: E731
            field = _window(field, tuple(weight.shape[2:]), get(3, "stride", 1), get(4, "padding", 0), get(5, "dilation", 1))
        elif name in ("max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d"):
            get = lambda i, key, default: args[i] if len(args) > i else kwargs.get(key, default)  # noqa: E731
            kernel = get(1, "kernel_size", None)
            dilation = get(4, "dilation", 1) if name.startswith("max") else 1
            field = _window(field, kernel, get(2, "stride", None) or kernel, get(3, "padding", 0), dilation)
        return _set(result, field)


def receptive_fields(model: nn.Module, input_size: Sequence[int], device=None) -> dict[str, Field]:
    """The :class:`Field` of every module's output, by name, for one ``input_size`` example (eval mode).

    A module that runs several times in one forward pass (a shared ReLU)
    reports its first call, as :func:`measure_receptive_field` measures it.
    """
    if device is None:
        device = next(model.parameters(), torch.empty(0)).device
    fields, names = {}, {m: name for name, m in model.named_modules()}

    def hook(module, inputs, output):
        field = _union(_field(t) for t in _tensors(inputs))
        if field is None:
            return
        if _geometric(module):
            tensors = list(_tensors(inputs))
            _set(output, _module_field(module, field, tensors, output if isinstance(output, torch.Tensor) else tensors[0]))
        # other modules: the trace has followed their operations (a strided slice, an addition)
        computed = _union(_field(t) for t in _tensors(output))
        if computed is None:
            _set(output, field)
        fields.setdefault(names[module], computed or field)  # a module run several times: its first call

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    x = torch.zeros(1, *input_size, device=device)
    spatial = len(input_size) - 1
    _set(x, Field((0,) * spatial, (1,) * spatial, (1,) * spatial))
    try:
        with torch.no_grad(), evaluating(model), _Trace():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return fields


class _Captured(Exception):
    pass


def _probe(model: nn.Module) -> nn.Module:
    """A copy in which the gradient reaches every pixel a unit depends on.

    float64, eval mode; every weight matrix averages (1 / fan-in), biases 0,
    batch norm the identity, max pooling replaced by average pooling over the
    same windows. With a small positive input every activation stays positive
    and far below any saturation (ReLU6), so no activation blocks a path and
    no sum of paths cancels.
    """
    # Linear layers end the spatial part of a network; they are not copied (VGG's hold 90% of its weights).
    skip = {id(m): nn.Identity() for m in model.modules() if isinstance(m, nn.Linear)}
    probe = copy.deepcopy(model, skip).double().eval()
    for module in list(probe.modules()):
        for name, param in module.named_parameters(recurse=False):
            with torch.no_grad():
                if name == "bias":
                    param.zero_()
                elif param.dim() >= 2:
                    param.fill_(1.0 / param[0].numel())
                else:
                    param.fill_(1.0)
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.track_running_stats:
            module.running_mean.zero_()
            module.running_var.fill_(1.0)
        for child_name, child in module.named_children():
            if isinstance(child, (nn.MaxPool1d, nn.MaxPool2d)):
                pool = nn.AvgPool2d if isinstance(child, nn.MaxPool2d) else nn.AvgPool1d
                setattr(module, child_name, pool(child.kernel_size, child.stride, child.padding, child.ceil_mode))
    return probe


def measure_receptive_field(model: nn.Module, layer: str, input_size: Sequence[int], index=None) -> tuple:
    """The input pixels (per axis, as ``(first, last + 1)``) that unit ``index`` of ``layer`` depends on.

    Measured as the support of the gradient of that unit (all channels) with
    respect to the input, on a copy of the model that lets every path through
    (see :func:`_probe`). ``index`` defaults to the centre of the map. Max
    pooling *modules* are replaced by average pooling; a functional
    ``F.max_pool2d`` inside a ``forward`` still sends the gradient to one
    pixel per window, so the measurement can come out smaller there.
    """
    names = dict(model.named_modules())
    if layer not in names:
        raise KeyError(f"measure_receptive_field: no layer {layer!r}; the model has {sorted(n for n in names if n)}")
    probe = _probe(model)
    captured = {}
    def keep_first(module, inputs, output):
        captured["out"] = output  # a module run several times (a shared ReLU): its first call
        raise _Captured  # the layers after it are not needed

    handle = dict(probe.named_modules())[layer].register_forward_hook(keep_first)
    x = torch.full((1, *input_size), 1e-3, dtype=torch.float64, requires_grad=True)
    try:
        probe(x)
    except _Captured:
        pass
    finally:
        handle.remove()
    out = captured["out"]
    if out.dim() < 3:
        raise ValueError(f"measure_receptive_field: {layer!r} has no spatial output (shape {tuple(out.shape)})")
    index = tuple(n // 2 for n in out.shape[2:]) if index is None else tuple(index)
    (grad,) = torch.autograd.grad(out[(0, slice(None), *index)].sum(), x)
    support = grad[0].abs().sum(0) > 0
    extents = []
    for axis in range(support.dim()):
        other = tuple(a for a in range(support.dim()) if a != axis)
        hit = (support.any(dim=other) if other else support).nonzero().flatten()
        extents.append((int(hit.min()), int(hit.max()) + 1))
    return tuple(extents)
