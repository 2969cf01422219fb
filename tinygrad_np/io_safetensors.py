"""State dicts as ``.safetensors`` files: a flat mapping of names to arrays that PyTorch's
(``safetensors.torch.load_file``), JAX's, NumPy's and other frameworks' loaders read.

``tg.save`` and ``tg.load`` come here when the file name ends in ``.safetensors``; the
format needs the optional ``safetensors`` package (``pip install tinygrad-np[safetensors]``).
The format is a JSON header and raw little-endian bytes: it holds no code, so loading cannot
run any. It holds arrays only; nested checkpoints (optimizer state, training progress) go to
``.npz`` files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tinygrad_np._arrays import to_numpy

SUFFIX = ".safetensors"


def is_safetensors_path(path: str) -> bool:
    """Whether ``path`` names a ``.safetensors`` file (case-insensitive)."""
    return path.lower().endswith(SUFFIX)


def _package(verb: str) -> Any:
    try:
        import safetensors.numpy
    except ImportError as error:
        raise ImportError(
            f"{verb}: .safetensors files need the safetensors package; install it with "
            "pip install tinygrad-np[safetensors] (or save to a .npz file, which needs nothing)"
        ) from error
    return safetensors.numpy


def _as_array(name: str, value: Any) -> np.ndarray:
    if isinstance(value, Mapping | list | tuple) or value is None:
        raise TypeError(
            f"save: entry {name!r} is a {type(value).__name__}; a .safetensors file holds a flat "
            "dict of named arrays (a state_dict). Save nested checkpoints to a .npz file"
        )
    if isinstance(value, int | float | bool | str):
        raise TypeError(
            f"save: entry {name!r} is a Python {type(value).__name__}, not an array; a "
            ".safetensors file holds arrays only (wrap it as np.asarray(value), or use .npz)"
        )
    array = to_numpy(value)
    if not array.flags.c_contiguous:  # (np.ascontiguousarray would make a 0-d array 1-d)
        array = array.copy(order="C")
    if array.dtype.byteorder == ">":  # the format is little-endian
        array = array.astype(array.dtype.newbyteorder("<"))
    return array


def save_safetensors(state: Mapping[str, Any], path: str) -> None:
    """Write the flat mapping ``state`` (names -> arrays or Tensors) to ``path``, atomically.

    >>> import os, tempfile, numpy as np, tinygrad_np as tg
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> tg.save(tg.nn.Linear(2, 3).state_dict(), path)
    >>> {k: v.shape for k, v in sorted(tg.load(path).items())}
    {'bias': (1, 3), 'weight': (2, 3)}
    """
    package = _package("save")
    if not isinstance(state, Mapping):
        raise TypeError(
            f"save: a .safetensors file holds a dict of named arrays, got a {type(state).__name__}"
        )
    arrays = {}
    for name, value in state.items():
        if not isinstance(name, str):
            raise TypeError(f"save: .safetensors entry names must be str, got {name!r}")
        arrays[name] = _as_array(name, value)
    try:
        data = package.save(arrays)
    except Exception as error:  # the package's own error type: an unsupported dtype
        raise TypeError(f"save: cannot write {path} as .safetensors ({error})") from error
    _write(path, data)


def load_safetensors(path: str) -> dict[str, np.ndarray]:
    """The named arrays of the ``.safetensors`` file at ``path`` (dtypes and shapes exact)."""
    package = _package("load")
    try:
        arrays = package.load_file(path)
    except FileNotFoundError:
        raise
    except Exception as error:  # safetensors' SafetensorError, raised for a damaged header
        raise ValueError(f"load: {path} is damaged or not a .safetensors file ({error})") from error
    return {name: np.array(array) for name, array in arrays.items()}  # own, writable copies


def _write(path: str, data: bytes) -> None:
    """``data`` to ``path`` with ``tg.save``'s guarantees (atomic, permissions, symlinks)."""
    from tinygrad_np import io  # here: tinygrad_np.io imports this module

    io.write_atomically(path, lambda file: file.write(data))
