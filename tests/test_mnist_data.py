"""tg.data.load_mnist (IDX files, gzipped or not) and tg.data.load_image_folder (the NNFS
book's PNG folders), on small files the tests write; missing data says where it comes from."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np.mnist import read_idx


def idx_bytes(array: np.ndarray, code: int = 0x08, dtype: str = ">u1") -> bytes:
    """An IDX file written by hand from the format's description (not by the reader)."""
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.astype(dtype).tobytes()


def write_mnist(folder, stem, n=5, gz=True, dotted=False, rng=None):
    rng = rng or np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    for part, dims, array in (("images", "idx3", images), ("labels", "idx1", labels)):
        name = f"{stem}-{part}.{dims}-ubyte" if dotted else f"{stem}-{part}-{dims}-ubyte"
        data = idx_bytes(array)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return images, labels


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize(("kind", "stem"), [("train", "train"), ("test", "t10k"), ("t10k", "t10k")])
def test_load_mnist_reads_images_and_labels(tmp_path, kind, stem, gz):
    images, labels = write_mnist(tmp_path, stem, n=7, gz=gz)
    X, y = tg.data.load_mnist(tmp_path, kind=kind)
    assert X.dtype == np.uint8 and X.shape == (7, 28, 28) and np.array_equal(X, images)
    assert y.dtype == np.int64 and y.tolist() == labels.tolist()
    assert X.flags.writeable


def test_load_mnist_reads_the_original_dotted_names(tmp_path):
    images, labels = write_mnist(tmp_path, "train", n=3, gz=False, dotted=True)
    X, y = tg.data.load_mnist(str(tmp_path))
    assert np.array_equal(X, images) and y.tolist() == labels.tolist()


@pytest.mark.parametrize(
    ("code", "dtype"), [(0x08, ">u1"), (0x09, ">i1"), (0x0B, ">i2"), (0x0C, ">i4"), (0x0D, ">f4")]
)
def test_read_idx_every_type_in_native_byte_order(tmp_path, code, dtype):
    values = np.arange(-3, 9).reshape(2, 2, 3) if dtype != ">u1" else np.arange(12).reshape(4, 3)
    path = tmp_path / "x-idx-ubyte"
    path.write_bytes(idx_bytes(values, code, dtype))
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype).newbyteorder("=") and out.dtype.isnative
    np.testing.assert_array_equal(out, values)


def test_missing_data_says_where_it_comes_from_and_downloads_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="zalandoresearch/fashion-mnist"):
        tg.data.load_mnist(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte.gz"):
        tg.data.load_mnist(tmp_path, kind="test")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError, match="nnfs.io/datasets/fashion_mnist_images.zip"):
        tg.data.load_image_folder(tmp_path / "fashion_mnist_images")
    with pytest.raises(ValueError, match="kind must be 'train' or 'test'"):
        tg.data.load_mnist(tmp_path, kind="validation")


def test_damaged_idx_files_are_clear_errors(tmp_path):
    write_mnist(tmp_path, "train", n=4, gz=False)
    images = tmp_path / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-10])  # cut short
    with pytest.raises(ValueError, match="header says shape \\(4, 28, 28\\).*damaged"):
        tg.data.load_mnist(tmp_path)
    images.write_bytes(b"PK\x03\x04 a zip, not IDX")
    with pytest.raises(ValueError, match="is not an IDX file"):
        tg.data.load_mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").unlink()
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8bnot really gzip")
    with pytest.raises(ValueError, match="is damaged"):
        tg.data.load_mnist(tmp_path)


def test_image_and_label_counts_must_agree(tmp_path):
    write_mnist(tmp_path, "train", n=4, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.arange(3)))
    with pytest.raises(ValueError, match="4 images .* but 3 labels"):
        tg.data.load_mnist(tmp_path)


# --- the NNFS book's image folders -------------------------------------------------------------


def write_image_folder(root, counts, size=(28, 28), seed=0):
    """``root/{train,test}/<label>/NNNN.png`` as the book's zip lays them out."""
    image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(seed)
    written = {}
    for kind, per_label in counts.items():
        for label, n in per_label.items():
            folder = root / kind / str(label)
            folder.mkdir(parents=True)
            for i in range(n):
                pixels = rng.integers(0, 256, size, dtype=np.uint8)
                image.fromarray(pixels).save(folder / f"{i:04d}.png")
                written[(kind, label, i)] = pixels
    return written


def test_load_image_folder_reads_the_books_layout(tmp_path):
    root = tmp_path / "fashion_mnist_images"
    written = write_image_folder(root, {"train": {0: 2, 1: 1, 10: 2}, "test": {3: 1}})
    (root / "train" / "1" / "notes.txt").write_text("not an image")
    X, y = tg.data.load_image_folder(root)
    assert X.dtype == np.uint8 and X.shape == (5, 28, 28)
    assert y.dtype == np.int64 and y.tolist() == [0, 0, 1, 10, 10]  # numeric label order
    np.testing.assert_array_equal(X[3], written[("train", 10, 0)])
    X_test, y_test = tg.data.load_image_folder(str(root), kind="test")
    assert X_test.shape == (1, 28, 28) and y_test.tolist() == [3]
    np.testing.assert_array_equal(X_test[0], written[("test", 3, 0)])


def test_load_image_folder_refuses_mixed_sizes_and_named_labels(tmp_path):
    root = tmp_path / "images"
    write_image_folder(root, {"train": {0: 1}})
    write_image_folder(tmp_path / "other", {"train": {1: 1}}, size=(8, 8))
    (tmp_path / "other" / "train" / "1").rename(root / "train" / "1")
    with pytest.raises(ValueError, match=r"is \(8, 8\), but the first image is \(28, 28\)"):
        tg.data.load_image_folder(root)
    (root / "train" / "shirts").mkdir()
    with pytest.raises(ValueError, match=r"must be class numbers.*\['shirts'\]"):
        tg.data.load_image_folder(root)


def test_load_image_folder_names_a_broken_image(tmp_path):
    root = tmp_path / "images"
    write_image_folder(root, {"train": {0: 1}})
    (root / "train" / "0" / "0001.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="cannot read .*0001.png"):
        tg.data.load_image_folder(root)


def test_load_image_folder_without_pillow_says_how_to_install_it(tmp_path, monkeypatch):
    (tmp_path / "train" / "0").mkdir(parents=True)
    monkeypatch.setitem(__import__("sys").modules, "PIL", None)
    with pytest.raises(ImportError, match=r"pip install tinygrad-np\[images\]"):
        tg.data.load_image_folder(tmp_path)
