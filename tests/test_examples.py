"""Every script in examples/ runs as ``python examples/NAME.py --epochs N`` and reports."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
NUMBER = r"[0-9]+\.[0-9]+(?:e-?[0-9]+)?"

# script -> the metric its result line reports after the loss
CASES = {
    "spiral_sgd": "accuracy",
    "spiral_momentum": "accuracy",
    "spiral_adagrad": "accuracy",
    "spiral_rmsprop": "accuracy",
    "spiral_adam": "accuracy",
    "spiral_l2_dropout": "accuracy",
    "binary_logistic": "accuracy",
    "sine_regression": "regression_accuracy",
    "digits_mlp": "accuracy",
}


def run_example(name: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, f"{name}.py"), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_training_examples_are_all_there():
    scripts = {f[:-3] for f in os.listdir(EXAMPLES) if f.endswith(".py")}
    assert set(CASES) <= scripts


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs_and_prints_its_result(name):
    if name == "digits_mlp":
        pytest.importorskip("sklearn")
    args = ["--epochs", "3"]
    if name == "spiral_l2_dropout":
        args += ["--samples", "100"]  # the book's 1,000 per class is for the full run
    out = run_example(name, *args)
    pattern = rf"^result: epochs=3 loss=({NUMBER}) .*\b{CASES[name]}=({NUMBER})"
    match = re.search(pattern, out, re.MULTILINE)
    assert match, out
    loss, metric = float(match.group(1)), float(match.group(2))
    assert loss > 0 and 0.0 <= metric <= 1.0


def test_digits_says_it_is_skipped_without_scikit_learn(tmp_path):
    # a stand-in package named sklearn that fails to import hides the real one
    (tmp_path / "sklearn").mkdir()
    (tmp_path / "sklearn" / "__init__.py").write_text("raise ImportError('no sklearn here')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), ROOT])}
    done = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, "digits_mlp.py"), "--epochs", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("skipped: load_digits needs scikit-learn")


def test_epochs_can_come_from_the_environment():
    env_out = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, "spiral_sgd.py")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": ROOT, "EPOCHS": "2"},
    )  # fmt: skip
    assert env_out.returncode == 0, env_out.stderr
    assert "result: epochs=2 " in env_out.stdout


@pytest.mark.parametrize(
    "name, expected",
    [
        ("derivation_check", "SGD (learning_rate 1.0, decay 1e-3), 3 steps"),
        ("graph_walkthrough", "3 steps of plain gradient descent"),
    ],
)
def test_the_other_examples_take_epochs_too(name, expected, tmp_path):
    out = run_example(name, "--epochs", "3", *(["--out", str(tmp_path)] if "graph" in name else []))
    assert expected in out


def test_digits_cnn_reaches_its_accuracy_with_the_defaults():
    # The README quotes this run: the defaults, under a minute on the project's 2-core machine.
    pytest.importorskip("sklearn")
    out = run_example("digits_cnn")
    match = re.search(rf"^result: epochs=10 loss=({NUMBER}) .*test_accuracy=({NUMBER})", out, re.M)
    assert match, out
    assert float(match.group(2)) >= 0.97, out


def _fake_fashion_images(root, per_label=3):
    image = pytest.importorskip("PIL.Image")
    rng = __import__("numpy").random.default_rng(0)
    for kind in ("train", "test"):
        for label in (0, 3, 9):
            folder = root / kind / str(label)
            folder.mkdir(parents=True)
            for i in range(per_label):
                pixels = rng.integers(0, 256, (28, 28)).astype("uint8")
                image.fromarray(pixels).save(folder / f"{i:04d}.png")


def test_fashion_mnist_runs_on_a_tiny_image_folder_in_the_books_layout(tmp_path):
    _fake_fashion_images(tmp_path / "fashion_mnist_images")
    out = run_example("fashion_mnist", "--data", str(tmp_path / "fashion_mnist_images"),
                      "--epochs", "2")  # fmt: skip
    match = re.search(rf"^result: epochs=2 loss=({NUMBER}) .*test_accuracy=({NUMBER})", out, re.M)
    assert match, out
    assert "book (10 epochs): validation accuracy 0.874" in out


def test_fashion_mnist_reads_idx_files_too(tmp_path):
    import gzip
    import struct

    import numpy as np

    rng = np.random.default_rng(0)
    for stem, n in (("train", 6), ("t10k", 4)):
        for part, shape in (("images-idx3", (n, 28, 28)), ("labels-idx1", (n,))):
            values = rng.integers(0, 10 if "labels" in part else 256, shape).astype(np.uint8)
            header = struct.pack(">BBBB", 0, 0, 8, len(shape)) + struct.pack(f">{len(shape)}I",
                                                                             *shape)  # fmt: skip
            (tmp_path / f"{stem}-{part}-ubyte.gz").write_bytes(
                gzip.compress(header + values.tobytes())
            )
    out = run_example("fashion_mnist", "--data", str(tmp_path), "--epochs", "1")
    assert re.search(rf"^result: epochs=1 loss=({NUMBER})", out, re.M), out


def test_fashion_mnist_without_data_says_where_to_get_it(tmp_path):
    out = run_example("fashion_mnist", "--data", str(tmp_path / "fashion_mnist_images"))
    assert out.startswith("skipped: load_mnist: there is no folder"), out
    assert "zalandoresearch/fashion-mnist" in out
    assert "nnfs.io/datasets/fashion_mnist_images.zip" in out
    _fake_fashion_images(tmp_path / "half")
    shutil.rmtree(tmp_path / "half" / "test")  # a half-unzipped folder: no test images
    out = run_example("fashion_mnist", "--data", str(tmp_path / "half"))
    assert out.startswith("skipped: load_image_folder: there is no folder"), out
    assert "nnfs.io/datasets/fashion_mnist_images.zip" in out
