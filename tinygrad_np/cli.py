"""The ``tinygrad-np`` command: train the NNFS book's spiral classifier from the shell.

    tinygrad-np train spiral                      # 2-64-3, ReLU, softmax cross-entropy, Adam
    tinygrad-np train spiral --optimizer sgd      # the book's chapter 10 settings for SGD
    tinygrad-np train spiral --l2 5e-4 --dropout 0.1 --hidden 512 --plot run.png
    tinygrad-np train --save run.ckpt --resume    # continue run.ckpt, with its own flags

Each optimizer's defaults are the ones the book uses for it; the held-out test set is a second
draw of the same data set with another seed, as the book validates its spiral model.

Exit status: 0 when done; 2 for a bad flag, value or checkpoint (one line on stderr, before
any training); 130 after Ctrl-C (with ``--save``, the epoch in progress is finished and
saved first); 141 when the output pipe closes (``| head``), without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
import time
from collections.abc import Sequence
from typing import Any, NoReturn

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.checkpoint import check_writable_path, read_checkpoint
from tinygrad_np.cli_resume import (
    Interrupt,
    continue_run,
    report_interrupt,
    resolve_settings,
    resume_hint,
    run_metadata,
)
from tinygrad_np.train import evaluate, fit

# The book's settings for each optimizer, in its names (learning_rate, epsilon, rho, ...).
OPTIMIZER_DEFAULTS = tg.optim.SPIRAL_SETTINGS
DEFAULT_EPOCHS = 10001  # the book's loops run range(10001)

DATASETS = {"spiral": tg.data.spiral_data, "vertical": tg.data.vertical_data}
EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 2, 130, 141  # 128 + SIGINT, 128 + SIGPIPE


# ---------------------------------------------------------------- argument types


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (``--help`` shows the usage) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {' '.join(message.split())}\n")


def _number(kind: type, low: float, rule: str, high: float | None = None):
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {rule}, got {text!r}") from None
        if not (math.isfinite(value) and low <= value and (high is None or value < high)):
            written = text.strip().lower().lstrip("+-") in ("nan", "inf", "infinity")
            overflow = not math.isfinite(value) and not written  # 1e999 parses as inf
            shown = f"{text} (which is {value})" if overflow else text
            raise argparse.ArgumentTypeError(f"expected {rule}, got {shown}")
        return value

    parse.__name__ = rule  # argparse names the type in its messages
    return parse


positive_int = _number(int, 1, "a positive integer")
non_negative_float = _number(float, 0.0, "a finite number >= 0")
probability = _number(float, 0.0, "a fraction in [0, 1)", high=1.0)
class_count = _number(int, 2, "an integer >= 2")
# NumPy seeds the data with integers below 2**32, and the held-out set takes seed + 1.
seed_number = _number(int, 0, f"an integer in [0, {2**32 - 2}] (the test set uses seed + 1)",
                      high=2**32 - 1)  # fmt: skip


# The type of every run setting that takes a value, for flags and for checkpoints alike.
SETTING_TYPES = {
    **dict.fromkeys(("lr", "decay", "momentum", "l2", "l1"), non_negative_float),
    **dict.fromkeys(("hidden", "samples", "batch_size"), positive_int),
    "classes": class_count,
    "dropout": probability,
    "seed": seed_number,
}


def _defaults_text() -> str:
    rows = []
    for name, values in OPTIMIZER_DEFAULTS.items():
        named = {("lr" if k == "learning_rate" else k): v for k, v in values.items()}  # --lr
        rows.append(f"  {name:9s}" + ", ".join(f"{k} {v:g}" for k, v in named.items()))
    return "optimizer defaults (the NNFS book's):\n" + "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    """The command line: ``tinygrad-np [--version] train [DATASET] [options]``."""
    parser = _Parser(
        prog="tinygrad-np",
        description="tinygrad_np: reverse-mode autodiff on NumPy, and the NNFS book's models.",
    )
    parser.add_argument("--version", action="version", version=f"tinygrad-np {tg.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    train = commands.add_parser(
        "train",
        help="train the book's 2-64-3 classifier on spiral (or vertical) data",
        description=(
            "Train a dense ReLU network with softmax cross-entropy on the NNFS book's toy "
            "data, then report loss and accuracy on the training set and on a held-out set "
            "drawn with another seed."
        ),
        epilog=_defaults_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.set_defaults(command_parser=train)  # so later checks report with this usage line
    add = train.add_argument
    add("dataset", nargs="?", choices=sorted(DATASETS), help="data set (default: spiral)")
    add("--dataset", dest="dataset_option", choices=sorted(DATASETS), metavar="{spiral,vertical}",
        help="the data set, as an option (same as the positional argument)")  # fmt: skip
    add("--optimizer", choices=list(OPTIMIZER_DEFAULTS),
        help="optimizer (default: adam); each has the book's defaults, listed below")  # fmt: skip
    add("--lr", type=non_negative_float, help="learning rate (default: per optimizer)")
    add("--decay", type=non_negative_float,
        help="inverse-time decay: lr / (1 + decay * step) (default: per optimizer)")  # fmt: skip
    add("--momentum", type=non_negative_float,
        help="SGD momentum, book style (default: 0 for sgd, 0.9 for momentum)")  # fmt: skip
    add("--epochs", type=positive_int, default=DEFAULT_EPOCHS,
        help=f"training epochs, each one full batch unless --batch-size "
             f"(default: {DEFAULT_EPOCHS})")  # fmt: skip
    add("--batch-size", type=positive_int, help="mini-batch size (default: the full data set)")
    add("--hidden", type=positive_int, help="hidden layer width (default: 64)")
    add("--samples", type=positive_int,
        help="points per class, in the training and in the test set (default: 100)")  # fmt: skip
    add("--classes", type=class_count,
        help="number of classes (default: 3)")  # fmt: skip
    add("--l2", type=non_negative_float,
        help="L2 penalty on the hidden layer's weights and biases; the book uses 5e-4 "
             "(default: 0)")  # fmt: skip
    add("--l1", type=non_negative_float,
        help="L1 penalty on the hidden layer's weights and biases (default: 0)")  # fmt: skip
    add("--dropout", type=probability,
        help="dropout fraction after the hidden layer; the book uses 0.1 "
             "(default: 0, off)")  # fmt: skip
    add("--seed", type=seed_number,
        help="seed for the weights, dropout and training data; the test set uses seed+1 "
             "(default: 0)")  # fmt: skip
    add("--save", metavar="PATH",
        help="write a training checkpoint (model, optimizer, RNG, these flags) to PATH when "
             "done, and on the first Ctrl-C once the epoch in progress is done")  # fmt: skip
    add("--save-every", type=positive_int, metavar="N",
        help="also write the --save checkpoint every N epochs")  # fmt: skip
    add("--resume", action="store_true",
        help="continue from the --save checkpoint if it exists, up to --epochs in total; "
             "flags left out come from the checkpoint, and one that contradicts it is "
             "refused")  # fmt: skip
    add("--plot", metavar="PATH",
        help="save training curves to PATH and the test set's decision regions to "
             "PATH with '_boundary' before the extension (needs matplotlib)")  # fmt: skip
    add("--animate", metavar="PATH",
        help="save an animated GIF of the training data's decision regions and the loss "
             "as training goes (needs matplotlib and Pillow)")  # fmt: skip
    add("--no-progress", action="store_true", help="no progress bar or progress lines")
    add("--no-jit", action="store_true",
        help="run steps eagerly, not as tg.jit replays (the same numbers)")  # fmt: skip
    add("--threads", type=positive_int, metavar="N",
        help="NumPy's BLAS threads (default: OPENBLAS_NUM_THREADS if set, else 1, the "
             "fastest for small networks)")  # fmt: skip
    add("--no-malloc-tuning", action="store_true",
        help="keep glibc's malloc thresholds (see tg.tune_malloc)")  # fmt: skip
    add("--print-every", type=positive_int,
        help="without a progress bar, print a line every N epochs "
             "(default: epochs / 10)")  # fmt: skip
    return parser


# ---------------------------------------------------------------- building the run


def build_model(args: argparse.Namespace) -> nn.Sequential:
    """2-hidden-classes: Linear, ReLU, optional Dropout, Linear (logits), as in the book."""
    hidden = nn.Linear(
        2,
        args.hidden,
        weight_regularizer_l1=args.l1,
        weight_regularizer_l2=args.l2,
        bias_regularizer_l1=args.l1,
        bias_regularizer_l2=args.l2,
    )
    layers: list[nn.Module] = [hidden, nn.ReLU()]
    if args.dropout > 0:
        layers.append(nn.Dropout(args.dropout))
    layers.append(nn.Linear(args.hidden, args.classes))
    return nn.Sequential(*layers)


def build_optimizer(args: argparse.Namespace, params: Any) -> Any:
    """The chosen optimizer with the book's defaults, overridden by --lr/--decay/--momentum."""
    flags = {"learning_rate": args.lr, "decay": args.decay, "momentum": args.momentum}
    overrides = {name: value for name, value in flags.items() if value is not None}
    return tg.optim.from_book(args.optimizer, params, **overrides)


