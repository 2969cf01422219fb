"""Spiral data, SGD with momentum 0.9 and decay, the book's way (NNFS book, chapter 10).

``momentum_style="nnfs"`` keeps the book's update, ``v = momentum * v - lr * grad``, whose
velocity remembers the earlier (larger) learning rates while the rate decays.

    python examples/spiral_momentum.py [--epochs N]
"""

from __future__ import annotations

import argparse
import os

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.train import fit


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Spiral data, SGD with momentum (book ch. 10)")
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
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 3))
    optimizer = tg.optim.SGD(
        model.parameters(), lr=1.0, decay=1e-3, momentum=0.9, momentum_style="nnfs"
    )
    history = fit(model, nn.CrossEntropyLoss(), optimizer, data, args.epochs, print_every=1000)

    last = history.last()
    print(f"result: epochs={args.epochs} loss={last['loss']:.4f} accuracy={last['accuracy']:.4f}")


if __name__ == "__main__":
    main()
