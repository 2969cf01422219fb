"""Saving and loading state dicts as one ``.npz`` file, atomically and without pickle.

A checkpoint holds nested dicts, lists and tuples of arrays, Tensors and plain Python values
(a model's weights, an optimizer's step counts and hyper-parameters, a generator state whose
integers exceed 2**64). Arrays become ``.npy`` entries of the archive; the nesting and the
scalars go to one JSON entry. Python ints are written as decimal strings and floats by their
``repr``, so both come back exactly. Nothing is pickled, so loading a file cannot run code.

What comes back: ndarrays for arrays and Tensors (dtype and shape exact), NumPy scalars for
NumPy scalars, tuples for tuples, lists for lists, plain dicts for any mapping, and the same
Python ints, floats, bools, strings and Nones.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

import numpy as np

from tinygrad_np._arrays import to_numpy
from tinygrad_np.io_safetensors import is_safetensors_path, load_safetensors, save_safetensors

__all__ = ["save", "load"]

_META = "__tinygrad_np__"  # name of the JSON entry; arrays are named a0, a1, ...
_FORMAT = "tinygrad_np.state"
_VERSION = 1


# ---------------------------------------------------------------- encoding


def _where(path: tuple) -> str:
    return "obj" + "".join(f"[{key!r}]" for key in path)


def _as_array(value: Any, path: tuple) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.hasobject:
        raise TypeError(
            f"save: {_where(path)} is an array of dtype {array.dtype}, which holds Python "
            f"objects; those need pickle, which this format refuses. Store a numeric array."
        )
    return array


def _encode_key(key: Any, path: tuple) -> list:
    # JSON object keys are strings only; tagging keeps int keys (optimizer state by
    # parameter index) ints after a round trip.
    if isinstance(key, str):
        return ["str", key]
    if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
        return ["int", str(int(key))]
    raise TypeError(
        f"save: {_where(path)} has a key {key!r} of type {type(key).__name__}; "
        f"dict keys must be str or int"
    )


class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self._open: set[int] = set()  # ids of the containers being walked, to catch cycles

    def _store(self, array: np.ndarray) -> str:
        name = f"a{len(self.arrays)}"
        self.arrays[name] = array
        return name

    def encode(self, obj: Any, path: tuple = ()) -> dict[str, Any]:
        # NumPy scalars first: np.float64 is a float and np.bool_ mimics bool.
        if isinstance(obj, np.generic):
            return {"t": "scalar", "key": self._store(_as_array(obj, path))}
        if isinstance(obj, np.ndarray):
            return {"t": "array", "key": self._store(_as_array(obj, path))}
        if obj is None:
            return {"t": "none"}
        if isinstance(obj, bool):
            return {"t": "bool", "v": obj}
        if isinstance(obj, int):
            return {"t": "int", "v": str(int(obj))}
        if isinstance(obj, float):
            return {"t": "float", "v": repr(float(obj))}
        if isinstance(obj, str):
            return {"t": "str", "v": str(obj)}
        if isinstance(obj, (dict, list, tuple)):
            return self._container(obj, path)
        if callable(getattr(obj, "numpy", None)):  # a Tensor: keep its values, not its graph
            return {"t": "array", "key": self._store(_as_array(to_numpy(obj), path))}
        raise TypeError(
            f"save: {_where(path)} has unsupported type {type(obj).__name__}; a state dict "
            f"holds dicts, lists, tuples, arrays, Tensors, int, float, bool, str and None"
        )

    def _container(self, obj: dict | list | tuple, path: tuple) -> dict[str, Any]:
        if id(obj) in self._open:
            raise ValueError(f"save: {_where(path)} contains itself (a circular reference)")
        self._open.add(id(obj))
        try:
            if isinstance(obj, dict):
                items = [
                    [_encode_key(key, path), self.encode(value, (*path, key))]
                    for key, value in obj.items()
                ]
                return {"t": "dict", "items": items}
            kind = "tuple" if isinstance(obj, tuple) else "list"
            return {"t": kind, "items": [self.encode(v, (*path, i)) for i, v in enumerate(obj)]}
        finally:
            self._open.discard(id(obj))


# ---------------------------------------------------------------- decoding


class _DamagedError(ValueError):
    """Metadata that parses as JSON but does not describe a checkpoint."""


def _decode(node: Any, arrays: dict[str, np.ndarray], source: str) -> Any:
    def broken(why: str) -> ValueError:
        return _DamagedError(f"load: {source} is damaged or not a tinygrad_np checkpoint ({why})")

    if not isinstance(node, dict) or "t" not in node:
        raise broken(f"unexpected metadata node {node!r}")
    kind = node["t"]
    if kind in ("array", "scalar"):
        if node.get("key") not in arrays:
            raise broken(f"missing array entry {node.get('key')!r}")
        array = arrays[node["key"]]
        return array[()] if kind == "scalar" else array
    if kind == "none":
        return None
    if kind == "bool":
        return bool(node["v"])
    if kind == "int":
        return int(node["v"])
    if kind == "float":
        return float(node["v"])
    if kind == "str":
        return str(node["v"])
    if kind in ("list", "tuple"):
        items = [_decode(item, arrays, source) for item in node["items"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        result = {}
        for (key_kind, key), value in node["items"]:
            result[int(key) if key_kind == "int" else key] = _decode(value, arrays, source)
        return result
    raise broken(f"unknown node type {kind!r}")


# ---------------------------------------------------------------- files


def _write_atomically(path: str, arrays: dict[str, np.ndarray]) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    temp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # os.open with mode 0o666 lets the umask decide permissions, as a plain open() would
    # (tempfile.mkstemp would leave every checkpoint readable by its owner only).
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            # A file object, not a name: np.savez would append ".npz" to a name.
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open directories.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write the state dict ``obj`` to ``path`` (exactly that name; no ".npz" is added).

    The file is written to a temporary name in the same directory, flushed to disk and then
    renamed over ``path``, so a crash or an error never leaves a half-written checkpoint and
    an older file at ``path`` survives any failure. Values ``load`` could not read back
    (object arrays, arbitrary classes) raise TypeError naming where they sit in ``obj``.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> save({"weight": np.ones((2, 2), np.float32), "step": 3}, path)
    >>> load(path)["step"]
    3

    A name ending in ``.safetensors`` writes that format instead (a flat dict of arrays, read
    by PyTorch's and other frameworks' loaders; needs the ``safetensors`` package).
    """
    path = os.fspath(path)
    if is_safetensors_path(path):
        return save_safetensors(obj, path)
    encoder = _Encoder()
    root = encoder.encode(obj)
    meta = json.dumps({"format": _FORMAT, "version": _VERSION, "root": root})
    arrays = {_META: np.frombuffer(meta.encode("utf-8"), dtype=np.uint8), **encoder.arrays}
    _write_atomically(path, arrays)


