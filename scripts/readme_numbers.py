"""Regenerate the figures the README quotes: the examples table and `tinygrad-np train spiral`.

Each example and the command are run under several BLAS configurations: OpenBLAS compute
kernels (``OPENBLAS_CORETYPE``: the code paths a Haswell, a Skylake-X or a Sandy Bridge CPU
would take) and thread counts (``OPENBLAS_NUM_THREADS``). A float32 matrix product sums in a
different order on each kernel, the last bits of the results differ, and thousands of training
steps amplify that into different final numbers. Where the runs agree, a cell shows one
number; where they do not, it shows the lowest and highest value measured.

    python scripts/readme_numbers.py                 # print the table and the command's lines
    python scripts/readme_numbers.py --write README.md
    python scripts/readme_numbers.py --kernels Haswell --threads 1 --epochs 3 --only spiral_sgd
    python scripts/readme_numbers.py --save runs.json    # keep the raw measurements
    python scripts/readme_numbers.py --load runs.json --write README.md   # no re-run

``--write`` replaces what lies between the ``<!-- readme-numbers:NAME -->`` and
``<!-- /readme-numbers:NAME -->`` markers (NAME: ``examples`` and ``cli``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# script, what it shows, default epochs (the script's own), the metric after the loss
EXAMPLES = [
    ("spiral_sgd", "plain SGD, lr 1, decay 1e-3", 10001, "accuracy"),
    ("spiral_momentum", "SGD momentum 0.9, the book's rule", 10001, "accuracy"),
    ("spiral_adagrad", "Adagrad, decay 1e-4", 10001, "accuracy"),
    ("spiral_rmsprop", "RMSprop, lr 0.02, rho 0.999", 10001, "accuracy"),
    ("spiral_adam", "Adam, lr 0.05, decay 5e-7", 10001, "accuracy"),
    ("spiral_l2_dropout", "2-512-3, L2 5e-4, dropout 0.1, validation", 1001, "accuracy"),
    ("binary_logistic", "sigmoid output + binary cross-entropy", 10001, "accuracy"),
    ("sine_regression", "1-64-64-1, MSE, regression accuracy", 3001, "regression_accuracy"),
    ("digits_mlp", "scikit-learn's 8×8 digits, mini-batches (`digits` extra)", 30, "accuracy"),
]
NOT_MEASURED = [
    ("derivation_check", "hand-derived vs autograd training, side by side"),
    ("graph_walkthrough", "graph drawings, backward trace, decision regions (`viz` extra)"),
]
NUMBER = r"([0-9.]+(?:e-?[0-9]+)?)"


def run(command: list[str], kernel: str, threads: int) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    env.update(OPENBLAS_CORETYPE=kernel, OPENBLAS_NUM_THREADS=str(threads))
    env.pop("EPOCHS", None)
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr}")
    return done.stdout


def example_result(name: str, metric: str, out: str) -> dict[str, float]:
    line = next((x for x in out.splitlines() if x.startswith("result:")), None)
    if line is None:
        raise SystemExit(f"examples/{name}.py printed no result line:\n{out[-2000:]}")
    found = dict(re.findall(r"(\w+)=" + NUMBER, line))
    held_out = found.get("val_accuracy", found.get("test_accuracy"))
    result = {"loss": float(found["loss"]), "metric": float(found[metric])}
    if held_out is not None:
        result["held_out"] = float(held_out)
    return result


def cli_result(out: str) -> dict[str, float]:
    found = {}
    for split in ("train", "test"):
        m = re.search(rf"^{split}:\s+loss {NUMBER}, accuracy {NUMBER}", out, re.MULTILINE)
        if m is None:
            raise SystemExit(f"tinygrad-np train printed no {split} line:\n{out[-2000:]}")
        found[f"{split}_loss"], found[f"{split}_accuracy"] = float(m[1]), float(m[2])
    return found


def measure(args: argparse.Namespace) -> tuple[dict, list, list[str]]:
    """{example: [result per configuration]}, [cli result per configuration], configs."""
    configs = [(k, t) for k in args.kernels for t in args.threads]
    chosen = [e for e in EXAMPLES if not args.only or e[0] in args.only]
    results: dict[str, list] = {name: [] for name, *_ in chosen}
    cli: list[dict[str, float]] = []
    for kernel, threads in configs:
        start = time.perf_counter()
        for name, _, epochs, metric in chosen:
            steps = str(args.epochs or epochs)
            command = [sys.executable, f"examples/{name}.py", "--epochs", steps]
            results[name].append(example_result(name, metric, run(command, kernel, threads)))
        if not args.only:
            command = [sys.executable, "-m", "tinygrad_np", "train", "spiral", "--no-progress"]
            if args.epochs:
                command += ["--epochs", str(args.epochs)]
            cli.append(cli_result(run(command, kernel, threads)))
        took = time.perf_counter() - start
        print(f"measured {kernel}, {threads} thread(s) in {took:.0f} s", file=sys.stderr)
    return results, cli, [f"{k}/{t}" for k, t in configs]


def spread(values: list[float], digits: str) -> str:
    """One number when every configuration gave it, else ``low–high``."""
    texts = sorted({format(v, digits) for v in values}, key=float)
    return texts[0] if len(texts) == 1 else f"{texts[0]}–{texts[-1]}"


def loss_digits(values: list[float]) -> str:
    return ".0e" if min(values) < 1e-3 else ".3f"


def examples_table(results: dict[str, list], epochs: int | None) -> str:
    rows = [
        "| example | what it shows | epochs | final loss | accuracy | held-out |",
        "|---|---|---|---|---|---|",
    ]
    for name, text, default_epochs, _ in EXAMPLES:
        if name not in results:
            continue
        runs = results[name]
        losses = [r["loss"] for r in runs]
        loss = spread(losses, loss_digits(losses))
        metric = spread([r["metric"] for r in runs], ".3f")
        held = [r["held_out"] for r in runs if "held_out" in r]
        held_text = spread(held, ".3f") if held else "–"
        cells = [f"`{name}.py`", text, str(epochs or default_epochs), loss, metric, held_text]
        rows.append("| " + " | ".join(cells) + " |")
    rows += [f"| `{name}.py` | {text} | | | | |" for name, text in NOT_MEASURED]
    return "\n".join(rows)


def cli_block(cli: list[dict[str, float]]) -> str:
    def cell(key: str, digits: str) -> str:
        return spread([r[key] for r in cli], digits)

    return (
        "```\n"
        f"train: loss {cell('train_loss', '.4f')}, accuracy {cell('train_accuracy', '.3f')}\n"
        f"test:  loss {cell('test_loss', '.4f')}, accuracy {cell('test_accuracy', '.3f')} "
        "(300 held-out samples, seed 1)\n"
        "```"
    )


def write(path: Path, name: str, text: str) -> None:
    page = path.read_text(encoding="utf-8")
    pattern = re.compile(
        rf"(<!-- readme-numbers:{name} -->\n).*?(\n<!-- /readme-numbers:{name} -->)", re.S
    )
    if not pattern.search(page):
        raise SystemExit(f"{path} has no <!-- readme-numbers:{name} --> block")
    path.write_text(pattern.sub(lambda m: m[1] + text + m[2], page), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", type=lambda s: s.split(","),
                        default=["Haswell", "SkylakeX", "Sandybridge"],
                        help="OpenBLAS kernels (OPENBLAS_CORETYPE), comma-separated")  # fmt: skip
    parser.add_argument("--threads", type=lambda s: [int(t) for t in s.split(",")],
                        default=[1, 2], help="OpenBLAS thread counts, comma-separated")  # fmt: skip
    parser.add_argument("--epochs", type=int, help="override every run's epochs (a quick look)")
    parser.add_argument("--only", type=lambda s: s.split(","), help="examples to run")
    parser.add_argument("--write", type=Path, metavar="README", help="update the file's blocks")
    parser.add_argument("--save", type=Path, metavar="JSON", help="write the raw measurements")
    parser.add_argument("--load", type=Path, metavar="JSON", help="use saved measurements")
    args = parser.parse_args(argv)

    if args.load:
        saved = json.loads(args.load.read_text(encoding="utf-8"))
        results, cli, configs, args.epochs = (saved[k] for k in ("examples", "cli", "configs",
                                                                  "epochs"))  # fmt: skip
    else:
        results, cli, configs = measure(args)
    if args.save:
        raw = {"examples": results, "cli": cli, "configs": configs, "epochs": args.epochs}
        args.save.write_text(json.dumps(raw, indent=1), encoding="utf-8")
    table = examples_table(results, args.epochs)
    print(f"configurations (kernel/threads): {', '.join(configs)}\n")
    print(table)
    if cli:
        print("\n" + cli_block(cli))
    if args.write:
        write(args.write, "examples", table)
        if cli:
            write(args.write, "cli", cli_block(cli))
        print(f"\nupdated {args.write}", file=sys.stderr)


if __name__ == "__main__":
    main()
