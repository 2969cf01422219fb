"""Hand a model to PyTorch, and take one back: ``to_torch(module)`` and ``from_torch(module)``.

For when a model outgrows this library. Each layer becomes its PyTorch twin with the same
settings, parameters, buffers, ``requires_grad`` flags and train/eval mode; ``Sequential``
nests. The one change of layout: ``Linear`` stores its weight (in, out) and bias (1, out), as
the NNFS book does, and PyTorch (out, in) and (out,), so they are transposed and reshaped on
the way. Values are copied exactly (dtypes kept), so a round trip gives back the same numbers
and, in float64, the same outputs. A layer without a twin is an error that names it. PyTorch
is needed only when these functions are called (``pip install torch``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_np import nn
from tinygrad_np.nn.module import Module

__all__ = ["to_torch", "from_torch"]


def _torch() -> Any:
    try:
        import torch
    except ImportError as error:
        raise ImportError(
            "tg.interop needs PyTorch; install it with pip install torch "
            "(or pip install tinygrad-np[torch])"
        ) from error
    return torch


# ================================ tinygrad_np -> PyTorch =====================================


def _dtype(torch: Any, module: Module) -> Any:
    """The torch dtype of a module's first parameter or buffer (float32 when it has none)."""
    for tensor in (*module.parameters(), *module.buffers()):
        if tensor.dtype.kind == "f":
            return getattr(torch, tensor.dtype.name)
    return torch.float32


def _linear_to(torch: Any, m: nn.Linear) -> Any:
    for name in nn.layers.REGULARIZERS:
        if getattr(m, name):
            raise ValueError(
                f"to_torch: {m!r} has {name}={getattr(m, name)}, and PyTorch layers carry no "
                "penalty; set it to 0 first (PyTorch's optimizers offer weight_decay for L2)"
            )
    out = torch.nn.Linear(m.in_features, m.out_features, m.bias is not None, dtype=_dtype(torch, m))
    return out, {"weight": m.weight.data.T, "bias": None if m.bias is None else m.bias.data[0]}


def _batch_norm_to(torch: Any, m: Any) -> Any:
    cls = getattr(torch.nn, type(m).__name__)
    out = cls(m.num_features, m.eps, m.momentum, m.affine, m.track_running_stats,
              dtype=_dtype(torch, m))  # fmt: skip
    return out, None


def _same(torch_name: str, *settings: str, **renamed: str) -> Callable:
    """A converter for a layer whose settings keep their names (or are ``renamed``)."""

    def convert(torch: Any, m: Module) -> Any:
        kwargs = {s: getattr(m, s) for s in settings}
        kwargs.update({theirs: getattr(m, ours) for theirs, ours in renamed.items()})
        if any(True for _ in m.parameters()):
            kwargs["dtype"] = _dtype(torch, m)
        return getattr(torch.nn, torch_name)(**kwargs), None

    return convert


def _layer_norm_to(torch: Any, m: nn.LayerNorm) -> Any:
    out = torch.nn.LayerNorm(m.normalized_shape, m.eps, m.elementwise_affine,
                             bias=m.bias is not None, dtype=_dtype(torch, m))  # fmt: skip
    return out, None


def _conv_to(torch: Any, m: Any) -> Any:
    cls = getattr(torch.nn, type(m).__name__)
    out = cls(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation,
              m.groups, m.bias is not None, m.padding_mode, dtype=_dtype(torch, m))  # fmt: skip
    return out, None


def _sequential_to(torch: Any, m: nn.Sequential) -> Any:
    return torch.nn.Sequential(*[to_torch(child) for child in m]), None