def _boundary_path(path: str) -> str:
    stem, ext = os.path.splitext(path)
    return f"{stem}_boundary{ext}"


def _check_plot(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    try:
        importlib.import_module("matplotlib")
        importlib.import_module("tinygrad_np.viz")
    except ImportError as error:
        parser.error(
            f"--plot needs tinygrad_np.viz and matplotlib ({error}); install them with "
            f"pip install tinygrad-np[viz], or leave out --plot"
        )
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    ext = os.path.splitext(args.plot)[1]
    if not ext:
        args.plot += ".png"  # what matplotlib would write; the messages then name the file
    elif ext[1:].lower() not in formats:
        parser.error(
            f"--plot: matplotlib cannot write {ext!r} files; end the name with one of "
            f"{', '.join('.' + f for f in sorted(formats))}"
        )
    for path in (args.plot, _boundary_path(args.plot)):
        _check_path(parser, "--plot", path)


def _check_animate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not args.animate.lower().endswith(".gif"):
        parser.error(f"--animate writes a GIF: give a path ending in .gif, not {args.animate}")
    try:
        for module in ("matplotlib", "PIL", "tinygrad_np.viz"):
            importlib.import_module(module)
    except ImportError as error:
        parser.error(
            f"--animate needs tinygrad_np.viz, matplotlib and Pillow ({error}); install "
            f"them with pip install tinygrad-np[viz], or leave out --animate"
        )
    _check_path(parser, "--animate", args.animate)


def _check_path(parser: argparse.ArgumentParser, flag: str, path: str) -> None:
    try:
        check_writable_path(flag, path)
    except OSError as error:
        parser.error(str(error))


def _valid_setting(key: str, value: Any) -> bool:
    """Whether ``value``, read from a checkpoint, is one the flag ``key`` could have given."""
    if key in ("dataset", "optimizer"):
        return value in (DATASETS if key == "dataset" else OPTIMIZER_DEFAULTS)
    if value is None:
        return key in ("momentum", "batch_size")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return SETTING_TYPES[key](repr(value)) == value
    except argparse.ArgumentTypeError:
        return False


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse, before training, what would fail later: bad paths, flags that do not fit,
    checkpoints that cannot be continued; then fill in the run's settings."""
    if args.dataset and args.dataset_option and args.dataset != args.dataset_option:
        parser.error(
            f"the data set is given twice: {args.dataset} and --dataset {args.dataset_option}"
        )
    args.dataset = args.dataset or args.dataset_option
    if args.resume and not args.save:
        parser.error("--resume needs --save PATH (the checkpoint to continue from)")
    if args.save_every is not None and not args.save:
        parser.error("--save-every needs --save PATH (the checkpoint to write)")
    if args.save is not None:
        _check_path(parser, "--save", args.save)
    if args.plot is not None:
        _check_plot(parser, args)
    if args.animate is not None:
        _check_animate(parser, args)
    args.checkpoint = None
    try:
        if args.resume and os.path.exists(args.save):
            args.checkpoint = read_checkpoint(args.save)
        resolve_settings(args, args.checkpoint, args.save, _valid_setting)
    except (OSError, ValueError) as error:
        message = str(error)
        parser.error(message if message.startswith("--resume") else f"--resume: {message}")
    if args.momentum is not None and args.optimizer not in ("sgd", "momentum"):
        parser.error(f"--momentum applies to --optimizer sgd or momentum, not {args.optimizer}")


def _describe(args: argparse.Namespace, optimizer: Any, n_train: int) -> str:
    group = optimizer.param_groups[0]
    settings = f"lr={group['lr']:g}, decay={group['decay']:g}"
    if group.get("momentum"):
        settings += f", momentum={group['momentum']:g}"
    extras = [f"{k} {getattr(args, k):g}" for k in ("l2", "l1", "dropout") if getattr(args, k)]
    return (
        f"training a 2-{args.hidden}-{args.classes} network on {args.dataset} data "
        f"({n_train} samples) with {type(optimizer).__name__}({settings}) for {args.epochs} "
        f"epochs" + (f" ({', '.join(extras)})" if extras else "")
    )


def train_command(args: argparse.Namespace) -> int:
    """Run ``tinygrad-np train``: build, fit, evaluate on train and test, save, plot."""
    # this process is ours: set it up for small models (benchmarks/README.md)
    tg.set_num_threads(tg.runtime.threads_for_small_models(args.threads))
    if not args.no_malloc_tuning:
        tg.tune_malloc()
    make = DATASETS[args.dataset]
    X, y = make(args.samples, args.classes, seed=args.seed)
    X_test, y_test = make(args.samples, args.classes, seed=args.seed + 1)
    tg.manual_seed(args.seed)
    model = build_model(args)
    optimizer = build_optimizer(args, model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    continue_run(args, model, optimizer)
    print(_describe(args, optimizer, len(X)), flush=True)

    animation = None
    if args.animate:
        viz = importlib.import_module("tinygrad_np.viz")
        animation = viz.TrainingAnimation(model, X, y, epochs=args.epochs)
    start = time.perf_counter()
    interrupt = Interrupt(save_on_ctrl_c=args.save is not None)
    callbacks = [interrupt.callback] + ([] if animation is None else [animation])
    try:
        with interrupt:
            history = fit(
                model,
                loss_fn,
                optimizer,
                (X, y),
                args.epochs,
                batch_size=args.batch_size,
                val_data=(X_test, y_test),
                progress=False if args.no_progress else "auto",
                print_every=args.print_every,
                callbacks=callbacks,
                checkpoint=args.save,
                checkpoint_every=args.save_every,
                resume=args.checkpoint is not None,
                checkpoint_metadata=run_metadata(args, optimizer),
                jit=not args.no_jit,
            )
    except KeyboardInterrupt:
        report_interrupt(args, interrupt.epoch)
        return EXIT_INTERRUPTED
    if interrupt.requested:
        saved = history.epoch[-1] if len(history) else 0
        print(f"interrupted: saved epoch {saved} to {args.save}", file=sys.stderr)
        print(resume_hint(args), file=sys.stderr)
        return EXIT_INTERRUPTED
    seconds = time.perf_counter() - start

    train = evaluate(model, loss_fn, (X, y))
    test = evaluate(model, loss_fn, (X_test, y_test))
    print(
        f"trained to epoch {history.epoch[-1] if len(history) else args.epochs} in {seconds:.1f} s"
    )
    print(f"train: loss {train['loss']:.4f}, accuracy {train['accuracy']:.3f}")
    print(f"test:  loss {test['loss']:.4f}, accuracy {test['accuracy']:.3f} "
          f"({len(X_test)} held-out samples, seed {args.seed + 1})")  # fmt: skip
    if args.save:
        print(f"checkpoint saved to {args.save}")
    if animation is not None:
        animation.save(args.animate)
        print(f"animation ({len(animation)} frames) saved to {args.animate}")
    if args.plot:
        viz = importlib.import_module("tinygrad_np.viz")
        curves = history.as_dict()
        if not any(curves["reg_loss"]):  # no penalty: its two panels would say nothing
            del curves["data_loss"], curves["reg_loss"]
        viz.plot_history(curves, args.plot)
        boundary = _boundary_path(args.plot)
        viz.plot_decision_boundary(model, X_test, y_test, boundary)
        print(f"plots saved to {args.plot} and {boundary}")
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse and check a command line (usage errors exit with status 2, in one line).

    With ``--resume`` the settings left out come from the checkpoint; the rest get defaults.

    >>> args = parse_args(["train", "--optimizer", "sgd"])
    >>> args.dataset, args.optimizer, args.epochs, args.hidden
    ('spiral', 'sgd', 10001, 64)
    """
    args = build_parser().parse_args(argv)
    if args.command == "train":
        _check_args(args.command_parser, args)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tinygrad-np`` console script; returns the exit status.

    >>> main(["train", "spiral", "--epochs", "3", "--no-progress"])  # doctest: +ELLIPSIS
    training a 2-64-3 network on spiral data (300 samples) with Adam(lr=0.02, decay=5e-07)...
    0
    """
    try:
        args = parse_args(argv)
        return train_command(args)  # "train" is the only command; argparse refused the rest
    except KeyboardInterrupt:  # outside training (which reports its own)
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader left (`| head`): end quietly, and let no later flush complain either.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
