"""Handwritten digits (scikit-learn's 8x8 set): a small convolutional network.

Two blocks of Conv2d(3x3, padding 1) -> BatchNorm2d -> ReLU -> MaxPool2d(2) take each 1x8x8
image to 32x2x2, and a Linear layer reads the 10 classes from that. Adam, shuffled batches of
32, a stratified 20% test split (evaluated in eval mode: BatchNorm uses its running
statistics). Needs scikit-learn (``pip install tinygrad-np[digits]``), which ships the data;
without it the script says so and exits.

    python examples/digits_cnn.py [--epochs N]
"""

from __future__ import annotations

import argparse
import os
import time

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.train import fit


def build_model() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 10),
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Digits CNN (scikit-learn's 8x8 digits)")
    parser.add_argument("--epochs", type=int, default=int(os.environ.get("EPOCHS", 10)))
    args = parser.parse_args(argv)

    try:
        X_train, X_test, y_train, y_test = tg.data.load_digits(test_size=0.2, seed=0)
    except ImportError as error:
        print(f"skipped: {error}")
        return
    X_train = X_train.reshape(-1, 1, 8, 8)  # NCHW: one channel of 8x8 pixels
    X_test = X_test.reshape(-1, 1, 8, 8)

    tg.manual_seed(0)
    model = build_model()
    optimizer = tg.optim.Adam(model.parameters(), lr=0.01, decay=1e-3)
    start = time.perf_counter()
    history = fit(
        model, nn.CrossEntropyLoss(), optimizer, (X_train, y_train), args.epochs,
        batch_size=32, seed=0, val_data=(X_test, y_test), print_every=5,
    )  # fmt: skip
    seconds = time.perf_counter() - start

    last = history.last()
    print(
        f"result: epochs={args.epochs} loss={last['loss']:.4f} accuracy={last['accuracy']:.4f} "
        f"test_loss={last['val_loss']:.4f} test_accuracy={last['val_accuracy']:.4f} "
        f"seconds={seconds:.1f}"
    )


if __name__ == "__main__":
    main()
