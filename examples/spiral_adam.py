"""Spiral data, Adam (the NNFS book, chapters 10-11: lr 0.05, decay 5e-7), then a test set.

The test set is a second spiral drawn with another seed, as the book validates in chapter 11;
the gap between training and test accuracy is the overfitting the book goes on to fight.

    python examples/spiral_adam.py [--epochs N]
"""

from __future__ import annotations

import argparse
import os

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.train import evaluate, fit


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Spiral data, Adam (book ch. 10-11)")
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
    data = tg.data.spiral_data(samples=100, classes=3, seed=0)
    test = tg.data.spiral_data(samples=100, classes=3, seed=1)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 3))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = tg.optim.Adam(model.parameters(), lr=0.05, decay=5e-7, eps=1e-7)
    history = fit(model, loss_fn, optimizer, data, args.epochs, print_every=1000)

    last = history.last()
    held_out = evaluate(model, loss_fn, test)
    print(f"validation, acc: {held_out['accuracy']:.3f}, loss: {held_out['loss']:.3f}")
    print(
        f"result: epochs={args.epochs} loss={last['loss']:.4f} accuracy={last['accuracy']:.4f} "
        f"val_loss={held_out['loss']:.4f} val_accuracy={held_out['accuracy']:.4f}"
    )


if __name__ == "__main__":
    main()
