"""Write docs/jit.md: the compiled spiral step's source beside the book's hand-written code.

    python docs/make_jit_page.py           # regenerate the page
    python docs/make_jit_page.py --check   # exit 1 if the page is out of date (the tests do)

Every listing on the page comes from running code: the generated source is ``step.source()``
of the step below, the book's code is ``inspect.getsource`` of ``tinygrad_np.reference``,
and the error messages are the ones the library raises.
"""

from __future__ import annotations

import inspect
import re
import sys
import textwrap
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import tinygrad_np as tg  # noqa: E402
from tinygrad_np import reference as ref  # noqa: E402

PAGE = ROOT / "docs" / "jit.md"

STEP = """\
import numpy as np
import tinygrad_np as tg
from tinygrad_np import nn


class SpiralNet(nn.Module):  # the book's dense1 -> ReLU -> dense2
    def __init__(self):
        super().__init__()
        self.dense1 = nn.Linear(2, 64)
        self.dense2 = nn.Linear(64, 3)

    def forward(self, x):
        return self.dense2(self.dense1(x).relu())


tg.manual_seed(0)
X, y = tg.data.spiral_data(100, 3, seed=0)
model = SpiralNet()
loss_fn = nn.CrossEntropyLoss()  # softmax + cross-entropy, fused, as the book's last layer
optimizer = tg.optim.from_book("adam", model.parameters())  # lr 0.02, decay 5e-7, eps 1e-7


@tg.jit
def train_step(X, y):
    optimizer.zero_grad()
    loss = loss_fn(model(tg.Tensor(X)), y)
    loss.backward()
    optimizer.step()
    return loss


for epoch in range(101):
    loss = train_step(X, y)  # 1: eager (Adam makes its state), 2: recorded, 3 on: replayed

print(f"loss {loss.item():.4f}; replaying: {train_step.compiled}")
"""

REFUSED = """\
@tg.jit(strict=True)
def with_item(X, y):
    loss = loss_fn(model(tg.Tensor(X)), y)
    print(loss.item())  # a Python number: a replay could not print the new one
    return loss


try:
    with_item(X, y)
except tg.JitError as error:
    message = str(error)
assert ".item() inside a compiled step" in message
"""


