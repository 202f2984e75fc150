"""A simulated CUDA device: GPU code paths run on the CPU, under CUDA's rules.

No GPU is lent to the machines that test this course, yet every chapter must
run on one (the published book, Colab). This module makes a CPU-only PyTorch
*behave like a machine with one CUDA device*, so that a device-placement bug
fails here exactly as it would on a GPU::

    from cnncourse import simcuda

    with simcuda.simulated_cuda():
        model = LeNet5().to("cuda")          # parameters now report cuda:0
        model(torch.randn(1, 1, 32, 32))     # RuntimeError: ... cuda:0 and cpu!

What it simulates:

* ``torch.cuda.is_available()`` is true (one device, ``cuda:0``), so
  :func:`cnncourse.device` returns ``cuda`` and the profile defaults to full
  unless ``CNNCOURSE_PROFILE`` says otherwise;
* a tensor sent to ``cuda`` (``.to``, ``.cuda()``, a factory with
  ``device="cuda"``, a ``*_like`` of a CUDA tensor, any result computed from
  one) stays in CPU memory but is *marked* as living on the device:
  ``.device``, ``.is_cuda`` and ``.get_device()`` report it, ``.cpu()`` /
  ``.to("cpu")`` return an unmarked copy; a module's parameters, buffers and
  gradients follow ``Module.to`` / ``.cuda()`` / ``.cpu()``;
* CUDA's rules are enforced: an operation that mixes a CUDA tensor with a CPU
  tensor of one or more dimensions raises the error CUDA raises (0-dim CPU
  tensors mix freely, as on CUDA); ``.numpy()``, ``np.asarray`` and so
  matplotlib refuse a CUDA tensor.

The arithmetic is the CPU's own, unchanged: a program gives bit-identical
numbers with and without the simulation (timings aside). Random numbers come
from the CPU generator, so they match a CPU run, not a real GPU's.

How it works: a :class:`torch.overrides.TorchFunctionMode` sees every torch
call, checks the devices of its tensor arguments and marks its results; the
few CUDA runtime calls that torch makes once CUDA is "available" (device
name and count, synchronisation, seeding) are stubbed. Code running inside
the autograd engine (backward functions, hooks) is not checked: it is
PyTorch's, not the course's, and gradients are marked when they are read
(``param.grad``, ``torch.autograd.grad``).

``CNNCOURSE_SIMULATE_CUDA=1`` turns it on when :mod:`cnncourse` is imported
(``make nbval`` runs every notebook this way). On a machine with a real GPU
the simulation refuses to start.
"""

from __future__ import annotations

import contextlib
import os

import torch
from torch.nn.parameter import UninitializedTensorMixin
from torch.overrides import TorchFunctionMode

__all__ = ["SimulatedCuda", "simulated_cuda", "enable", "disable", "active", "is_marked", "enable_from_environment"]

DEVICE = torch.device("cuda", 0)
DEVICE_NAME = "simulated CUDA (on the CPU)"
_MARK = "_cnncourse_on_simulated_cuda"
Tensor = torch.Tensor
_PLAIN = (Tensor, torch.nn.Parameter)


def is_marked(tensor) -> bool:
    """True when ``tensor`` lives on the simulated CUDA device."""
    return isinstance(tensor, Tensor) and tensor.__dict__.get(_MARK, False)


def _mark(tensor, on_cuda: bool):
    if on_cuda:
        tensor.__dict__[_MARK] = True
    else:
        tensor.__dict__.pop(_MARK, None)


def _mark_all(result, on_cuda: bool):
    """Mark (or unmark) every tensor in a possibly nested result; return it."""
    if isinstance(result, Tensor):
        _mark(result, on_cuda)
    elif isinstance(result, (tuple, list)):
        for item in result:
            _mark_all(item, on_cuda)
    return result


def _tensors(obj, out):
    """Append the tensors found in ``obj`` (tuples, lists, dicts, nested) to ``out``."""
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            _tensors(item, out)
    elif isinstance(obj, dict):
        for item in obj.values():
            _tensors(item, out)
    return out


def _as_device(value):
    """A torch.device from what a ``device=`` argument may hold (None stays None)."""
    if value is None:
        return None
    if isinstance(value, int):
        return torch.device("cuda", value)
    return torch.device(value)


def _is_cuda(device) -> bool:
    if device is None or device.type != "cuda":
        return False
    if device.index not in (None, 0):
        raise RuntimeError(
            "CUDA error: invalid device ordinal (the simulated machine has one "
            f"device, cuda:0; got {device})"
        )
    return True


