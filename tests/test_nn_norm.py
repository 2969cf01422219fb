"""BatchNorm1d/2d, LayerNorm and Embedding without PyTorch: finite-difference gradients,
running statistics worked out by hand, defaults, saving, and the errors for bad input.
(tests/test_nn_layers_torch.py compares the same layers with PyTorch.)"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.nn import functional as F


def f64(*shape, seed=0, requires_grad=True):
    return tg.Tensor(np.random.default_rng(seed).normal(size=shape), requires_grad=requires_grad)


# --- gradients by finite differences ----------------------------------------------------------


@given(n=st.integers(2, 4), c=st.integers(1, 3), spatial=st.sampled_from([(), (3,), (2, 3)]))
def test_batch_norm_gradients_in_training_mode(n, c, spatial):
    x, w, b = f64(n, c, *spatial), f64(c, seed=1), f64(c, seed=2)
    assert tg.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [x, w, b])


def test_batch_norm_gradients_in_eval_mode_treat_running_statistics_as_constants():
    x, w, b = f64(3, 2, 4), f64(2, seed=1), f64(2, seed=2)
    mean = tg.Tensor(np.array([0.5, -1.0]))
    var = tg.Tensor(np.array([2.0, 0.25]))
    assert tg.gradcheck(lambda x, w, b: F.batch_norm(x, mean, var, w, b), [x, w, b])
    out = F.batch_norm(x, mean, var, w, b)
    expected = (x.data - mean.data[:, None]) / np.sqrt(var.data[:, None] + 1e-5)
    np.testing.assert_allclose(out.data, expected * w.data[:, None] + b.data[:, None])


@given(shape=st.sampled_from([(3, 4), (2, 3, 4), (2, 2, 3)]), k=st.integers(1, 2))
def test_layer_norm_gradients(shape, k):
    x, w, b = f64(*shape), f64(*shape[-k:], seed=1), f64(*shape[-k:], seed=2)
    assert tg.gradcheck(lambda x, w, b: F.layer_norm(x, shape[-k:], w, b), [x, w, b])


def test_batch_norm_and_layer_norm_are_twice_differentiable():
    x = f64(3, 2)
    assert tg.gradgradcheck(lambda x: F.batch_norm(x, None, None, training=True), [x])
    assert tg.gradgradcheck(lambda x: F.layer_norm(x, 2), [x])


# --- BatchNorm: train and eval, the running statistics ---------------------------------------


def test_batchnorm_training_normalises_with_the_biased_batch_variance():
    bn = nn.BatchNorm2d(3, dtype=np.float64)
    x = f64(4, 3, 2, 5)
    out = bn(x).data
    mean = x.data.mean(axis=(0, 2, 3), keepdims=True)
    var = x.data.var(axis=(0, 2, 3), keepdims=True)  # ddof=0
    np.testing.assert_allclose(out, (x.data - mean) / np.sqrt(var + 1e-5), rtol=1e-12)


def test_batchnorm_running_statistics_use_momentum_and_the_unbiased_variance():
    bn = nn.BatchNorm1d(2, momentum=0.3, dtype=np.float64)
    mean, var = np.zeros(2), np.ones(2)
    for seed in range(3):
        x = f64(5, 2, seed=seed)
        bn(x)
        mean = 0.7 * mean + 0.3 * x.data.mean(0)
        var = 0.7 * var + 0.3 * x.data.var(0, ddof=1)
    np.testing.assert_allclose(bn.running_mean.data, mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.data, var, rtol=1e-12)
    assert bn.num_batches_tracked.dtype == np.int64 and int(bn.num_batches_tracked.data) == 3


def test_batchnorm_momentum_none_keeps_a_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None, dtype=np.float64)
    batches = [f64(4, 2, 3, seed=s) for s in range(4)]
    for x in batches:
        bn(x)
    means = [x.data.mean(axis=(0, 2)) for x in batches]
    variances = [x.data.var(axis=(0, 2), ddof=1) for x in batches]
    np.testing.assert_allclose(bn.running_mean.data, np.mean(means, axis=0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.data, np.mean(variances, axis=0), rtol=1e-12)


def test_batchnorm_eval_uses_running_statistics_and_leaves_them_alone():
    bn = nn.BatchNorm1d(3, dtype=np.float64)
    bn(f64(6, 3))
    bn.weight.data[...] = [1.0, 2.0, 3.0]
    bn.bias.data[...] = [0.0, -1.0, 1.0]
    bn.eval()
    before = {k: v.copy() for k, v in bn.state_dict().items()}
    x = f64(2, 3, seed=5)
    expected = (x.data - bn.running_mean.data) / np.sqrt(bn.running_var.data + 1e-5)
    np.testing.assert_allclose(bn(x).data, expected * bn.weight.data + bn.bias.data, rtol=1e-12)
    bn(f64(1, 3))  # a batch of one is fine in eval mode
    for k, v in bn.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_batchnorm_without_running_statistics_uses_the_batch_in_eval_mode_too():
    bn = nn.BatchNorm2d(2, track_running_stats=False, affine=False).eval()
    assert list(bn.state_dict()) == [] and list(bn.parameters()) == []
    x = f64(3, 2, 2, 2)
    np.testing.assert_allclose(bn(x).data, nn.BatchNorm2d(2, dtype=np.float64)(x).data)


def test_batchnorm_defaults_are_pytorchs():
    bn = nn.BatchNorm2d(4)
    assert (bn.eps, bn.momentum, bn.affine, bn.track_running_stats) == (1e-5, 0.1, True, True)
    assert bn.weight.data.tolist() == [1.0] * 4 and bn.bias.data.tolist() == [0.0] * 4
    assert bn.running_mean.data.tolist() == [0.0] * 4 and bn.running_var.data.tolist() == [1] * 4
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert list(bn.state_dict()) == [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    assert repr(bn) == (
        "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    )


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_batchnorm_running_statistics_are_saved_and_loaded(tmp_path, suffix):
    if suffix == ".safetensors":
        pytest.importorskip("safetensors")
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    for seed in range(3):
        model(tg.Tensor(np.random.default_rng(seed).normal(size=(8, 3)).astype(np.float32)))
    path = tmp_path / f"model{suffix}"
    tg.save(model.state_dict(), path)
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    fresh.load_state_dict(tg.load(path))
    for (name, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert int(fresh[1].num_batches_tracked.data) == 3
    x = tg.randn(5, 3)
    np.testing.assert_array_equal(model.eval()(x).data, fresh.eval()(x).data)


# --- LayerNorm ---------------------------------------------------------------------------------


def test_layer_norm_normalises_each_sample_over_its_last_axes():
    x = f64(2, 3, 4)
    norm = nn.LayerNorm((3, 4), dtype=np.float64)
    flat = x.data.reshape(2, -1)
    expected = (flat - flat.mean(1, keepdims=True)) / np.sqrt(flat.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(norm(x).data, expected.reshape(x.shape), rtol=1e-12)
    np.testing.assert_allclose(norm.eval()(x).data, expected.reshape(x.shape), rtol=1e-12)


def test_layer_norm_options():
    assert [n for n, _ in nn.LayerNorm(4).named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in nn.LayerNorm(4, bias=False).named_parameters()] == ["weight"]
    assert list(nn.LayerNorm(4, elementwise_affine=False).parameters()) == []
    assert nn.LayerNorm([2, 3]).weight.shape == (2, 3)


# --- Embedding ---------------------------------------------------------------------------------


def test_embedding_repeated_indices_accumulate():
    emb = nn.Embedding(4, 2, dtype=np.float64)
    index = np.array([[1, 1, 3], [1, 0, 3]])
    out = emb(index)
    np.testing.assert_array_equal(out.data, emb.weight.data[index])
    upstream = np.random.default_rng(0).normal(size=out.shape)
    out.backward(upstream)
    expected = np.zeros((4, 2))
    for i, row in np.ndenumerate(index):
        expected[row] += upstream[i]
    np.testing.assert_allclose(emb.weight.grad.data, expected, rtol=1e-12)
    assert tg.gradcheck(lambda w: F.embedding(index, w), [f64(4, 2)])


def test_embedding_padding_row_is_zero_and_gets_no_gradient():
    emb = nn.Embedding(5, 3, padding_idx=-1)  # negative counts from the end, as in PyTorch
    assert emb.padding_idx == 4 and not emb.weight.data[4].any()
    emb.weight.data[4] = 7.0  # a changed padding row is still looked up as it is
    out = emb([[4, 1], [1, 4]])
    assert out.data[0, 0].tolist() == [7.0] * 3
    out.sum().backward()
    assert emb.weight.grad.data[4].tolist() == [0.0] * 3
    assert emb.weight.grad.data[1].tolist() == [2.0] * 3


def test_embedding_init_is_standard_normal_from_the_library_generator():
    tg.manual_seed(3)
    a = nn.Embedding(200, 50).weight.data
    tg.manual_seed(3)
    assert np.array_equal(a, nn.Embedding(200, 50).weight.data)
    assert abs(a.mean()) < 0.02 and abs(a.std() - 1) < 0.02 and a.dtype == np.float32


def test_embedding_scalar_and_tensor_indices():
    emb = nn.Embedding(3, 2)
    assert emb(2).shape == (2,)
    assert emb(tg.tensor([0, 2])).shape == (2, 2)
    assert emb(np.zeros((0,), dtype=np.int64)).shape == (0, 2)


# --- bad input ---------------------------------------------------------------------------------

BAD = [
    (lambda: nn.BatchNorm1d(3)(tg.randn(1, 3)), "BatchNorm1d: expected more than 1 value"),
    (lambda: nn.BatchNorm2d(3)(tg.randn(1, 3, 1, 1)), r"shape \(1, 3, 1, 1\)"),
    (lambda: nn.BatchNorm2d(3)(tg.randn(2, 4, 2, 2)), r"has 4 channels.*num_features=3"),
    (lambda: nn.BatchNorm2d(3)(tg.randn(2, 3, 4)), r"BatchNorm2d: expected input of shape"),
    (lambda: nn.BatchNorm1d(3)(tg.randn(2, 3, 4, 4)), r"\(N, C\) or \(N, C, L\)"),
    (lambda: F.batch_norm(tg.randn(4, 3), None, None, training=True, weight=tg.ones(2)), "weight"),
    (lambda: F.batch_norm(tg.randn(4, 3), None, None), "running_mean and running_var are needed"),
    (lambda: F.batch_norm(tg.randn(3), None, None, training=True), r"\(N, C, \.\.\.\)"),
    (lambda: nn.BatchNorm1d(0), "num_features must be a positive int"),
    (lambda: nn.BatchNorm1d(2, momentum=1.5), "momentum must be in"),
    (lambda: nn.LayerNorm(4)(tg.randn(2, 5)), r"layer_norm: input of shape \(2, 5\) does not end"),
    (lambda: nn.LayerNorm((2, 3))(tg.randn(3)), r"does not end in normalized_shape \(2, 3\)"),
    (lambda: F.layer_norm(tg.randn(2, 3), 3, weight=tg.ones(2)), r"weight of shape \(2,\)"),
    (lambda: nn.LayerNorm(0), "normalized_shape must be a positive int"),
    (lambda: nn.Embedding(4, 2)([1, 4]), r"index 4 is out of range for weight of shape \(4, 2\)"),
    (lambda: nn.Embedding(4, 2)([[-1, 0]]), r"index -1 is out of range.*\(1, 2\)"),
    (lambda: nn.Embedding(4, 2)(np.array([1.0, 2.0])), "indices must be integers, got dtype float"),
    (lambda: nn.Embedding(4, 2)(np.array([True, False])), "indices must be integers"),
    (lambda: nn.Embedding(4, 2, padding_idx=4), "padding_idx 4 is out of range"),
    (lambda: F.embedding([0], tg.ones(3)), "weight must be a 2-D Tensor"),
    (lambda: nn.Embedding(0, 2), "num_embeddings must be a positive int"),
]


@pytest.mark.parametrize(("call", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_input_is_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_rejected_batch_is_not_counted():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError):
        bn(tg.randn(1, 3))
    assert int(bn.num_batches_tracked.data) == 0 and not bn.running_mean.data.any()
