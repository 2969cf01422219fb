"""The benchmark workloads, each written several ways: tinygrad_np (raw Tensors, and with
``nn`` + ``optim``), hand-written NumPy, and PyTorch.

A maker takes a workload and returns ``step()``: one full training step (forward, loss,
backward, in-place SGD update) on the implementation's own copy of the same initial weights,
returning the loss as a Python float. Equal first losses are how ``run.py`` checks that the
implementations compute the same thing before it times them.

The hand-written NumPy model is the floor a NumPy autograd can reach: the same NumPy calls an
autograd makes (X @ W + b, maximum(., 0), a stable softmax and cross-entropy; backward
(p - onehot) / n, two matmuls per layer, the ReLU mask, bias sums; the same SGD update), each
done once, out of place, with no graph, no checks and no copies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import tinygrad_np as tg
from benchmarks import lenet
from tinygrad_np import nn, optim

Step = Callable[[], float]
Params = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Workload:
    """One benchmark: a ReLU MLP trained with full-batch SGD, the LeNet-sized CNN
    (``benchmarks/lenet.py``), or a scalar chain."""

    key: str  # the letter --workloads accepts
    name: str
    title: str
    sizes: tuple[int, ...] = ()  # layer widths, input first; empty for the scalar chain
    batch: int = 0
    lr: float = 0.01
    chain_nodes: int = 0  # > 0 marks the scalar-chain workload

    @property
    def is_chain(self) -> bool:
        return self.chain_nodes > 0


SPIRAL = Workload("a", "spiral", "NNFS spiral 300x2, 2-64-3, full batch", (2, 64, 3), 300, 0.1)
MLP = Workload("b", "mlp", "MLP 784-256-128-10, batch 128", (784, 256, 128, 10), 128, 0.01)
DEEP = Workload(
    "c", "deep", "deep-narrow 50 x (Linear(32,32)+ReLU), batch 16", (32,) * 51 + (10,), 16, 1e-3
)
CHAIN = Workload(
    "d", "chain", "scalar chain y = y*1.0001 + 0.0, forward+backward", chain_nodes=100_000
)
CONV = Workload(
    "e", "conv", "LeNet conv(1,6,5)-pool-conv(6,16,5)-pool-256-120-10 on 1x28x28, batch 64",
    batch=64, lr=0.01,
)  # fmt: skip
WORKLOADS = (SPIRAL, MLP, DEEP, CHAIN, CONV)


def quick(w: Workload) -> Workload:
    """The small version ``--quick`` runs: only the chain needs shrinking to finish in a blink."""
    if w.is_chain:
        return Workload(w.key, w.name, w.title, chain_nodes=2_000)
    return w


# ================================ data and initial weights ===================================


def make_data(w: Workload, seed: int = 0) -> tuple[np.ndarray, np.ndarray, Params]:
    """Inputs, integer labels and He-initialised float32 weights, shared by every maker."""
    rng = np.random.default_rng(seed)
    if w.name == "spiral":
        X, y = tg.data.spiral_data(w.batch // w.sizes[-1], w.sizes[-1], seed=seed)
    else:
        X = rng.standard_normal((w.batch, w.sizes[0]), dtype=np.float32)
        y = rng.integers(0, w.sizes[-1], size=w.batch)
    params = []
    for n_in, n_out in zip(w.sizes[:-1], w.sizes[1:]):
        # He scaling keeps activations alive through 50 ReLU layers
        W = rng.standard_normal((n_in, n_out), dtype=np.float32) * np.float32(np.sqrt(2 / n_in))
        b = rng.standard_normal(n_out, dtype=np.float32) * np.float32(0.01)
        params.append((W, b))
    return X, y, params


# ================================ the three implementations ==================================


def tinygrad_step(w: Workload, seed: int = 0) -> Step:
    """tinygrad_np with raw Tensors, ``tg.cross_entropy`` and an in-place SGD update."""
    if w.name == CONV.name:
        return lenet.tinygrad_step(w, seed)
    if w.is_chain:
        return _tinygrad_chain(w.chain_nodes)
    X, y, params = make_data(w, seed)
    Xt = tg.Tensor(X)
    layers = [
        (tg.Tensor(W.copy(), requires_grad=True), tg.Tensor(b.copy(), requires_grad=True))
        for W, b in params
    ]
    flat = [p for layer in layers for p in layer]
    lr = w.lr

    def step() -> float:
        h = Xt
        for W, b in layers[:-1]:
            h = (h @ W + b).relu()
        W, b = layers[-1]
        loss = tg.cross_entropy(h @ W + b, y)
        loss.backward()
        for p in flat:
            p.data -= lr * p.grad.data
            p.grad = None
        return loss.item()

    return step


def _nn_model(w: Workload, seed: int) -> tuple:
    """The nn model, loss, SGD optimizer and data of ``tinygrad_nn_step`` and ``jit_step``."""
    if w.name == CONV.name:
        return lenet.nn_model(w, seed)
    X, y, params = make_data(w, seed)
    modules: list[nn.Module] = []
    for W, b in params:
        layer = nn.Linear(*W.shape)
        layer.weight.data[...] = W
        layer.bias.data[...] = b
        modules += [layer, nn.ReLU()]
    model = nn.Sequential(*modules[:-1])  # no ReLU after the last layer
    return model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=w.lr), tg.Tensor(X), y


def tinygrad_nn_step(w: Workload, seed: int = 0) -> Step:
    """tinygrad_np as users write it: ``nn.Sequential`` of ``nn.Linear`` (one fused op per
    layer), ``nn.CrossEntropyLoss`` and ``optim.SGD``."""
    if w.is_chain:
        raise ValueError("tinygrad_nn_step: the scalar chain has no layers")
    model, loss_fn, optimizer, Xt, y = _nn_model(w, seed)

    def step() -> float:
        optimizer.zero_grad()
        loss = loss_fn(model(Xt), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def jit_step(w: Workload, seed: int = 0) -> Step:
    """The ``tinygrad_np.nn`` step compiled with ``tg.jit``: recorded on its first calls,
    then replayed as generated NumPy code (``.item()`` is taken outside the compiled step)."""
    if w.is_chain:
        raise ValueError("jit_step: the scalar chain has no layers")
    model, loss_fn, optimizer, Xt, y = _nn_model(w, seed)

    @tg.jit
    def train_step(X: tg.Tensor, labels: np.ndarray) -> tg.Tensor:
        optimizer.zero_grad()
        loss = loss_fn(model(X), labels)
        loss.backward()
        optimizer.step()
        return loss

    def step() -> float:
        return train_step(Xt, y).item()

    step.compiled = train_step  # type: ignore[attr-defined]
    return step


def numpy_step(w: Workload, seed: int = 0) -> Step:
    """The same model with a hand-derived backward pass in plain NumPy."""
    if w.name == CONV.name:
        return lenet.numpy_step(w, seed)
    if w.is_chain:
        raise ValueError("numpy_step: the scalar chain has no hand-written baseline")
    X, y, params = make_data(w, seed)
    params = [(W.copy(), b.copy()) for W, b in params]
    n = X.shape[0]
    rows = np.arange(n)
    lr = w.lr

    def step() -> float:
        acts = [X]  # each layer's input, kept for dW = input.T @ dz
        h = X
        for W, b in params[:-1]:
            h = np.maximum(h @ W + b, 0)
            acts.append(h)
        W, b = params[-1]
        z = h @ W + b
        shifted = z - z.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        # -log p_y = log(sum exp(shifted)) - shifted_y; sum / n skips np.mean's Python wrapper
        loss = (np.log(s[:, 0]) - shifted[rows, y]).sum() / n
        dz = e / s  # softmax probabilities, turned into dloss/dz in place: nothing else reads them
        dz[rows, y] -= 1
        dz /= n
        grads = []
        for i in range(len(params) - 1, -1, -1):
            W = params[i][0]
            grads.append((acts[i].T @ dz, dz.sum(axis=0)))
            if i:
                dz = (dz @ W.T) * (acts[i] > 0)
        for (W, b), (dW, db) in zip(params, reversed(grads)):
            W -= lr * dW
            b -= lr * db
        return float(loss)

    return step


def torch_step(w: Workload, seed: int = 0) -> Step:
    """PyTorch eager on the CPU: the same model, loss and in-place SGD update."""
    import torch
    import torch.nn.functional as F

    if w.name == CONV.name:
        return lenet.torch_step(w, seed)
    if w.is_chain:
        return _torch_chain(w.chain_nodes)
    X, y, params = make_data(w, seed)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    layers = [
        (torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
        for W, b in params
    ]
    flat = [p for layer in layers for p in layer]
    lr = w.lr

    def step() -> float:
        h = Xt
        for W, b in layers[:-1]:
            h = torch.relu(h @ W + b)
        W, b = layers[-1]
        loss = F.cross_entropy(h @ W + b, yt)
        loss.backward()
        with torch.no_grad():
            for p in flat:
                p -= lr * p.grad
                p.grad = None
        return loss.item()

    return step


# ================================ the scalar chain ===========================================


def _tinygrad_chain(nodes: int) -> Step:
    x = tg.Tensor(np.array(1.0, dtype=np.float32), requires_grad=True)

    def step() -> float:
        y = x
        for _ in range(nodes // 2):
            y = y * 1.0001 + 0.0
        y.backward()
        g = x.grad.item()
        x.grad = None
        return g  # the graph is freed on return: part of the cost

    return step


def _torch_chain(nodes: int) -> Step:
    import torch

    x = torch.tensor(1.0, requires_grad=True)

    def step() -> float:
        y = x
        for _ in range(nodes // 2):
            y = y * 1.0001 + 0.0
        y.backward()
        g = x.grad.item()
        x.grad = None
        return g

    return step


IMPLEMENTATIONS: dict[str, Callable[[Workload, int], Step]] = {
    "numpy": numpy_step,
    "tinygrad_np": tinygrad_step,
    "tinygrad_np.nn": tinygrad_nn_step,
    "tinygrad_np.jit": jit_step,
    "torch": torch_step,
}
