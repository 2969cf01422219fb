"""The library half of the public contract (nn, optim, metrics, viz, io, data, train, the
command), called exactly as DESIGN.md writes it, so a renamed argument fails here."""

from __future__ import annotations

import importlib.util
import inspect
import os
import re

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import Tensor, nn
from tinygrad_np.cli import main

rng = np.random.default_rng(1)


def defaults(fn) -> dict:
    return {name: p.default for name, p in inspect.signature(fn).parameters.items()}


# ---------------------------------------------------------------- nn


def test_linear_signature_alias_layout_and_forward():
    layer = nn.Linear(in_features=3, out_features=4, bias=True)
    assert nn.Dense is nn.Linear
    assert layer.weight.shape == (3, 4) and layer.bias.shape[-1] == 4  # weight is (in, out)
    X = rng.standard_normal((5, 3)).astype(np.float32)
    expected = X @ layer.weight.data + layer.bias.data  # X @ W + b, as in the book
    np.testing.assert_allclose(layer(Tensor(X)).data, expected, rtol=1e-6)
    no_bias = nn.Dense(3, 4, bias=False)
    assert [name for name, _ in no_bias.named_parameters()] == ["weight"]
    np.testing.assert_allclose(no_bias(Tensor(X)).data, X @ no_bias.weight.data, rtol=1e-6)


