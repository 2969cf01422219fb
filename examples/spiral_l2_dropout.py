"""Spiral data, a wide layer with L2 regularisation and dropout (NNFS book, chapters 14-15).

2-512-3 with L2 5e-4 on the hidden layer's weights and biases, dropout 0.1 after its ReLU,
Adam lr 0.05 decay 5e-5, and a validation set. ``fit`` adds ``tg.nn.regularization_loss`` to
the loss and reports data and regularisation loss apart, as the book prints them.

    python examples/spiral_l2_dropout.py [--epochs N] [--samples N]
"""

from __future__ import annotations

import argparse
import os

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.train import fit


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Spiral data, L2 and dropout (book ch. 14-15)")
    parser.add_argument("--epochs", type=int, default=int(os.environ.get("EPOCHS", 1001)))
    parser.add_argument(
        "--threads",
        type=int,
        help="BLAS threads (default: OPENBLAS_NUM_THREADS if set, else 1, the fastest for "
        "a small net)",
    )
    parser.add_argument("--samples", type=int, default=1000, help="training points per class")
    args = parser.parse_args(argv)
    # a script owns its process: one BLAS thread and no page faults (benchmarks/README.md)
    tg.set_num_threads(tg.runtime.threads_for_small_models(args.threads))
    tg.tune_malloc()

    tg.manual_seed(0)
    data = tg.data.spiral_data(samples=args.samples, classes=3, seed=0)
    validation = tg.data.spiral_data(samples=100, classes=3, seed=1)
    model = nn.Sequential(
        nn.Linear(2, 512, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4),
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.Linear(512, 3),
    )
    optimizer = tg.optim.Adam(model.parameters(), lr=0.05, decay=5e-5, eps=1e-7)
    history = fit(
        model, nn.CrossEntropyLoss(), optimizer, data, args.epochs,
        val_data=validation, print_every=250,
    )  # fmt: skip

    last = history.last()
    print(
        f"result: epochs={args.epochs} loss={last['loss']:.4f} accuracy={last['accuracy']:.4f} "
        f"(data_loss={last['data_loss']:.4f} reg_loss={last['reg_loss']:.4f}) "
        f"val_loss={last['val_loss']:.4f} val_accuracy={last['val_accuracy']:.4f}"
    )


if __name__ == "__main__":
    main()
