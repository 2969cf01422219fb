"""GELU, ELU, SELU, SiLU and softplus: PyTorch's formulas and switches, exact GELU to float64
rounding, dtypes kept, bad arguments named. (The op registry checks their gradients, first and
second order, and their values against PyTorch on random inputs.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_np as tg

F = tg.nn.functional
torch = pytest.importorskip("torch")
TF = torch.nn.functional


def test_exact_gelu_is_x_phi_of_x_to_float64_rounding():
    x = np.linspace(-12, 12, 24_001)
    reference = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    ours = F.gelu(tg.tensor(x)).numpy()
    # x / sqrt 2 is rounded (here and in the reference): far out, Phi magnifies that by ~x^2
    error = np.abs(ours - reference) / np.maximum(np.abs(reference), 1e-300)
    assert np.all(error <= 4 * (1 + x * x) * np.finfo(np.float64).eps)
    # where 1 + erf(x / sqrt 2) rounds to 0, erfc still gives the tiny true value
    assert F.gelu(tg.tensor(np.array([-10.0]))).item() == pytest.approx(-7.6198530241605e-23)


def test_gelu_gradient_keeps_relative_accuracy_in_the_tails():
    values = [-40.0, -8.0, -3.0, 0.0, 8.0, 40.0]
    x = tg.tensor(np.array(values), requires_grad=True)
    F.gelu(x).sum().backward()
    # Phi(x) + x phi(x); PyTorch's 0.5 (1 + erf) loses digits here (3e-4 relative at -8)
    cdf = [0.5 * math.erfc(-v / math.sqrt(2)) for v in values]
    expected = [c + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi) for c, v in zip(cdf, values)]
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda t: F.gelu(t, approximate="tanh"), lambda t: TF.gelu(t, approximate="tanh")),
        (lambda t: F.elu(t, alpha=0.3), lambda t: TF.elu(t, alpha=0.3)),
        (F.selu, TF.selu),
        (F.silu, TF.silu),
        (lambda t: F.softplus(t, beta=2.0, threshold=3.0), lambda t: TF.softplus(t, 2.0, 3.0)),
        (lambda t: F.softplus(t, beta=-0.5), lambda t: TF.softplus(t, -0.5)),
    ],
)
def test_against_pytorch_over_a_wide_range(ours, theirs):
    x = np.linspace(-50, 50, 1001)
    t, tt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = ours(t), theirs(tt)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_softplus_switches_to_the_identity_above_the_threshold():
    x = tg.tensor(np.array([9.0, 11.0]), requires_grad=True)
    out = F.softplus(x, beta=2.0, threshold=20.0)
    assert out.numpy()[1] == 11.0 and out.numpy()[0] == pytest.approx(
        9.0 + math.log1p(math.exp(-18)) / 2
    )
    out.sum().backward()
    assert x.grad.numpy()[1] == 1.0


@pytest.mark.parametrize("fn", [F.gelu, F.elu, F.selu, F.silu, F.softplus])
def test_a_transposed_input_gives_what_its_copy_gives(fn):
    data = np.linspace(-4, 4, 24).reshape(2, 3, 4)
    a, b = tg.tensor(data, requires_grad=True), tg.tensor(data, requires_grad=True)
    (fn(a.permute(2, 0, 1)) * tg.tensor(np.arange(24.0).reshape(4, 2, 3))).sum().backward()
    (fn(b).permute(2, 0, 1) * tg.tensor(np.arange(24.0).reshape(4, 2, 3))).sum().backward()
    np.testing.assert_array_equal(fn(a.permute(2, 0, 1)).numpy(), fn(b).permute(2, 0, 1).numpy())
    np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


@pytest.mark.parametrize("fn", [F.gelu, F.elu, F.selu, F.silu, F.softplus])
def test_float32_stays_float32(fn):
    x = tg.tensor([-1.0, 0.5, 3.0], requires_grad=True)
    out = fn(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'erf'"):
        F.gelu(tg.zeros(2), approximate="erf")
    with pytest.raises(ValueError, match="softplus: beta must not be 0"):
        F.softplus(tg.zeros(2), beta=0)