def test_module_methods():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Dropout(p=0.5))
            self.head = nn.Linear(4, 3)

        def forward(self, x):
            return self.head(self.body(x))

    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["body.0.weight", "body.0.bias", "head.weight", "head.bias"]
    assert [id(p) for p in net.parameters()] == [id(p) for _, p in net.named_parameters()]
    state = net.state_dict()
    assert list(state) == names and all(isinstance(v, np.ndarray) for v in state.values())
    assert net.eval() is net and not net.training and not net.body[2].training
    net.train()
    assert net.training and net.body[2].training
    net(Tensor(np.ones((3, 2), np.float32))).sum().backward()  # __call__ runs forward
    assert net.head.weight.grad is not None
    net.zero_grad()
    assert all(p.grad is None or not p.grad.data.any() for p in net.parameters())
    other = Net()
    other.load_state_dict(state)
    for a, b in zip(other.parameters(), net.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_activations_and_sequential():
    x = Tensor(np.array([[-1.0, 0.5, 2.0]]))
    np.testing.assert_allclose(nn.ReLU()(x).data, [[0.0, 0.5, 2.0]])
    np.testing.assert_allclose(nn.Sigmoid()(x).data, 1 / (1 + np.exp(-x.data)))
    np.testing.assert_allclose(nn.Tanh()(x).data, np.tanh(x.data))
    e = np.exp(x.data - x.data.max())
    np.testing.assert_allclose(nn.Softmax()(x).data, e / e.sum())
    model = nn.Sequential(nn.Tanh(), nn.ReLU())
    np.testing.assert_allclose(model(x).data, np.maximum(np.tanh(x.data), 0))


def test_dropout_drops_fraction_p_scales_the_rest_and_is_identity_in_eval():
    tg.manual_seed(0)
    drop = nn.Dropout(p=0.25)
    out = drop(Tensor(np.ones(20000))).data
    assert set(np.unique(out)) == {0.0, np.float64(1 / 0.75)}  # inverted scaling
    assert abs((out == 0).mean() - 0.25) < 0.02  # p is the fraction dropped
    x = Tensor(np.ones(10))
    assert np.array_equal(drop.eval()(x).data, x.data)


N, C = 6, 3
LOGITS = rng.standard_normal((N, C))
LABELS = np.array([0, 1, 2, 2, 1, 0])
PROBS = rng.uniform(0.1, 0.9, (N, C))
TARGETS = rng.uniform(0, 1, (N, C)).round()


def _log_softmax(a):
    s = a - a.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


LOSSES = {  # name: (loss class, input, target, per-element NumPy reference)
    "CrossEntropyLoss": (nn.CrossEntropyLoss, LOGITS, LABELS,
                         -_log_softmax(LOGITS)[np.arange(N), LABELS]),
    "CrossEntropyLoss one-hot": (nn.CrossEntropyLoss, LOGITS, np.eye(C)[LABELS],
                                 -_log_softmax(LOGITS)[np.arange(N), LABELS]),
    "NLLLoss": (nn.NLLLoss, _log_softmax(LOGITS), LABELS,
                -_log_softmax(LOGITS)[np.arange(N), LABELS]),
    "BCELoss": (nn.BCELoss, PROBS, TARGETS,
                -(TARGETS * np.log(PROBS) + (1 - TARGETS) * np.log(1 - PROBS))),
    "BCEWithLogitsLoss": (nn.BCEWithLogitsLoss, LOGITS, TARGETS,
                          TARGETS * np.log1p(np.exp(-LOGITS))
                          + (1 - TARGETS) * np.log1p(np.exp(LOGITS))),
    "MSELoss": (nn.MSELoss, LOGITS, PROBS, (LOGITS - PROBS) ** 2),
    "L1Loss": (nn.L1Loss, LOGITS, PROBS, np.abs(LOGITS - PROBS)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_and_their_reductions(name, reduction):
    cls, x, target, per_element = LOSSES[name]
    expected = {"mean": per_element.mean(), "sum": per_element.sum(), "none": per_element}
    inp = Tensor(x.copy(), requires_grad=True)
    loss = cls(reduction=reduction)(inp, target)
    np.testing.assert_allclose(loss.data, expected[reduction], rtol=1e-7, atol=1e-12)
    assert tg.gradcheck(lambda t: cls(reduction=reduction)(t, target), [inp])
    with pytest.raises(ValueError, match="reduction"):
        cls(reduction="average")


def test_regularizer_keywords_and_regularization_loss():
    l1w, l2w, l1b, l2b = 1e-3, 5e-4, 2e-3, 3e-4
    layer = nn.Linear(
        3,
        4,
        weight_regularizer_l1=l1w,
        weight_regularizer_l2=l2w,
        bias_regularizer_l1=l1b,
        bias_regularizer_l2=l2b,
    )
    layer.bias.data[...] = rng.standard_normal(layer.bias.shape)
    model = nn.Sequential(layer, nn.ReLU(), nn.Linear(4, 2))  # the second adds nothing
    W, b = layer.weight.data.astype(np.float64), layer.bias.data.astype(np.float64)
    reg = nn.regularization_loss(model)
    assert isinstance(reg, Tensor)
    expected = l1w * np.abs(W).sum() + l2w * (W**2).sum() + l1b * np.abs(b).sum()
    np.testing.assert_allclose(reg.item(), expected + l2b * (b**2).sum(), rtol=1e-5)
    reg.backward()  # the book's dL/dW = l1 * sign(W) + 2 * l2 * W
    np.testing.assert_allclose(layer.weight.grad.data, l1w * np.sign(W) + 2 * l2w * W, rtol=1e-5)
    np.testing.assert_allclose(layer.bias.grad.data, l1b * np.sign(b) + 2 * l2b * b, rtol=1e-5)
    assert nn.regularization_loss(nn.Linear(2, 2)).item() == 0.0


# ---------------------------------------------------------------- optim


def _reference(name: str, kw: dict, w: np.ndarray, grads: list) -> np.ndarray:
    """The update rules the argument names promise, in NumPy, with lr / (1 + decay * step)."""
    w, s = w.copy(), {}
    for t, g in enumerate(grads, start=1):
        lr = kw["lr"] / (1 + kw.get("decay", 0) * (t - 1))
        if name == "AdamW":
            w = w * (1 - lr * kw["weight_decay"])
        else:
            g = g + kw.get("weight_decay", 0) * w
        if name == "SGD":
            m = kw.get("momentum", 0)
            s["b"] = g if t == 1 else m * s["b"] + g
            w = w - lr * ((g + m * s["b"]) if kw.get("nesterov") else s["b"])
        elif name == "Adagrad":
            s["sum"] = s.get("sum", 0) + g * g
            w = w - lr * g / (np.sqrt(s["sum"]) + kw["eps"])
        elif name == "RMSprop":
            s["v"] = kw["alpha"] * s.get("v", 0) + (1 - kw["alpha"]) * g * g
            w = w - lr * g / (np.sqrt(s["v"]) + kw["eps"])
        else:
            (b1, b2), eps = kw.get("betas", (0.9, 0.999)), kw["eps"]
            s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
            s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
            m_hat, v_hat = s["m"] / (1 - b1**t), s["v"] / (1 - b2**t)
            w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01, decay=0.05)),
    ("Adagrad", dict(lr=0.5, eps=1e-7, decay=0.1)),
    ("RMSprop", dict(lr=0.02, alpha=0.9, eps=1e-7, decay=0.1)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-7, decay=0.1)),
    ("Adam", dict(lr=0.05, eps=1e-8, weight_decay=0.1)),
    ("AdamW", dict(lr=0.05, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1, decay=0.1)),
]