def load(path: str | os.PathLike) -> Any:
    """Read a state dict written by ``save``; never unpickles.

    A plain ``.npz`` written by ``np.savez`` loads as a dict of its arrays. An entry that
    would need pickle (an object array) raises ValueError instead of running any code.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "opt.npz")
    >>> save({"lr": 0.01, "betas": (0.9, 0.999)}, path)
    >>> load(path)
    {'lr': 0.01, 'betas': (0.9, 0.999)}

    A name ending in ``.safetensors`` is read as that format: a dict of its arrays.
    """
    source = os.fspath(path)
    if is_safetensors_path(source):
        return load_safetensors(source)
    arrays: dict[str, np.ndarray] = {}
    archive = np.load(source, allow_pickle=False)
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"load: {source} is a single .npy array, not an .npz archive")
    with archive:
        for name in archive.files:
            try:
                arrays[name] = archive[name]
            except ValueError as error:
                raise ValueError(
                    f"load: entry {name!r} of {source} holds pickled Python objects; "
                    f"refusing to unpickle it ({error})"
                ) from error
    if _META not in arrays:
        return arrays
    try:
        meta = json.loads(arrays.pop(_META).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"load: {source} has unreadable metadata ({error})") from error
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise ValueError(f"load: {source} is not a tinygrad_np checkpoint")
    if meta.get("version") != _VERSION:
        raise ValueError(
            f"load: {source} uses checkpoint format version {meta.get('version')!r}; "
            f"this tinygrad_np reads version {_VERSION}"
        )
    try:
        return _decode(meta["root"], arrays, source)
    except _DamagedError:
        raise
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"load: {source} has damaged metadata ({error!r})") from error