TEMPLATE = """\
# Compiled steps: `tg.jit`

The eager engine records a graph of Tensor operations at every step and walks it back in
`backward()`. That is the part worth reading, and it costs Python per operation: on a small
network the bookkeeping is as long as the arithmetic. `tg.jit` records a step once and turns
the recording into straight-line NumPy code, compiled once and run at every later call: no
Tensors, no graph, no heap, no dispatch, and the same numbers bit for bit.

It is also the backward pass written out. The function a replay runs is a Python function you
can print (`step.source()`), one line per array operation, with the names of your modules:
the book's hand-derived backward pass, derived by autograd.

## Compiling a training step

```python
{{STEP}}
```

A call with a new *signature* (the shapes, dtypes and memory layouts of the array and Tensor
arguments, Python numbers by value, grad mode) runs the step eagerly while recording every
array operation: forward, backward, gradient accumulation and the optimizer's update. A
recording in which the optimizer created its state (its first step, which differs from the
others) is thrown away and the next call records. Later calls with that signature replay.
Each signature has its own replay (eight are kept). What a replay returns are fresh Tensors
with the replayed values, without a graph; the parameters, their `.grad`, the optimizer's
state and step count, and the library generator end up exactly as after the eager step, so
`model.state_dict()`, checkpoints and eager code before and after keep working.

## The code that runs

`train_step.source()` is the text of the function every later call runs ({{LINES}} lines).
Below, each part of it comes after the book's hand-written code for that part, as
`tinygrad_np.reference` writes it.

### Inputs and guards

```py
{{PROLOGUE}}
```

A replay reads its inputs afresh at every call (a parameter's array, the optimizer's
hyper-parameters and step count: a scheduler that changes `lr` between calls is followed) and
checks that the state still looks as it did when it was recorded: the same arrays, modules in
the same mode and unchanged (every module counts its attribute assignments in `_revision`),
the same parameter groups, the names it reads bound to the same objects. Any difference
returns `RETRY`, and that call is recorded anew. The label check of the loss, a truth test on
a value, was recorded as a guard and moved first: a replay whose labels would fail it records
instead, and the eager code then raises its error.

### Forward

The book:

```py
{{BOOK_FORWARD}}
```

The replay:

```py
{{GENERATED_FORWARD}}
```

`np.dot(inputs, weights) + biases` is `np.matmul` and an in-place `+=` here (the fused
`linear` op adds the bias into the fresh product). Results are written with `out=` into
buffers kept from call to call; arrays whose lives do not overlap share one. The book's
softmax and the loss are one fused, stable op: its probabilities are saved for backward.

### Backward

The book:

```py
{{BOOK_BACKWARD}}
```

The replay:

```py
{{GENERATED_BACKWARD}}
```

`grad_dense2_weight` is the book's `dense2.dweights`, `grad_relu_1` its `dense2.dinputs`.
What the eager engine does besides the arithmetic (the heap, summing broadcast gradients,
copying a gradient that is a view) is gone; the arithmetic is the same calls in the same
order. No gradient is computed for `X`, which needs none (the book computes
`dense1.dinputs`).

### Update

The book:

```py
{{BOOK_UPDATE}}
```

The replay:

```py
{{GENERATED_UPDATE}}
```

The per-step numbers (the decayed learning rate, Adam's bias corrections from the step count)
are Python arithmetic in the replay, recomputed at every call from the values it read: a
recording never freezes them.

## Exact

A replay makes the same NumPy calls as the eager step, on the same dtypes, in the same order;
what the planner changes is only *where* a result is written (`out=` buffers of the same
shape, dtype and layout), *whether* work nobody uses runs (a loss nobody returns, the seed of
backward, copies), and *when* a pure operation runs (constants once, guards first). Three calls
are spelled differently because NumPy has a much faster way to the same elements
(`tinygrad_np/compiler/faster.py`): `np.maximum(x, 0)` compares with an array of zeros made
once (NumPy's vector loop instead of its element-by-element one, about 3 times faster); a
maximum or minimum over a short last axis (a loss's few classes, many rows) is taken column by
column instead of row by row; and the loss's pick of each row's label, `shifted[rows, y]`,
reads the flat array at `rows * 3 + y` (`y_flat`, computed once) and its backward writes
there with `np.put`. A maximum does not round, so every number comes out bit for bit, signed
zeros included; a NaN comes out a NaN, though NumPy's row-by-row reduction may give it other
sign and payload bits (IEEE 754 leaves them unspecified). The flat pick is only used where
the label check at the top of the replay has proved every label in range and nothing in the
step changes the labels. Sums are never reordered. Dropout
masks are drawn from `tinygrad_np.rng.get_rng()` at the same point, in the same order. The
tests train every optimizer (SGD with the book's decay, both momentum rules and Nesterov;
Adagrad, RMSprop, Adam, AdamW), L1/L2 penalties and dropout for hundreds of steps next to an
eager twin and compare losses, parameters, gradients and optimizer state with
`np.array_equal`; convolutions, pooling and batch norm (its running statistics too), a
gradient penalty through `create_graph=True`, and `fit()` with and without the compiled step
the same way.

## What it refuses

What a replay could not repeat faithfully is found while recording. The recording call
then goes on eagerly to its end; with `strict=True` it raises `tg.JitError` once it is done,
naming the line (an error the step raises itself, such as a loss's bad label, comes through
as it is, with a note saying what the recording refused):

```python
{{REFUSED}}
```

```text
{{REFUSED_MESSAGE}}
```

Without `strict` the call completes eagerly and the step keeps running eagerly for that
signature, with one warning:

```text
{{FALLBACK_MESSAGE}}
```

{{REFUSALS}}

The search for what a step uses looks in its closure, the globals it reads, its defaults,
`self` of a bound method, and a few levels into the objects, functions and containers found
there. Python side effects the recording cannot see (printing, writing files, state of
objects it did not reach) happen only in the recording call: keep them outside the step.

## Memory, page faults and threads

A replay allocates no large array: its temporaries live in buffers it keeps
(`step.nbytes`; new gradients live in buffers of their own, `step.gradient_nbytes`, which
`.grad` holds between steps as after an eager step). Those buffers are the same at every
call: a gradient array kept from one step holds the next step's values after the next call,
where the eager step would have made new arrays, so keep a copy (`p.grad.data.copy()`) of a
gradient you need later. Keeping its buffers also removes the page faults of a
step that frees and re-allocates a few hundred kilobytes: glibc hands such memory back to the
kernel and faults it in again at every step. For eager code, `tg.tune_malloc()` raises
glibc's thresholds (a process-wide setting: call it from a program that owns its process,
as the command line does). `tg.set_num_threads(n)` sets NumPy's BLAS threads: one is fastest
for the book's networks on a small machine. `benchmarks/README.md` has the measurements.

## In `fit()` and on the command line

`tg.train.fit` runs its training step and its validation through `tg.jit` by default
(`jit=False` turns it off), and so does `tinygrad-np train` (`--no-jit`); the numbers are the
same either way, bit for bit. The command also sets one BLAS thread (`--threads N`) and tunes
malloc (`--no-malloc-tuning`).
"""