@pytest.mark.parametrize("name, kw", OPTIMIZERS, ids=[f"{n}-{sorted(k)}" for n, k in OPTIMIZERS])
def test_optimizers_follow_their_documented_rules(name, kw):
    w0 = rng.standard_normal(4)
    grads = [rng.standard_normal(4) for _ in range(3)]
    w = Tensor(w0.copy(), requires_grad=True)
    opt = getattr(tg.optim, name)([w], **kw)
    for g in grads:
        opt.zero_grad()
        (w * Tensor(g)).sum().backward()  # d/dw = g
        opt.step()
    np.testing.assert_allclose(w.data, _reference(name, kw, w0, grads), rtol=1e-10)


def test_optimizer_signatures_and_params_from_a_module():
    sgd = defaults(tg.optim.SGD)
    listed = {"momentum": 0, "nesterov": False, "weight_decay": 0, "decay": 0}
    assert {name: sgd[name] for name in listed} == listed
    assert defaults(tg.optim.Adam)["betas"] == (0.9, 0.999)
    for cls, leading in [
        (tg.optim.SGD, ["params", "lr", "momentum"]),
        (tg.optim.Adagrad, ["params", "lr", "eps"]),
        (tg.optim.RMSprop, ["params", "lr", "alpha", "eps"]),
        (tg.optim.Adam, ["params", "lr", "betas", "eps"]),
        (tg.optim.AdamW, ["params", "lr", "betas", "eps"]),
    ]:
        assert list(defaults(cls))[: len(leading)] == leading
        assert "decay" in defaults(cls)
        model = nn.Linear(2, 2)
        opt = cls(model.parameters(), lr=0.1)  # a module's parameters() (a generator)
        before = model.weight.data.copy()
        model(Tensor(np.ones((1, 2), np.float32))).sum().backward()
        opt.step()
        assert not np.array_equal(model.weight.data, before)
        opt.zero_grad()
        assert all(p.grad is None or not p.grad.data.any() for p in model.parameters())


# ---------------------------------------------------------------- metrics, viz, io


def test_accuracy_of_logits_and_probabilities_against_labels_and_one_hot():
    logits = np.array([[2.0, 0.1, 0.0], [0.3, 1.5, 0.2], [0.9, 0.2, 0.1], [0.0, 0.0, 3.0]])
    labels = np.array([0, 1, 2, 2])
    for predictions in (logits, Tensor(logits), Tensor(logits).softmax(axis=1)):
        for targets in (labels, np.eye(3)[labels], Tensor(labels)):
            acc = tg.metrics.accuracy(predictions=predictions, targets=targets)
            assert type(acc) is float and acc == 0.75


def test_viz_to_dot_draw_graph_and_trace():
    w = tg.tensor([1.0, -2.0], requires_grad=True)
    loss = (w * w).sum()
    dot = tg.viz.to_dot(loss)
    assert isinstance(dot, str) and dot.startswith("digraph") and "mul" in dot and "sum" in dot
    graphviz = pytest.importorskip("graphviz")
    drawing = tg.viz.draw_graph(loss)
    assert isinstance(drawing, graphviz.Digraph) and drawing.source == dot
    text = str(tg.viz.trace(loss))
    assert "sum" in text and "mul" in text
    np.testing.assert_array_equal(w.grad.data, [2.0, -4.0])  # trace ran the backward pass