def _check_same_device(func, tensors) -> bool:
    """Raise CUDA's error when CUDA and CPU tensors meet; True if any is on CUDA."""
    cuda = cpu = False
    for t in tensors:
        if type(t) not in _PLAIN and isinstance(t, UninitializedTensorMixin):
            continue  # a lazy module's parameter before its first forward
        if is_marked(t):
            cuda = True
        elif t.device.type == "cpu" and t.dim() > 0:
            cpu = True
    if cuda and cpu:
        name = getattr(func, "__name__", repr(func))
        raise RuntimeError(
            "Expected all tensors to be on the same device, but found at least "
            f"two devices, cuda:0 and cpu! (in {name}; simulated CUDA)"
        )
    return cuda


# --- the calls that need more than "check the inputs, mark the outputs" ---

def _device(func, args, kwargs):
    return DEVICE if is_marked(args[0]) else func(*args)


def _is_cuda_property(func, args, kwargs):
    return is_marked(args[0]) or func(*args)


def _is_cpu_property(func, args, kwargs):
    return not is_marked(args[0]) and func(*args)


def _get_device(func, args, kwargs):
    return 0 if is_marked(args[0]) else func(*args, **kwargs)


def _to_numpy(func, args, kwargs):
    if is_marked(args[0]):
        raise TypeError(
            "can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to "
            "copy the tensor to host memory first. (simulated CUDA)"
        )
    return func(*args, **kwargs)


def _grad(func, args, kwargs):
    """``param.grad``: the autograd engine made it; it lives where the parameter lives."""
    return _mark_all(func(*args), is_marked(args[0]))


def _set_data(func, args, kwargs):
    """``param.data = other`` (how ``Module.to`` moves parameters) moves the parameter."""
    result = func(*args, **kwargs)
    if len(args) > 1 and isinstance(args[1], Tensor):
        _mark(args[0], is_marked(args[1]))
    return result


def _unchecked(func, args, kwargs):
    """Calls that may see two devices on a real GPU too (copies, type checks)."""
    return func(*args, **kwargs)


def _move(func, args, kwargs):
    """``.to`` / ``.cuda()`` / ``.cpu()``: a device change is a copy, marked or not."""
    tensor, rest = args[0], args[1:]
    dtype, options = None, {k: v for k, v in kwargs.items() if k in ("non_blocking", "copy", "memory_format")}
    if func == Tensor.cpu:
        target = torch.device("cpu")
    elif func == Tensor.cuda:
        index = rest[0] if rest else kwargs.get("device")
        target = _as_device("cuda" if index is None else index)
        options.pop("copy", None), options.pop("memory_format", None)
    elif rest and isinstance(rest[0], Tensor):  # x.to(other)
        target = DEVICE if is_marked(rest[0]) else rest[0].device
        dtype = rest[0].dtype
    else:
        parsed = {k: v for k, v in kwargs.items() if k not in ("copy", "memory_format")}
        target, dtype, _, _ = torch._C._nn._parse_to(*rest, **parsed)
        target = _as_device(target)
    if target is not None and target.type not in ("cpu", "cuda"):
        return func(*args, **kwargs)  # meta, mps, ...: not simulated
    was_cuda = is_marked(tensor)
    to_cuda = was_cuda if target is None else _is_cuda(target)
    result = Tensor.to(tensor, dtype=dtype, **options) if dtype is not None or options else tensor
    if to_cuda != was_cuda and result is tensor:
        result = tensor.clone()
    if result is not tensor:
        _mark(result, to_cuda)
    return result


def _getitem(func, args, kwargs):
    """Indexing: CPU index tensors are allowed on a CUDA tensor, not the reverse."""
    tensor, index = args[0], args[1]
    if not is_marked(tensor) and any(is_marked(i) for i in _tensors(index, [])):
        raise RuntimeError(
            "indices should be either on cpu or on the same device as the indexed "
            "tensor (cpu) (simulated CUDA)"
        )
    return _mark_all(func(*args, **kwargs), is_marked(tensor))


def _like_self(func, args, kwargs):
    """``copy.deepcopy(t)``: the copy lives where ``t`` lives (the memo holds tensors of either device)."""
    return _mark_all(func(*args, **kwargs), is_marked(args[0]))


def _autograd_grad(func, args, kwargs):
    """``torch.autograd.grad``: each gradient lives where its input lives."""
    inputs = kwargs["inputs"] if "inputs" in kwargs else args[1]
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    grads = func(*args, **kwargs)
    for grad, tensor in zip(grads, inputs):
        if grad is not None:
            _mark(grad, is_marked(tensor))
    return grads


