"""Binary logistic regression on two spirals (the NNFS book, chapter 16).

One sigmoid output per sample and binary cross-entropy; 2-64-1 with L2 5e-4 on the hidden
layer, Adam with decay 5e-7, and a validation set. Accuracy thresholds the sigmoid at 0.5.

    python examples/binary_logistic.py [--epochs N]
"""

from __future__ import annotations

import argparse
import os

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.train import fit


def two_spirals(seed: int):
    X, y = tg.data.spiral_data(samples=100, classes=2, seed=seed)
    return X, y.reshape(-1, 1).astype("float32")  # a column of 0/1 targets, as the book does


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Binary logistic regression (book ch. 16)")
    parser.add_argument("--epochs", type=int, default=int(os.environ.get("EPOCHS", 10001)))
    parser.add_argument(
        "--threads",
        type=int,
        help="BLAS threads (default: OPENBLAS_NUM_THREADS if set, else 1, the fastest for "
        "a small net)",
    )
    args = parser.parse_args(argv)
    # a script owns its process: one BLAS thread and no page faults (benchmarks/README.md)
    tg.set_num_threads(tg.runtime.threads_for_small_models(args.threads))
    tg.tune_malloc()

    tg.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(2, 64, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4),
        nn.ReLU(),
        nn.Linear(64, 1),
        nn.Sigmoid(),
    )
    optimizer = tg.optim.Adam(model.parameters(), decay=5e-7, eps=1e-7)
    history = fit(
        model, nn.BCELoss(), optimizer, two_spirals(0), args.epochs,
        val_data=two_spirals(1), print_every=1000,
    )  # fmt: skip

    last = history.last()
    print(
        f"result: epochs={args.epochs} loss={last['loss']:.4f} accuracy={last['accuracy']:.4f} "
        f"val_loss={last['val_loss']:.4f} val_accuracy={last['val_accuracy']:.4f}"
    )


if __name__ == "__main__":
    main()