def test_save_and_load_state_dicts(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    path = tmp_path / "model.npz"
    tg.save(obj=model.state_dict(), path=str(path))
    state = tg.load(path=str(path))
    assert list(state) == list(model.state_dict())
    for key, value in model.state_dict().items():
        assert np.array_equal(state[key], value) and state[key].dtype == value.dtype
    opt = tg.optim.Adam(model.parameters(), lr=0.01)
    tg.save(opt.state_dict(), path)  # a PathLike works too
    assert tg.load(path)["param_groups"][0]["lr"] == 0.01


def test_load_never_unpickles_and_a_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, payload=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        tg.load(path)
    good = tmp_path / "good.npz"
    tg.save({"w": np.ones(2)}, good)
    with pytest.raises(TypeError, match="w"):
        tg.save({"w": object()}, good)
    assert np.array_equal(tg.load(good)["w"], np.ones(2))


# ---------------------------------------------------------------- data, train, the command


def test_toy_data_sets():
    X, y = tg.data.spiral_data(samples=50, classes=3, seed=3)
    assert X.shape == (150, 2) and y.shape == (150,) and set(y.tolist()) == {0, 1, 2}
    X2, y2 = tg.data.spiral_data(50, 3, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(X, tg.data.spiral_data(50, 3, seed=4)[0])
    Xv, yv = tg.data.vertical_data(samples=20, classes=2, seed=0)
    assert Xv.shape == (40, 2) and yv.shape == (40,)
    Xs, ys = tg.data.sine_data(samples=100)
    assert Xs.shape == ys.shape == (100, 1)
    np.testing.assert_allclose(ys, np.sin(2 * np.pi * Xs), atol=1e-6)


def test_data_loader_positionally_and_by_keyword():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    positional = list(tg.data.DataLoader(X, y, 4, True, 0, True))
    keyword = list(tg.data.DataLoader(X=X, y=y, batch_size=4, shuffle=True, seed=0, drop_last=True))
    assert len(positional) == 2 and [b[0].shape for b in positional] == [(4, 2), (4, 2)]
    for (xa, ya), (xb, yb) in zip(positional, keyword):
        assert np.array_equal(xa, xb) and np.array_equal(ya, yb)
        assert np.array_equal(xa[:, 0] / 2, ya)  # rows stay with their labels
    ordered = list(tg.data.DataLoader(X, y, batch_size=4, shuffle=False, drop_last=False))
    assert [len(b[1]) for b in ordered] == [4, 4, 2] and ordered[0][1].tolist() == [0, 1, 2, 3]


def test_train_test_split():
    X, y = np.arange(40.0).reshape(20, 2), np.arange(20)
    X_train, X_test, y_train, y_test = tg.data.train_test_split(X, y, test_size=0.25, seed=0)
    assert X_train.shape == (15, 2) and X_test.shape == (5, 2)
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(20))
    assert np.array_equal(X_test[:, 0] / 2, y_test)


def test_fit_returns_a_per_epoch_history():
    tg.manual_seed(0)
    X, y = tg.data.spiral_data(30, 3, seed=0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    optimizer = tg.optim.Adam(model.parameters(), lr=0.05)
    history = tg.train.fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), 15, progress=False)
    assert isinstance(history, tg.train.History) and len(history) == 15
    assert len(history.loss) == len(history.accuracy) == 15
    assert history.loss[-1] < history.loss[0] and all(0 <= a <= 1 for a in history.accuracy)
    loader = tg.data.DataLoader(X, y, batch_size=32, shuffle=True, seed=0)
    history = tg.train.fit(
        model=model,
        loss_fn=nn.CrossEntropyLoss(),
        optimizer=optimizer,
        data=loader,
        epochs=2,
        val_data=(X, y),
        progress=False,
    )
    assert len(history["val_loss"]) == len(history["val_accuracy"]) == 2


def test_the_train_spiral_command(tmp_path, capsys):
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    with open(os.path.join(os.path.dirname(__file__), "..", "pyproject.toml"), "rb") as f:
        scripts = tomllib.load(f)["project"]["scripts"]
    assert scripts["tinygrad-np"] == "tinygrad_np.cli:main"
    args = ["train", "spiral", "--optimizer", "adam", "--epochs", "5", "--no-progress"]
    if importlib.util.find_spec("matplotlib") is not None:
        args += ["--plot", str(tmp_path / "out.png")]
    assert main(args) == 0
    out = capsys.readouterr().out
    for split in ("train", "test"):
        assert re.search(rf"^{split}:\s+loss [\d.]+, accuracy [\d.]+", out, re.MULTILINE), out
    if "--plot" in args:
        assert (tmp_path / "out.png").stat().st_size > 0