REFUSALS = [  # (in the step, what happens): the table of the page
    (
        "`.item()` of a number, `float(t)`, `.tolist()`, `np.asarray(t.numpy())`, printing",
        "refused: return the Tensor and read it outside",
    ),
    (
        "`if loss > 1:`, `.item()` of a truth value (a test on a value)",
        "a guard: checked first at every replay; the other outcome records anew",
    ),
    (
        "`x[x > 0]`, `nonzero`, `unique` (a shape that depends on the values)",
        "refused: a replay could not size the result; multiply by the mask instead",
    ),
    (
        "a different train/eval mode, grad mode, batch shape",
        "another signature or a failed guard: recorded anew",
    ),
    (
        "new parameters, a module replaced or its settings changed, `p.data` rebound, "
        "`optimizer.load_state_dict`",
        "a failed guard: recorded anew",
    ),
    (
        "a scheduler's `step()`, `tg.manual_seed()`, `np.random`, another Generator",
        "refused: call them outside the step, draw from the library generator",
    ),
    (
        "appending to a list, changing an attribute of an object the step reaches",
        "refused (a replay would not do it)",
    ),
    (
        "a branch on a value after the optimizer changed the parameters",
        "refused: a replay could not bail out cleanly",
    ),
    (
        "a tensor that requires grad but that the search did not find",
        "refused: pass it as an argument or keep it in a module",
    ),
]


def book_code() -> dict[str, str]:
    """The book's hand-written passes, as ``tinygrad_np.reference`` writes them."""
    parts = {
        "forward": [ref.Layer_Dense.forward, ref.Activation_ReLU.forward,
                    ref.Activation_Softmax.forward],
        "backward": [ref.Activation_Softmax_Loss_CategoricalCrossentropy.backward,
                     ref.Layer_Dense.backward, ref.Activation_ReLU.backward],
        "update": [ref.Optimizer_Adam.update_params],
    }  # fmt: skip
    out = {}
    for phase, functions in parts.items():
        texts = []
        for f in functions:
            source = textwrap.dedent(inspect.getsource(f))
            owner = f.__qualname__.split(".")[0]
            texts.append(f"# {owner}\n{_without_docstring(source)}")
        out[phase] = "\n\n".join(texts)
    return out


def _without_docstring(source: str) -> str:
    return re.sub(r'\n    """.*?"""\n', "\n", source, count=1, flags=re.S)


def generated() -> tuple[str, dict]:
    namespace: dict = {"__name__": "jit_page"}
    exec(compile(STEP, "jit_page", "exec"), namespace)
    return namespace["train_step"].source(), namespace


def sections(source: str) -> dict[str, str]:
    """The generated function cut at its section comments."""
    lines = source.splitlines()
    marks = [(i, m.group(1)) for i, line in enumerate(lines)
             if (m := re.match(r"\s+# --- (\w+) ---", line))]  # fmt: skip
    out = {"inputs and guards": "\n".join(lines[: marks[0][0]]).rstrip()}
    ends = [i for i, _ in marks[1:]] + [len(lines)]
    for (start, name), end in zip(marks, ends):
        out[name] = textwrap.dedent("\n".join(lines[start + 1 : end])).strip()
    return out


def refused_message(namespace: dict) -> str:
    exec(compile(REFUSED, "jit_page", "exec"), namespace)
    return re.sub(r"\(at .*", "(at the line that calls it)", namespace["message"])


def fallback_message(namespace: dict) -> str:
    @tg.jit
    def with_numpy(X, y):
        loss = namespace["loss_fn"](namespace["model"](tg.Tensor(X)), y)
        return loss, float(loss)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with_numpy(X=namespace["X"], y=namespace["y"])
    return re.sub(r"\(at .*", "(at ...)", str(caught[0].message))


def page() -> str:
    source, namespace = generated()
    parts = sections(source)
    book = book_code()
    template = TEMPLATE
    fills = {
        "STEP": STEP.rstrip(),
        "REFUSED": REFUSED.rstrip(),
        "REFUSED_MESSAGE": refused_message(namespace),
        "FALLBACK_MESSAGE": fallback_message(namespace),
        "PROLOGUE": parts["inputs and guards"],
        "GENERATED_FORWARD": parts["forward"],
        "GENERATED_BACKWARD": parts["backward"],
        "GENERATED_UPDATE": parts["update"],
        "BOOK_FORWARD": book["forward"],
        "BOOK_BACKWARD": book["backward"],
        "BOOK_UPDATE": book["update"],
        "LINES": str(len(source.splitlines())),
        "REFUSALS": "\n".join(
            ["| in the step | what happens |", "|---|---|"]
            + [f"| {a} | {b} |" for a, b in REFUSALS]
        ),
    }
    text = re.sub(r"\{\{(\w+)\}\}", lambda m: fills[m.group(1)], template)
    return f"<!-- generated by docs/make_jit_page.py: edit that script, then run it -->\n{text}"


def main(argv: list[str]) -> int:
    text = page()
    if "--check" in argv:
        if not PAGE.exists() or PAGE.read_text() != text:
            print(f"{PAGE} is out of date: run python docs/make_jit_page.py")
            return 1
        return 0
    PAGE.write_text(text)
    print(f"wrote {PAGE}")
    return 0


_ = np
if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
