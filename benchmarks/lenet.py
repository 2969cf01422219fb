"""The ``conv`` workload: one training step of a LeNet-sized CNN on 1x28x28 images, batch 64,

    Conv2d(1, 6, 5) - ReLU - MaxPool2d(2) - Conv2d(6, 16, 5) - ReLU - MaxPool2d(2)
    - Linear(256, 120) - ReLU - Linear(120, 10), cross-entropy, SGD,

written four ways, on the same data and initial weights. The hand-written NumPy step is the
floor a NumPy autograd can reach: im2col through ``sliding_window_view`` and one matmul per
convolution, col2im as one strided sum per kernel position (never ``np.add.at``), 2x2 pooling
as elementwise maxima of the four strided quarter-images, and the hand-derived backward of
each piece, all in float32.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import tinygrad_np as tg
from tinygrad_np import nn, optim
from tinygrad_np.nn import functional as F

Step = Callable[[], float]
# (out_channels, in_channels, kernel) of the two convolutions; the two dense layers
CONVS = ((6, 1, 5), (16, 6, 5))
DENSE = ((256, 120), (120, 10))
IMAGE = (1, 28, 28)
CLASSES = 10


def make_data(batch: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Images, labels and He-initialised float32 parameters in order: conv1 weight, bias,
    conv2 weight, bias, dense1 weight (in, out), bias, dense2 weight, bias."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, *IMAGE), dtype=np.float32)
    y = rng.integers(0, CLASSES, size=batch)
    params = []
    shapes = [(o, c, k, k) for o, c, k in CONVS] + list(DENSE)
    for shape in shapes:
        fan_in = int(np.prod(shape[1:])) if len(shape) == 4 else shape[0]
        params.append(
            rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(2 / fan_in))
        )
        bias = shape[0] if len(shape) == 4 else shape[1]
        params.append(rng.standard_normal(bias, dtype=np.float32) * np.float32(0.01))
    return X, y, params


# ================================ hand-written NumPy =========================================


def numpy_step(w: Any, seed: int = 0) -> Step:
    """The same network with a hand-derived backward pass in plain NumPy."""
    X, y, params = make_data(w.batch, seed)
    W1, b1, W2, b2, W3, b3, W4, b4 = params
    n, rows, lr = X.shape[0], np.arange(X.shape[0]), w.lr

    def conv(x, W, b):
        c, (o, _, k, _) = x.shape[1], W.shape
        ho, wo = x.shape[2] - k + 1, x.shape[3] - k + 1
        windows = sliding_window_view(x, (k, k), axis=(2, 3))  # (n, c, ho, wo, k, k)
        cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(c * k * k, n * ho * wo)
        z = W.reshape(o, -1) @ cols
        z += b[:, None]
        return z.reshape(o, n, ho, wo).transpose(1, 0, 2, 3), cols

    def conv_backward(dz, W, cols, shape):
        o, c, k, _ = W.shape
        g = dz.transpose(1, 0, 2, 3).reshape(o, -1)
        dW, db = (g @ cols.T).reshape(W.shape), g.sum(axis=1)
        if shape is None:
            return None, dW, db
        ho, wo = dz.shape[2:]
        dcols = (W.reshape(o, -1).T @ g).reshape(c, k, k, n, ho, wo)
        dx = np.zeros(shape, dtype=dz.dtype)
        for i in range(k):  # col2im: one strided add per kernel position
            for j in range(k):
                dx[:, :, i : i + ho, j : j + wo] += dcols[:, i, j].transpose(1, 0, 2, 3)
        return dx, dW, db

    def pool(a):  # 2x2, stride 2
        quarters = [a[:, :, i::2, j::2] for i in (0, 1) for j in (0, 1)]
        p = np.maximum(np.maximum(quarters[0], quarters[1]), np.maximum(quarters[2], quarters[3]))
        return p, [q == p for q in quarters]

    def pool_backward(dp, masks, shape):
        da = np.empty(shape, dtype=dp.dtype)
        for (i, j), m in zip(((0, 0), (0, 1), (1, 0), (1, 1)), masks):
            np.multiply(dp, m, out=da[:, :, i::2, j::2])
        return da

    def step() -> float:
        z1, cols1 = conv(X, W1, b1)
        a1 = np.maximum(z1, 0)
        p1, m1 = pool(a1)
        z2, cols2 = conv(p1, W2, b2)
        a2 = np.maximum(z2, 0)
        p2, m2 = pool(a2)
        f = p2.reshape(n, -1)
        a3 = np.maximum(f @ W3 + b3, 0)
        z4 = a3 @ W4 + b4
        shifted = z4 - z4.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        loss = (np.log(s[:, 0]) - shifted[rows, y]).sum() / n
        d4 = e / s
        d4[rows, y] -= 1
        d4 /= n
        dW4, db4 = a3.T @ d4, d4.sum(axis=0)
        d3 = (d4 @ W4.T) * (a3 > 0)
        dW3, db3 = f.T @ d3, d3.sum(axis=0)
        dz2 = pool_backward((d3 @ W3.T).reshape(p2.shape), m2, a2.shape) * (z2 > 0)
        dp1, dW2, db2 = conv_backward(dz2, W2, cols2, p1.shape)
        dz1 = pool_backward(dp1, m1, a1.shape) * (z1 > 0)
        _, dW1, db1 = conv_backward(dz1, W1, cols1, None)  # the images need no gradient
        for p, g in zip(params, (dW1, db1, dW2, db2, dW3, db3, dW4, db4)):
            p -= lr * g
        return float(loss)

    return step


# ================================ tinygrad_np ================================================


def tinygrad_step(w: Any, seed: int = 0) -> Step:
    """Raw Tensors: ``F.conv2d``, ``F.max_pool2d``, ``tg.cross_entropy``, in-place SGD."""
    X, y, params = make_data(w.batch, seed)
    ps = [tg.Tensor(p, requires_grad=True) for p in params]
    W1, b1, W2, b2, W3, b3, W4, b4 = ps
    Xt, n, lr = tg.Tensor(X), X.shape[0], w.lr

    def step() -> float:
        h = F.max_pool2d(F.conv2d(Xt, W1, b1).relu(), 2)
        h = F.max_pool2d(F.conv2d(h, W2, b2).relu(), 2)
        h = (h.reshape(n, -1) @ W3 + b3).relu()
        loss = tg.cross_entropy(h @ W4 + b4, y)
        loss.backward()
        for p in ps:
            p.data -= lr * p.grad.data
            p.grad = None
        return loss.item()

    return step


def _conv(weight: np.ndarray, bias: np.ndarray) -> nn.Conv2d:
    out_channels, in_channels, k, _ = weight.shape
    layer = nn.Conv2d(in_channels, out_channels, k)
    layer.weight.data[...] = weight
    layer.bias.data[...] = bias
    return layer


def _linear(weight: np.ndarray, bias: np.ndarray) -> nn.Linear:
    layer = nn.Linear(*weight.shape)
    layer.weight.data[...] = weight
    layer.bias.data[...] = bias
    return layer


def tinygrad_nn_step(w: Any, seed: int = 0) -> Step:
    """As users write it: an ``nn.Sequential`` of ``nn.Conv2d``, ``nn.MaxPool2d`` and
    ``nn.Linear`` layers, ``nn.CrossEntropyLoss`` and ``optim.SGD``."""
    X, y, p = make_data(w.batch, seed)
    model = nn.Sequential(
        _conv(p[0], p[1]), nn.ReLU(), nn.MaxPool2d(2),
        _conv(p[2], p[3]), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), _linear(p[4], p[5]), nn.ReLU(), _linear(p[6], p[7]),
    )  # fmt: skip
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=w.lr)
    Xt = tg.Tensor(X)

    def step() -> float:
        optimizer.zero_grad()
        loss = loss_fn(model(Xt), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


# ================================ PyTorch ====================================================


def torch_step(w: Any, seed: int = 0) -> Step:
    """PyTorch eager on the CPU: the same network, loss and in-place SGD update."""
    import torch
    import torch.nn.functional as TF

    X, y, params = make_data(w.batch, seed)
    ps = [torch.tensor(p, requires_grad=True) for p in params]
    W1, b1, W2, b2, W3, b3, W4, b4 = ps
    Xt, yt, n, lr = torch.from_numpy(X), torch.from_numpy(y), X.shape[0], w.lr

    def step() -> float:
        h = TF.max_pool2d(torch.relu(TF.conv2d(Xt, W1, b1)), 2)
        h = TF.max_pool2d(torch.relu(TF.conv2d(h, W2, b2)), 2)
        h = torch.relu(h.reshape(n, -1) @ W3 + b3)
        loss = TF.cross_entropy(h @ W4 + b4, yt)
        loss.backward()
        with torch.no_grad():
            for p in ps:
                p -= lr * p.grad
                p.grad = None
        return loss.item()

    return step
