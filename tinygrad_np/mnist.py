"""MNIST-format data from files on disk: the IDX files of MNIST and Fashion-MNIST
(``load_mnist``) and the NNFS book's folder of PNG images (``load_image_folder``).

Nothing here downloads: a missing folder or file is an error that says where the data comes
from. Both return the pixels as stored (uint8) and the labels as int64, so scaling is the
caller's choice (the book's is ``(X - 127.5) / 127.5``). ``tg.data`` exports both.
"""

from __future__ import annotations

import gzip
import math
import os
from typing import Any

import numpy as np

__all__ = ["load_mnist", "load_image_folder", "read_idx"]

MNIST_SOURCES = (
    "Fashion-MNIST's four .gz files are at https://github.com/zalandoresearch/fashion-mnist "
    "(folder data/fashion), MNIST's at https://yann.lecun.com/exdb/mnist/"
)
IMAGES_SOURCE = (
    "the NNFS book's Fashion-MNIST images are at https://nnfs.io/datasets/fashion_mnist_images.zip"
)
# IDX type codes (the third byte of the magic number) and their big-endian dtypes
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_KINDS = {"train": "train", "test": "t10k", "t10k": "t10k"}
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def read_idx(path: str | os.PathLike, name: str = "read_idx") -> np.ndarray:
    """The array in one IDX file (gzipped or not), in native byte order.

    >>> import os, struct, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny-idx1-ubyte")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(struct.pack(">BBBBI", 0, 0, 0x08, 1, 3) + bytes([7, 0, 9]))
    >>> read_idx(path)
    array([7, 0, 9], dtype=uint8)
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as file:
            raw = file.read()
        if raw[:2] == b"\x1f\x8b":  # gzip's magic bytes, whatever the file is called
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ValueError(f"{name}: {path} is damaged ({error})") from error
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{name}: {path} is not an IDX file (it starts with {raw[:4]!r})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{name}: {path} is cut short inside its header")
    shape = tuple(int(n) for n in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"{name}: {path} holds {len(raw) - header} bytes of data, but its header says "
            f"shape {shape} of {dtype.name} ({expected} bytes): the file is damaged"
        )
    array = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable copy in native byte order


def _find(name: str, folder: str, stem: str, kind_dims: str) -> str:
    # "train-images-idx3-ubyte" (Fashion-MNIST, the usual spelling) or MNIST's original
    # "train-images.idx3-ubyte", each possibly gzipped
    names = [f"{stem}-{kind_dims}-ubyte", f"{stem}.{kind_dims}-ubyte"]
    tried = [n + ext for n in names for ext in (".gz", "")]
    for candidate in tried:
        if os.path.isfile(os.path.join(folder, candidate)):
            return os.path.join(folder, candidate)
    raise FileNotFoundError(
        f"{name}: none of {tried} is in {folder}. Nothing is downloaded here: {MNIST_SOURCES}"
    )


def load_mnist(path: str | os.PathLike, kind: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of MNIST or Fashion-MNIST from the IDX files in the folder ``path``.

    ``kind`` is "train" (``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``)
    or "test" (the ``t10k-...`` files; "t10k" also works). Returns ``images`` uint8 of shape
    (N, 28, 28) and ``labels`` int64 of shape (N,).

    >>> X, y = load_mnist("fashion")  # doctest: +SKIP
    >>> X.shape, X.dtype, y[:5]       # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'), array([9, 0, 0, 3, 0]))
    """
    name = "load_mnist"
    if kind not in _KINDS:
        raise ValueError(f"{name}: kind must be 'train' or 'test', not {kind!r}")
    folder = os.fspath(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"{name}: there is no folder {folder}. Nothing is downloaded here: {MNIST_SOURCES}; "
            "put the files in one folder and pass its path"
        )
    stem = _KINDS[kind]
    images_path = _find(name, folder, f"{stem}-images", "idx3")
    labels_path = _find(name, folder, f"{stem}-labels", "idx1")
    images, labels = read_idx(images_path, name), read_idx(labels_path, name)
    if images.ndim != 3 or labels.ndim != 1:
        raise ValueError(
            f"{name}: expected images of shape (N, rows, cols) and labels of shape (N,), got "
            f"{images.shape} from {images_path} and {labels.shape} from {labels_path}"
        )
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{name}: {images.shape[0]} images in {images_path} but {labels.shape[0]} labels "
            f"in {labels_path}"
        )
    return images, labels.astype(np.int64)


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(
            "load_image_folder reads images with Pillow; install it with "
            "pip install tinygrad-np[images]"
        ) from error
    return Image


def load_image_folder(
    path: str | os.PathLike, kind: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels from the NNFS book's layout, ``path/<kind>/<label>/*.png``, where
    each label folder is named by its class number (``fashion_mnist_images/train/0/...``).

    Returns ``images`` as stored (uint8; (N, H, W) for grayscale) and ``labels`` int64, in
    label order, then file-name order (the book shuffles afterwards). Needs Pillow (the
    ``images`` extra).

    >>> X, y = load_image_folder("fashion_mnist_images")          # doctest: +SKIP
    >>> X_test, y_test = load_image_folder("fashion_mnist_images", "test")  # doctest: +SKIP
    >>> X.shape, X_test.shape                                      # doctest: +SKIP
    ((60000, 28, 28), (10000, 28, 28))
    """
    name = "load_image_folder"
    if kind not in ("train", "test"):
        raise ValueError(f"{name}: kind must be 'train' or 'test', not {kind!r}")
    folder = os.path.join(os.fspath(path), kind)
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"{name}: there is no folder {folder} (expected {os.fspath(path)}/{kind}/<label>/"
            f"*.png). Nothing is downloaded here: {IMAGES_SOURCE}; unzip it and pass the "
            "folder that holds train/ and test/"
        )
    label_names = sorted(e for e in os.listdir(folder) if os.path.isdir(os.path.join(folder, e)))
    not_numbers = [n for n in label_names if not n.isdigit()]
    if not_numbers:
        raise ValueError(
            f"{name}: label folders in {folder} must be class numbers (0, 1, ...), got "
            f"{not_numbers}"
        )
    image = _pillow()
    images: list[np.ndarray] = []
    labels: list[int] = []
    for label in sorted(label_names, key=int):
        label_folder = os.path.join(folder, label)
        for file_name in sorted(os.listdir(label_folder)):
            if not file_name.lower().endswith(_IMAGE_SUFFIXES):
                continue
            file_path = os.path.join(label_folder, file_name)
            try:
                with image.open(file_path) as picture:
                    pixels = np.asarray(picture)
            except OSError as error:
                raise ValueError(f"{name}: cannot read {file_path} ({error})") from error
            if images and pixels.shape != images[0].shape:
                raise ValueError(
                    f"{name}: {file_path} is {pixels.shape}, but the first image is "
                    f"{images[0].shape}; every image must have the same size"
                )
            images.append(pixels)
            labels.append(int(label))
    if not images:
        raise ValueError(f"{name}: no images ({', '.join(_IMAGE_SUFFIXES)}) under {folder}")
    return np.stack(images), np.array(labels, dtype=np.int64)