_SPECIAL = {
    Tensor.device.__get__: _device,
    Tensor.is_cuda.__get__: _is_cuda_property,
    Tensor.is_cpu.__get__: _is_cpu_property,
    Tensor.get_device: _get_device,
    Tensor.numpy: _to_numpy,
    Tensor.__array__: _to_numpy,
    Tensor.grad.__get__: _grad,
    Tensor.data.__set__: _set_data,
    Tensor.set_: _set_data,
    Tensor.copy_: _unchecked,
    Tensor.__setitem__: _unchecked,
    Tensor.grad.__set__: _unchecked,
    torch._has_compatible_shallow_copy_type: _unchecked,
    Tensor.to: _move,
    Tensor.cuda: _move,
    Tensor.cpu: _move,
    Tensor.__getitem__: _getitem,
    Tensor.__deepcopy__: _like_self,
    torch.autograd.grad: _autograd_grad,
}


class SimulatedCuda(TorchFunctionMode):
    """The torch-function mode behind :func:`simulated_cuda` (see the module docs)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if torch._C._current_graph_task_id() != -1:  # inside the autograd engine
            return func(*args, **kwargs)
        special = _SPECIAL.get(func)
        if special is not None:
            return special(func, args, kwargs)
        on_cuda = _check_same_device(func, _tensors(args, _tensors(kwargs, [])))
        target = _as_device(kwargs.get("device"))
        if target is not None and target.type in ("cpu", "cuda"):
            on_cuda = _is_cuda(target)
            if on_cuda:
                kwargs = {**kwargs, "device": "cpu"}
        return _mark_all(func(*args, **kwargs), on_cuda)


class _Stream:
    """The one stream of the simulated device: nothing is ever captured."""

    def is_capturing(self) -> bool:
        return False

    def synchronize(self) -> None:
        pass


def _stubs():
    """(module, name) -> stand-in for the runtime calls torch and the course make
    once CUDA is "available" (each would otherwise initialise a real driver)."""
    cuda, accelerator = torch.cuda, getattr(torch, "accelerator", None)
    parameter_deepcopy = torch.nn.Parameter.__deepcopy__

    def deepcopy_parameter(self, memo):  # Parameter builds its copy with _make_subclass, which no mode sees
        copied = parameter_deepcopy(self, memo)
        _mark(copied, is_marked(self))
        return copied

    stubs = {
        (cuda, "is_available"): lambda: True,
        (cuda, "device_count"): lambda: 1,
        (cuda, "current_device"): lambda: 0,
        (cuda, "get_device_name"): lambda device=None: DEVICE_NAME,
        (cuda, "synchronize"): lambda device=None: None,
        (cuda, "manual_seed"): lambda seed: None,
        (cuda, "manual_seed_all"): lambda seed: None,
        (cuda, "is_current_stream_capturing"): lambda: False,
        (accelerator, "current_device_index"): lambda: 0,
        (accelerator, "current_stream"): lambda device=None: _Stream(),
        (accelerator, "synchronize"): lambda device=None: None,
        (torch.nn.Parameter, "__deepcopy__"): deepcopy_parameter,
        # recurrent layers ask whether cuDNN takes their weights (flatten_parameters): it does not here
        (torch.backends.cudnn, "is_acceptable"): lambda tensor: False,
    }
    return {key: stub for key, stub in stubs.items() if hasattr(*key)}  # torch < 2.6 has no accelerator


_state: dict = {}


def active() -> bool:
    """True while the simulation is on."""
    return bool(_state)


def enable() -> None:
    """Turn the simulation on until :func:`disable` (a notebook, a whole session)."""
    if _state:
        return
    if torch.cuda.is_available():
        raise RuntimeError(
            "simcuda: this machine has a real CUDA device; the simulation is for "
            "machines without one (unset CNNCOURSE_SIMULATE_CUDA)"
        )
    stubs = _stubs()
    saved = {key: getattr(*key) for key in stubs}
    for (module, name), stub in stubs.items():
        setattr(module, name, stub)
    mode = SimulatedCuda()
    mode.__enter__()
    _state.update(mode=mode, saved=saved)


def disable() -> None:
    """Turn the simulation off (tensors made under it become plain CPU tensors)."""
    if not _state:
        return
    _state["mode"].__exit__(None, None, None)
    for (module, name), original in _state["saved"].items():
        setattr(module, name, original)
    _state.clear()


@contextlib.contextmanager
def simulated_cuda():
    """Run the block on a simulated CUDA device (see the module docs)."""
    if active():
        yield
        return
    enable()
    try:
        yield
    finally:
        disable()


def enable_from_environment() -> bool:
    """Turn the simulation on when ``CNNCOURSE_SIMULATE_CUDA`` is 1/true/yes."""
    raw = os.environ.get("CNNCOURSE_SIMULATE_CUDA", "")
    value = raw.strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value not in ("1", "true", "yes"):
        raise ValueError(
            "CNNCOURSE_SIMULATE_CUDA must be 1/true/yes or 0/false/no (or unset); "
            f"got {raw!r}"
        )
    enable()
    return True