TO_TORCH: dict[type, Callable] = {
    nn.Linear: _linear_to,
    nn.Sequential: _sequential_to,
    nn.BatchNorm1d: _batch_norm_to,
    nn.BatchNorm2d: _batch_norm_to,
    nn.LayerNorm: _layer_norm_to,
    nn.Conv1d: _conv_to,
    nn.Conv2d: _conv_to,
    nn.MaxPool2d: _same("MaxPool2d", "kernel_size", "stride", "padding", "dilation"),
    nn.AvgPool2d: _same("AvgPool2d", "kernel_size", "stride", "padding", "count_include_pad"),
    nn.Embedding: _same("Embedding", "num_embeddings", "embedding_dim", "padding_idx"),
    nn.Dropout: _same("Dropout", "p"),
    nn.Flatten: _same("Flatten"),
    nn.Identity: _same("Identity"),
    nn.ReLU: _same("ReLU"),
    nn.LeakyReLU: _same("LeakyReLU", "negative_slope"),
    nn.Sigmoid: _same("Sigmoid"),
    nn.Tanh: _same("Tanh"),
    nn.Softmax: _same("Softmax", dim="axis"),
    nn.LogSoftmax: _same("LogSoftmax", dim="axis"),
    nn.GELU: _same("GELU", "approximate"),
    nn.ELU: _same("ELU", "alpha"),
    nn.SELU: _same("SELU"),
    nn.SiLU: _same("SiLU"),
    nn.Softplus: _same("Softplus", "beta", "threshold"),
}


def to_torch(module: Module) -> Any:
    """An equivalent ``torch.nn.Module``: the same layers, settings, values and mode.

    >>> import numpy as np, torch, tinygrad_np as tg
    >>> model = tg.nn.Sequential(tg.nn.Linear(2, 3), tg.nn.ReLU(), tg.nn.Linear(3, 1))
    >>> twin = tg.interop.to_torch(model)
    >>> twin
    Sequential(
      (0): Linear(in_features=2, out_features=3, bias=True)
      (1): ReLU()
      (2): Linear(in_features=3, out_features=1, bias=True)
    )
    >>> x = np.ones((4, 2), dtype=np.float32)
    >>> bool(np.allclose(twin(torch.from_numpy(x)).detach().numpy(), model(tg.Tensor(x)).numpy()))
    True
    """
    torch = _torch()
    convert = TO_TORCH.get(type(module))
    if convert is None:
        raise TypeError(
            f"to_torch: {type(module).__name__} has no PyTorch twin here; tg.interop converts "
            f"{', '.join(sorted(cls.__name__ for cls in TO_TORCH))} (build the model as a "
            "Sequential of these, or convert its parts one by one)"
        )
    out, values = convert(torch, module)
    if values is None:  # the same names and layouts on both sides
        own = (*module._parameters.items(), *module._buffers.items())
        values = {name: t.data for name, t in own if t is not None}
    theirs = dict(out.named_parameters(recurse=False)) | dict(out.named_buffers(recurse=False))
    with torch.no_grad():
        for name, value in values.items():
            if value is not None:
                theirs[name].copy_(torch.from_numpy(np.array(value)))
    for name, param in module._parameters.items():
        if param is not None:
            theirs[name].requires_grad_(param.requires_grad)
    out.training = module.training
    return out


# ================================ PyTorch -> tinygrad_np =====================================


