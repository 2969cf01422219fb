"""Fashion-MNIST, the NNFS book's chapters 19-22 model: 784-128-128-10 with ReLU, softmax
cross-entropy, Adam (lr 0.001, decay 1e-3, epsilon 1e-7), batches of 128 for 10 epochs.

As in the book, pixels are scaled to [-1, 1] by (X - 127.5) / 127.5, the training set is
shuffled once before training, the weights start as 0.01 * randn, and the test set is the
validation data. The data is not downloaded here: pass ``--data`` the book's
``fashion_mnist_images`` folder (https://nnfs.io/datasets/fashion_mnist_images.zip, unzipped;
reading its PNGs needs Pillow, ``pip install tinygrad-np[images]``) or a folder with the four
IDX files of https://github.com/zalandoresearch/fashion-mnist. Without data the script says
where to get it and exits.

    python examples/fashion_mnist.py [--data DIR] [--epochs N]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.mnist import IMAGES_SOURCE
from tinygrad_np.train import fit

# What the book prints after its 10 epochs (chapter 19, "validation, acc: 0.874, loss: 0.354")
BOOK_VALIDATION = {"accuracy": 0.874, "loss": 0.354}


def load(folder: str) -> tuple[np.ndarray, ...]:
    """Train and test images, from the book's PNG folders or from IDX files."""
    if os.path.isdir(os.path.join(folder, "train")):
        X, y = tg.data.load_image_folder(folder, "train")
        X_test, y_test = tg.data.load_image_folder(folder, "test")
    else:
        X, y = tg.data.load_mnist(folder, "train")
        X_test, y_test = tg.data.load_mnist(folder, "test")
    return X, y, X_test, y_test


def scale(X: np.ndarray) -> np.ndarray:
    """The book's preprocessing: flatten each image, then map 0..255 to [-1, 1]."""
    return (X.reshape(X.shape[0], -1).astype(np.float32) - 127.5) / 127.5


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The NNFS book's Fashion-MNIST model")
    parser.add_argument("--data", default="fashion_mnist_images", help="folder of the data")
    parser.add_argument("--epochs", type=int, default=int(os.environ.get("EPOCHS", 10)))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    try:
        X, y, X_test, y_test = load(args.data)
    except (FileNotFoundError, ImportError) as error:
        print(f"skipped: {error}")
        if not os.path.isdir(os.path.join(args.data, "train")):
            print(f"Or: {IMAGES_SOURCE} (unzip it and pass --data fashion_mnist_images).")
        return

    np.random.seed(args.seed)  # the book's nnfs.init() seeds NumPy's global state with 0
    keys = np.arange(X.shape[0])
    np.random.shuffle(keys)  # shuffled once, as in the book; batches then come in order
    X, y = scale(X[keys]), y[keys]
    X_test = scale(X_test)

    model = nn.Sequential(
        nn.Linear(X.shape[1], 128, init="nnfs"), nn.ReLU(),
        nn.Linear(128, 128, init="nnfs"), nn.ReLU(),
        nn.Linear(128, 10, init="nnfs"),
    )  # fmt: skip
    optimizer = tg.optim.Adam(model.parameters(), lr=0.001, decay=1e-3, eps=1e-7)
    start = time.perf_counter()
    history = fit(
        model, nn.CrossEntropyLoss(), optimizer, (X, y), args.epochs, batch_size=128,
        shuffle=False, val_data=(X_test, y_test), print_every=1,
    )  # fmt: skip
    seconds = time.perf_counter() - start

    last = history.last()
    print(
        f"result: epochs={args.epochs} loss={last['loss']:.4f} accuracy={last['accuracy']:.4f} "
        f"test_loss={last['val_loss']:.4f} test_accuracy={last['val_accuracy']:.4f} "
        f"seconds={seconds:.1f}"
    )
    print(
        f"book (10 epochs): validation accuracy {BOOK_VALIDATION['accuracy']:.3f}, loss "
        f"{BOOK_VALIDATION['loss']:.3f};  ours ({args.epochs} epochs): validation accuracy "
        f"{last['val_accuracy']:.3f}, loss {last['val_loss']:.3f}"
    )


if __name__ == "__main__":
    main()
