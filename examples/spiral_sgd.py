"""Spiral data, plain SGD with learning-rate decay (the NNFS book, chapter 10).

The training loop is written out, as the book writes it: forward, loss, backward, step.
(The other examples hand the same loop to ``tg.train.fit``.)

    python examples/spiral_sgd.py [--epochs N]
"""

from __future__ import annotations

import argparse
import os

import tinygrad_np as tg
from tinygrad_np import nn


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Spiral data, SGD with decay (book ch. 10)")
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
    X, y = tg.data.spiral_data(samples=100, classes=3, seed=0)
    X = tg.Tensor(X)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 3))
    loss_fn = nn.CrossEntropyLoss()  # softmax and categorical cross-entropy in one stable op
    optimizer = tg.optim.SGD(model.parameters(), lr=1.0, decay=1e-3)

    for epoch in range(args.epochs):
        output = model(X)
        loss = loss_fn(output, y)
        accuracy = tg.metrics.accuracy(output, y)
        if epoch % 1000 == 0:
            print(f"epoch: {epoch}, acc: {accuracy:.3f}, loss: {loss.item():.3f}, "
                  f"lr: {optimizer.current_lr:.5f}")  # fmt: skip
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    print(f"result: epochs={args.epochs} loss={loss.item():.4f} accuracy={accuracy:.4f}")


if __name__ == "__main__":
    main()