def _numpy(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().numpy().copy()


def _linear_from(m: Any) -> Any:
    weight = _numpy(m.weight)
    out = nn.Linear(m.in_features, m.out_features, m.bias is not None, dtype=weight.dtype)
    values = {"weight": weight.T, "bias": None if m.bias is None else _numpy(m.bias)[None, :]}
    return out, values


def _batch_norm_from(m: Any) -> Any:
    state = m.state_dict()
    dtype = state["weight"].numpy().dtype if "weight" in state else np.float32
    if "running_mean" in state:
        dtype = state["running_mean"].numpy().dtype
    out = getattr(nn, type(m).__name__)(m.num_features, m.eps, m.momentum, m.affine,
                                        m.track_running_stats, dtype=dtype)  # fmt: skip
    return out, None


def _layer_norm_from(m: Any) -> Any:
    dtype = _numpy(m.weight).dtype if m.weight is not None else np.float32
    return nn.LayerNorm(m.normalized_shape, m.eps, m.elementwise_affine, bias=m.bias is not None,
                        dtype=dtype), None  # fmt: skip


def _conv_from(m: Any) -> Any:
    out = getattr(nn, type(m).__name__)(
        m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation, m.groups,
        m.bias is not None, m.padding_mode, dtype=_numpy(m.weight).dtype,
    )  # fmt: skip
    return out, None


def _embedding_from(m: Any) -> Any:
    for setting, default in (("max_norm", None), ("scale_grad_by_freq", False), ("sparse", False)):
        if getattr(m, setting) != default:
            raise ValueError(
                f"from_torch: {m!r} sets {setting}={getattr(m, setting)}, which "
                "tinygrad_np's Embedding does not have"
            )
    dtype = _numpy(m.weight).dtype
    return nn.Embedding(m.num_embeddings, m.embedding_dim, m.padding_idx, dtype=dtype), None


def _flatten_from(m: Any) -> Any:
    if (m.start_dim, m.end_dim) != (1, -1):
        raise ValueError(
            f"from_torch: {m!r} flattens axes {m.start_dim}..{m.end_dim}; tinygrad_np's Flatten "
            "keeps the batch axis and flattens the rest (start_dim=1, end_dim=-1) only"
        )
    return nn.Flatten(), None


def _softmax_from(cls: type) -> Callable:
    def convert(m: Any) -> Any:
        if m.dim is None:
            raise ValueError(f"from_torch: {m!r} has no dim; set the axis it normalises")
        return cls(axis=m.dim), None

    return convert


def _plain(cls: type, *settings: str) -> Callable:
    return lambda m: (cls(*(getattr(m, s) for s in settings)), None)


def _sequential_from(m: Any) -> Any:
    return nn.Sequential(*[from_torch(child) for child in m]), None


FROM_TORCH: dict[str, Callable] = {
    "Linear": _linear_from,
    "Sequential": _sequential_from,
    "BatchNorm1d": _batch_norm_from,
    "BatchNorm2d": _batch_norm_from,
    "LayerNorm": _layer_norm_from,
    "Conv1d": _conv_from,
    "Conv2d": _conv_from,
    "MaxPool2d": _plain(
        nn.MaxPool2d, "kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"
    ),  # fmt: skip
    "AvgPool2d": _plain(
        nn.AvgPool2d,
        "kernel_size",
        "stride",
        "padding",
        "ceil_mode",
        "count_include_pad",
        "divisor_override",
    ),  # fmt: skip
    "Embedding": _embedding_from,
    "Dropout": _plain(nn.Dropout, "p"),
    "Flatten": _flatten_from,
    "Identity": _plain(nn.Identity),
    "ReLU": _plain(nn.ReLU),
    "LeakyReLU": _plain(nn.LeakyReLU, "negative_slope"),
    "Sigmoid": _plain(nn.Sigmoid),
    "Tanh": _plain(nn.Tanh),
    "Softmax": _softmax_from(nn.Softmax),
    "LogSoftmax": _softmax_from(nn.LogSoftmax),
    "GELU": _plain(nn.GELU, "approximate"),
    "ELU": _plain(nn.ELU, "alpha"),
    "SELU": _plain(nn.SELU),
    "SiLU": _plain(nn.SiLU),
    "Softplus": _plain(nn.Softplus, "beta", "threshold"),
}


def from_torch(module: Any) -> Module:
    """The tinygrad_np model equivalent to the ``torch.nn.Module`` ``module`` (the reverse of
    ``to_torch``; ``from_torch(to_torch(m))`` has ``m``'s exact values).

    >>> import torch, tinygrad_np as tg
    >>> model = tg.interop.from_torch(torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.Tanh()))
    >>> model[0].weight.shape  # (in, out), the book's layout
    (4, 2)
    """
    torch = _torch()
    name = type(module).__name__
    convert = FROM_TORCH.get(name)
    if convert is None or type(module) is not getattr(torch.nn, name, None):
        raise TypeError(
            f"from_torch: {type(module).__module__}.{name} has no tinygrad_np twin; "
            f"tg.interop converts torch.nn.{', torch.nn.'.join(sorted(FROM_TORCH))}"
        )
    out, values = convert(module)
    if values is None:
        values = {
            k: _numpy(v) for k, v in module.state_dict(keep_vars=True).items() if "." not in k
        }
    ours = dict(out._parameters) | dict(out._buffers)
    for key, value in values.items():
        if value is not None:
            ours[key].data[...] = value
    for key, param in module.named_parameters(recurse=False):
        ours[key].requires_grad = param.requires_grad
    out.training = module.training
    return out
