"""save/load and the file system: damaged files, deep nesting, permissions, links, leftovers."""

from __future__ import annotations

import io as pyio
import json
import os
import signal
import stat
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from tinygrad_np import io
from tinygrad_np.io import load, save

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and links")


def _good_bytes(tmp_path) -> bytes:
    path = tmp_path / "good.npz"
    save({"weight": np.arange(500.0), "step": 3, "name": "adam"}, path)
    return path.read_bytes()


def _damaged(tmp_path):
    good = _good_bytes(tmp_path)
    rng = np.random.default_rng(0)
    archive = pyio.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("notes.txt", "a zip archive, but not of arrays")
    middle = len(good) // 2
    return {
        "empty": b"",
        "truncated": good[:middle],
        "truncated_to_ten_bytes": good[:10],
        "random_bytes": rng.bytes(4000),
        "text": b"weights: 1, 2, 3\n",
        "zip_header_then_noise": b"PK\x03\x04" + rng.bytes(200),
        "flipped_bytes_inside": good[:400] + bytes(b ^ 0xFF for b in good[400:600]) + good[600:],
        "npy_header_then_noise": b"\x93NUMPY\x01\x00" + rng.bytes(100),
        "zip_of_text": archive.getvalue(),
    }


DAMAGE = ["empty", "truncated", "truncated_to_ten_bytes", "random_bytes", "text",
          "zip_header_then_noise", "flipped_bytes_inside", "npy_header_then_noise",
          "zip_of_text"]  # fmt: skip


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_damaged_file_is_one_value_error_naming_the_path(tmp_path, kind):
    path = tmp_path / f"{kind}.ckpt"
    path.write_bytes(_damaged(tmp_path)[kind])
    with pytest.raises(ValueError) as error:
        load(path)
    message = str(error.value)
    assert type(error.value) is ValueError
    assert message.startswith(f"load: {path} is damaged or not a tinygrad_np file")
    assert "allow_pickle" not in message and "pickle.load" not in message
    assert "\n" not in message


def test_missing_files_and_directories_keep_their_os_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.ckpt")
    with pytest.raises(IsADirectoryError if os.name == "posix" else OSError):
        load(tmp_path)


def _nested(levels: int) -> list:
    """Lists ``levels`` deep: [[[]]] for 3."""
    obj: list = []
    for _ in range(levels - 1):
        obj = [obj]
    return obj


@pytest.mark.parametrize("depth", [io.MAX_DEPTH, io.MAX_DEPTH + 1, 5000])
def test_deeply_nested_objects_save_exactly_or_raise_value_error(tmp_path, depth):
    path = tmp_path / "deep.npz"
    obj = {"deep": _nested(depth - 1)}  # the dict is one level
    if depth <= io.MAX_DEPTH:
        save(obj, path)
        assert load(path) == obj
    else:
        with pytest.raises(ValueError, match=rf"save: .* nested deeper than {io.MAX_DEPTH}"):
            save(obj, path)
        assert not path.exists()


@pytest.mark.parametrize("depth", [io.MAX_DEPTH + 1, 100_000])
def test_deeply_nested_metadata_in_a_file_is_a_value_error(tmp_path, depth):
    text = json.dumps({"format": io._FORMAT, "version": io._VERSION, "root": {"t": "none"}})
    # json.dumps itself recurses, so the deep part is spliced in as text.
    deep = '{"t": "list", "items": [' * depth + '{"t": "none"}' + "]}" * depth
    text = text.replace('"root": {"t": "none"}', f'"root": {deep}')
    path = tmp_path / "deep.npz"
    np.savez(path, **{io._META: np.frombuffer(text.encode(), np.uint8)})
    with pytest.raises(ValueError, match=rf"{path} is damaged .*nested deeper than"):
        load(path)


# ---------------------------------------------------------------- permissions and links


@posix_only
def test_saving_over_a_file_keeps_its_permission_bits(tmp_path):
    path = tmp_path / "secret.ckpt"
    save({"v": 1}, path)
    os.chmod(path, 0o600)
    save({"v": 2}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    os.chmod(path, 0o640)
    save({"v": 3}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640 and load(path) == {"v": 3}


@posix_only
def test_saving_to_a_symlink_writes_the_link_target(tmp_path):
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "real.ckpt"
    save({"v": 1}, target)
    link = tmp_path / "latest.ckpt"
    link.symlink_to(os.path.join("runs", "real.ckpt"))  # relative, as ln -s makes it
    save({"v": 2}, link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("runs", "real.ckpt")
    assert load(target) == {"v": 2}
    chain = tmp_path / "chain.ckpt"
    chain.symlink_to(link)
    save({"v": 3}, chain)
    assert chain.is_symlink() and link.is_symlink() and load(target) == {"v": 3}
    dangling = tmp_path / "dangling.ckpt"
    dangling.symlink_to(tmp_path / "runs" / "new.ckpt")
    save({"v": 4}, dangling)
    assert dangling.is_symlink() and load(tmp_path / "runs" / "new.ckpt") == {"v": 4}
    assert sorted(os.listdir(tmp_path / "runs")) == ["new.ckpt", "real.ckpt"]


# ---------------------------------------------------------------- leftovers of killed saves

_KILLED_SAVE = """
import os, signal, sys
import numpy as np
from tinygrad_np import io
def killed(file, **arrays):
    file.write(b"PK half an archive")
    file.flush()
    os.kill(os.getpid(), signal.SIGKILL)
io.np.savez = killed
io.save({"w": np.zeros(3)}, sys.argv[1])
"""


@posix_only
def test_the_next_save_removes_temp_files_of_killed_saves(tmp_path):
    path = tmp_path / "run.ckpt"
    save({"v": 1}, path)
    env = {**os.environ, "PYTHONPATH": ROOT}
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", _KILLED_SAVE, str(path)], env=env,
                              timeout=120)  # fmt: skip
        assert done.returncode == -signal.SIGKILL
    leftovers = [name for name in os.listdir(tmp_path) if name != "run.ckpt"]
    assert len(leftovers) == 2 and all(name.startswith(".run.ckpt.") for name in leftovers)
    assert load(path) == {"v": 1}  # the killed saves never touched the file
    (tmp_path / ".other.ckpt.1-abc.tmp").write_bytes(b"another file's temp")
    (tmp_path / ".run.ckpt.notes").write_bytes(b"not a temp file")
    save({"v": 2}, path)
    assert sorted(os.listdir(tmp_path)) == [".other.ckpt.1-abc.tmp", ".run.ckpt.notes", "run.ckpt"]
    assert load(path) == {"v": 2}


def test_a_temp_file_of_a_save_in_progress_is_left_alone(tmp_path):
    path = tmp_path / "run.ckpt"
    in_progress = tmp_path / f".run.ckpt.{os.getpid()}-0123456789ab.tmp"
    in_progress.write_bytes(b"another thread is writing this")
    save({"v": 1}, path)
    assert in_progress.exists()
