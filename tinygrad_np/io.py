"""Saving and loading state dicts as one ``.npz`` file, atomically and without pickle.

A checkpoint holds nested dicts, lists and tuples of arrays, Tensors and plain Python values
(a model's weights, an optimizer's step counts and hyper-parameters, a generator state whose
integers exceed 2**64). Arrays become ``.npy`` entries of the archive; the nesting and the
scalars go to one JSON entry. Python ints are written as decimal strings and floats by their
``repr``, so both come back exactly. Nothing is pickled, so loading a file cannot run code.

What comes back: ndarrays for arrays and Tensors (dtype and shape exact), NumPy scalars for
NumPy scalars, tuples for tuples, lists for lists, plain dicts for any mapping, and the same
Python ints, floats, bools, strings and Nones. Containers nest at most ``MAX_DEPTH`` levels.

A file that is empty, truncated, overwritten with other bytes or not an ``.npz`` of arrays
raises one ValueError that names it; saving keeps a replaced file's permission bits, writes
through symbolic links, and clears the temporary files that killed saves left behind.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

from tinygrad_np._arrays import to_numpy
from tinygrad_np.io_safetensors import is_safetensors_path, load_safetensors, save_safetensors

__all__ = ["save", "load", "MAX_DEPTH"]

MAX_DEPTH = 100  # nesting levels of dicts, lists and tuples; state dicts use a handful

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

    def encode(self, obj: Any, path: tuple = (), depth: int = 0) -> dict[str, Any]:
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
            if depth == MAX_DEPTH:
                raise ValueError(
                    f"save: {_where(path[:8])}... is nested deeper than {MAX_DEPTH} levels "
                    f"of dicts, lists and tuples; flatten it"
                )
            return self._container(obj, path, depth + 1)
        if callable(getattr(obj, "numpy", None)):  # a Tensor: keep its values, not its graph
            return {"t": "array", "key": self._store(_as_array(to_numpy(obj), path))}
        raise TypeError(
            f"save: {_where(path)} has unsupported type {type(obj).__name__}; a state dict "
            f"holds dicts, lists, tuples, arrays, Tensors, int, float, bool, str and None"
        )

    def _container(self, obj: dict | list | tuple, path: tuple, depth: int) -> dict[str, Any]:
        if id(obj) in self._open:
            raise ValueError(f"save: {_where(path)} contains itself (a circular reference)")
        self._open.add(id(obj))
        try:
            if isinstance(obj, dict):
                items = [
                    [_encode_key(key, path), self.encode(value, (*path, key), depth)]
                    for key, value in obj.items()
                ]
                return {"t": "dict", "items": items}
            kind = "tuple" if isinstance(obj, tuple) else "list"
            items = [self.encode(v, (*path, i), depth) for i, v in enumerate(obj)]
            return {"t": kind, "items": items}
        finally:
            self._open.discard(id(obj))


# ---------------------------------------------------------------- decoding


class _Damaged(Exception):
    """Why a file is not a readable tinygrad_np file; ``load`` turns it into its ValueError."""


class _Refused(ValueError):
    """A sound file that ``load`` will not read: pickled entries, another format version."""


def _decode(node: Any, arrays: dict[str, np.ndarray], depth: int = 0) -> Any:
    if not isinstance(node, dict) or "t" not in node:
        raise _Damaged(f"unexpected metadata node {str(node)[:80]}")
    kind = node["t"]
    if kind in ("array", "scalar"):
        if node.get("key") not in arrays:
            raise _Damaged(f"missing array entry {node.get('key')!r}")
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
    if kind not in ("list", "tuple", "dict"):
        raise _Damaged(f"unknown node type {str(kind)[:40]!r}")
    if depth == MAX_DEPTH:
        raise _Damaged(f"its metadata is nested deeper than {MAX_DEPTH} levels")
    if kind == "dict":
        result = {}
        for (key_kind, key), value in node["items"]:
            result[int(key) if key_kind == "int" else key] = _decode(value, arrays, depth + 1)
        return result
    items = [_decode(item, arrays, depth + 1) for item in node["items"]]
    return tuple(items) if kind == "tuple" else items


def _json_depth(text: str) -> int:
    """How deeply brackets nest in JSON ``text``, without the recursion of ``json.loads``."""
    structure = re.sub(r'"(?:[^"\\]|\\.)*"', "", text)  # brackets inside strings do not count
    steps = np.frombuffer(structure.encode("utf-8"), np.uint8)
    opens, closes = np.isin(steps, (ord("["), ord("{"))), np.isin(steps, (ord("]"), ord("}")))
    change = opens.astype(np.int64) - closes
    return int(np.cumsum(change).max(initial=0))


# ---------------------------------------------------------------- files


def _temp_name(name: str) -> str:
    # The writer's pid in the name lets a later save tell a killed save's leftover from one
    # still being written (by another thread or process).
    return f".{name}.{os.getpid()}-{secrets.token_hex(6)}.tmp"


def write_atomically(path: str, write: Callable[[BinaryIO], Any]) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, flush it to disk and rename it
    over ``path``: a failure never leaves a half-written file and an older one survives; a
    replaced file keeps its permission bits, a symbolic link its target, and temporary files
    of killed saves are removed. Every format ``save`` writes goes through here."""
    # A symbolic link stays a link: its target is the file replaced.
    directory, name = os.path.split(os.path.realpath(path))
    target = os.path.join(directory, name)
    temp = os.path.join(directory, _temp_name(name))
    # os.open with mode 0o666 lets the umask decide permissions, as a plain open() would
    # (tempfile.mkstemp would leave every checkpoint readable by its owner only).
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        _keep_permissions(fd, temp, target)  # before writing: a 0600 file's data stays private
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise
    _fsync_directory(directory)
    _remove_stale_temps(directory, name)


