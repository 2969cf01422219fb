"""One forward and backward pass through a tiny network, drawn and traced; then training.

The network is written with raw tensors so every op is in plain sight:

    hidden = relu(X @ W1 + b1)          W1: (2, 4)   b1: (4,)
    logits = hidden @ W2 + b2           W2: (4, 3)   b2: (3,)
    loss   = cross_entropy(logits, y)

What it writes into the output folder (default ./graph_walkthrough_out):

    graph_before.dot   the graph after the forward pass: values, no gradients yet
    graph_after.dot    the same graph after backward: every node's gradient too
    trace.txt          the backward pass, one chain-rule step per line
    decision_boundary.png   the classes the network predicts after a few hundred steps

and, when Graphviz's ``dot`` program is installed, an .svg and a .png of each graph, plus
backward_steps/ (one SVG per op backward visits) and backward_steps.gif (with Pillow).

Run:  python examples/graph_walkthrough.py [--out DIR] [--steps 300] [--hidden 4]
      [--lr 1.0] [--momentum 0]        (--epochs N is another name for --steps N)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

import tinygrad_np as tg
from tinygrad_np import viz

# Settings that fit the spiral smoothly: the loss falls at every report, to about 0.18.
# (Plain gradient descent with lr 1 on 64 units oscillates; momentum smooths the steps.)
SPIRAL_SETTINGS = {"hidden": 64, "steps": 3000, "lr": 0.1, "momentum": 0.9}


def make_params(hidden: int, seed: int) -> dict[str, tg.Tensor]:
    rng = np.random.default_rng(seed)
    shapes = {"W1": (2, hidden), "b1": (hidden,), "W2": (hidden, 3), "b2": (3,)}
    params = {}
    for name, shape in shapes.items():
        if name.startswith("W"):  # scaled so each unit starts with unit-variance inputs
            value = rng.standard_normal(shape) / np.sqrt(shape[0])
        else:
            value = np.zeros(shape)
        p = tg.Tensor(value.astype(np.float32), requires_grad=True)
        p.name = name  # how drawings and traces will call it
        params[name] = p
    return params


def forward(params: dict[str, tg.Tensor], X: tg.Tensor) -> tg.Tensor:
    hidden = (X @ params["W1"] + params["b1"]).relu()
    return hidden @ params["W2"] + params["b2"]


def write_graph(dot_text: str, path: Path) -> None:
    """Write DOT text, and pictures of it when Graphviz's `dot` program is installed."""
    path.write_text(dot_text, encoding="utf-8")
    written = [path.name]
    if shutil.which("dot"):
        for fmt in ("svg", "png"):
            target = path.with_suffix(f".{fmt}")
            subprocess.run(["dot", f"-T{fmt}", str(path), "-o", str(target)], check=True)
            written.append(target.name)
    print("  wrote " + ", ".join(written))


def main(
    out: Path,
    steps: int = 300,
    hidden: int = 4,
    lr: float = 1.0,
    seed: int = 0,
    momentum: float = 0.0,
) -> list[float]:
    """Run the walkthrough; returns the loss printed at each report."""
    out.mkdir(parents=True, exist_ok=True)
    X_np, y_np = tg.data.spiral_data(samples=20, classes=3, seed=seed)  # the book's spiral
    X, y = tg.Tensor(X_np), tg.Tensor(y_np)
    X.name, y.name = "X", "y"  # data and labels: drawn as constants, they need no gradient
    params = make_params(hidden, seed)

    print("1. forward pass: the graph records every op")
    loss = tg.cross_entropy(forward(params, X), y)
    loss.name = "loss"
    write_graph(viz.to_dot(loss), out / "graph_before.dot")

    print("2. backward pass, traced step by step (this also fills every parameter's .grad)")
    trace = viz.trace(loss, file=out / "trace.txt")
    print(trace)
    write_graph(viz.to_dot(loss, grads=trace), out / "graph_after.dot")
    write_steps(params, X, y, out)

    rule = "plain gradient descent" if not momentum else f"gradient descent, momentum {momentum}"
    print(f"3. {steps} steps of {rule}, lr={lr}")
    velocity = {name: np.zeros_like(p.data) for name, p in params.items()}
    reported = []
    for step in range(steps):
        loss = tg.cross_entropy(forward(params, X), y)
        for p in params.values():
            p.zero_grad()
        loss.backward()
        with tg.no_grad():
            for name, p in params.items():  # v = momentum * v - lr * grad;  p = p + v
                velocity[name] = momentum * velocity[name] - lr * p.grad.data
                p.data += velocity[name]
        if step % 100 == 0 or step == steps - 1:
            print(f"  step {step:4d}  loss {loss.item():.4f}")
            reported.append(loss.item())

    try:
        fig = viz.plot_decision_boundary(
            lambda t: forward(params, t), X, y, path=out / "decision_boundary.png"
        )
    except ImportError as e:  # matplotlib is an optional extra
        print(f"  (no decision-boundary plot: {e})")
    else:
        print(f"  wrote decision_boundary.png: {fig.axes[0].get_title()}")
        if hidden < 16:  # an honest note: the spiral needs more than a few straight cuts
            flags = " ".join(f"--{k} {v}" for k, v in SPIRAL_SETTINGS.items())
            print(
                f"  {hidden} ReLU units split the plane with {hidden} straight lines; for a "
                f"spiral try {flags}"
            )
    return reported


def write_steps(params: dict[str, tg.Tensor], X: tg.Tensor, y: tg.Tensor, out: Path) -> None:
    """The same backward pass as pictures, one per op (needs graphviz; the GIF, Pillow)."""
    if not shutil.which("dot"):
        return
    steps = viz.backward_steps(tg.cross_entropy(forward(params, X), y))
    for p in params.values():
        p.zero_grad()  # the step-through ran a backward of its own
    svgs = steps.save_svgs(out / "backward_steps")
    written = [f"backward_steps/ ({len(svgs)} SVGs)"]
    try:
        steps.save_gif(out / "backward_steps.gif")
        written.append("backward_steps.gif")
    except ImportError:  # Pillow is part of the viz extra
        pass
    print("  wrote " + ", ".join(written))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("graph_walkthrough_out"))
    parser.add_argument(
        "--steps",
        "--epochs",
        type=int,
        default=int(os.environ.get("EPOCHS", 300)),
        help="full-batch gradient-descent steps (--epochs says the same)",
    )
    parser.add_argument("--hidden", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--momentum", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.out, args.steps, args.hidden, args.lr, args.seed, args.momentum)