def _keep_permissions(fd: int, temp: str, target: str) -> None:
    """Give the new file the permission bits of the one it replaces (if any)."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:
        os.chmod(temp, mode)


def _remove_stale_temps(directory: str, name: str) -> None:
    """Delete temporary files of ``name`` whose writer is gone (a save killed mid-way)."""
    pattern = re.compile(rf"\.{re.escape(name)}\.(\d+)-[0-9a-f]{{12}}\.tmp")
    for entry in os.listdir(directory):
        match = pattern.fullmatch(entry)
        if match is None or _writer_alive(int(match.group(1)), os.path.join(directory, entry)):
            continue
        try:
            os.remove(os.path.join(directory, entry))
        except OSError:
            pass  # removed meanwhile, or not ours to remove: the next save tries again


def _writer_alive(pid: int, temp: str) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be writing it
    if os.name != "posix":
        # Windows has no harmless "is this pid alive" call; an hour-old temp file is stale.
        try:
            return time.time() - os.stat(temp).st_mtime < 3600
        except OSError:
            return True
    try:
        os.kill(pid, 0)  # signal 0 sends nothing: it only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but belongs to someone else
    return True


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
    an older file at ``path`` survives any failure. A file replaced keeps its permission bits;
    a symbolic link keeps pointing at the file, which is replaced; temporary files that killed
    saves to ``path`` left behind are removed. Values ``load`` could not read back (object
    arrays, arbitrary classes, nesting deeper than ``MAX_DEPTH``) raise TypeError or
    ValueError naming where they sit in ``obj``.

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
    # A file object, not a name: np.savez would append ".npz" to a name.
    write_atomically(path, lambda file: np.savez(file, **arrays))


# What a damaged archive raises while it is read: zipfile's and zlib's errors, NumPy's
# ValueError for a bad .npy header or short data, EOFError and struct.error for cut-off
# headers, OSError for a seek to a garbled offset, RuntimeError for a flag saying "encrypted".
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, struct.error, OSError,
                RuntimeError)  # fmt: skip


def _read_entry(archive: zipfile.ZipFile, entry: str, source: str) -> np.ndarray:
    with archive.open(entry) as member:
        try:
            return np.lib.format.read_array(member, allow_pickle=False)
        except ValueError:
            pass
    with archive.open(entry) as member:  # why it failed: a pickled entry, or damage
        version = np.lib.format.read_magic(member)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)  # fmt: skip
        dtype = read_header(member)[2]
    if dtype.hasobject:
        raise _Refused(
            f"load: entry {entry.removesuffix('.npy')!r} of {source} holds pickled Python "
            f"objects; refusing to unpickle it"
        )
    raise _Damaged(f"entry {entry!r} cannot be read")


def _read_arrays(file: Any, source: str) -> dict[str, np.ndarray]:
    start = file.read(6)
    file.seek(0)
    if start == b"\x93NUMPY":
        raise _Damaged("it starts like a single .npy array, not an .npz archive; use np.load")
    if not zipfile.is_zipfile(file):
        raise _Damaged("empty" if not start else "not an .npz archive, or truncated")
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(file) as archive:
        for entry in archive.namelist():
            if not entry.endswith(".npy"):
                raise _Damaged(f"entry {entry!r} is not a NumPy array")
            arrays[entry.removesuffix(".npy")] = _read_entry(archive, entry, source)
    return arrays


def load(path: str | os.PathLike) -> Any:
    """Read a state dict written by ``save``; never unpickles.

    A plain ``.npz`` written by ``np.savez`` loads as a dict of its arrays. An entry that
    would need pickle (an object array) raises ValueError instead of running any code, and so
    does a file that is damaged (empty, truncated, other bytes) or not an ``.npz`` of arrays:
    one message that names ``path``. A missing file raises FileNotFoundError.

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
    with open(source, "rb") as file:  # a missing file is FileNotFoundError, as for open()
        return _load(file, source)


def _load(file: Any, source: str) -> Any:
    try:
        arrays = _read_arrays(file, source)
        if _META not in arrays:
            return arrays
        text = arrays.pop(_META).tobytes().decode("utf-8")
        if _json_depth(text) > 3 * MAX_DEPTH + 3:  # a dict level is three JSON levels
            raise _Damaged(f"its metadata is nested deeper than {MAX_DEPTH} levels")
        meta = json.loads(text)
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise _Damaged("its metadata is not a tinygrad_np state dict's")
        if meta.get("version") != _VERSION:
            raise _Refused(
                f"load: {source} uses checkpoint format version {meta.get('version')!r}; "
                f"this tinygrad_np reads version {_VERSION}"
            )
        return _decode(meta["root"], arrays)
    except _Refused:
        raise
    except _Damaged as error:
        why = str(error)
    except UnicodeDecodeError as error:
        why = f"unreadable metadata: {error.reason}"
    except json.JSONDecodeError as error:
        why = f"unreadable metadata: {error.msg} at character {error.pos}"
    except (KeyError, TypeError) as error:  # JSON of another shape than ours
        why = f"malformed metadata: {type(error).__name__} {error}"[:200]
    except _READ_ERRORS as error:
        why = f"{type(error).__name__}: {error}"[:200]
    raise ValueError(f"load: {source} is damaged or not a tinygrad_np file ({why})") from None
