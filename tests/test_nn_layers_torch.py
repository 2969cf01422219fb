"""The layers beyond the MLP against PyTorch, in float64 over random shapes: outputs, the
gradients of the input and of every parameter, and the buffers, when PyTorch is installed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np import nn

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # tiny tensors: threads only contend with other work on the machine
TOL = dict(rtol=1e-9, atol=1e-11)


def _same_state(ours, theirs):
    """Copy our parameters and buffers into the torch layer (names are PyTorch's)."""
    state = {k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state, strict=True)


def _randomise(layer, rng):
    for p in layer.parameters():
        p.data[...] = rng.normal(size=p.shape)


def check_step(ours, theirs, x, rng, float_input=True):
    """One forward and backward through both layers: outputs, input and parameter gradients,
    then the buffers, all equal."""
    xo = tg.Tensor(x.copy(), requires_grad=float_input)
    xt = torch.tensor(x, requires_grad=float_input)
    out, expected = ours(xo), theirs(xt)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), **TOL, err_msg="output")
    upstream = rng.normal(size=out.shape)
    out.backward(upstream)
    expected.backward(torch.from_numpy(upstream))
    if float_input:
        np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), **TOL, err_msg="input grad")
    torch_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        if p.requires_grad:
            np.testing.assert_allclose(
                p.grad.data, torch_params[name].grad.numpy(), **TOL, err_msg=f"{name} grad"
            )
    torch_buffers = dict(theirs.named_buffers())
    for name, b in ours.named_buffers():
        np.testing.assert_allclose(b.data, torch_buffers[name].numpy(), **TOL, err_msg=name)
    ours.zero_grad()
    theirs.zero_grad()


@pytest.mark.parametrize("kind", ["BatchNorm1d", "BatchNorm2d"])
@given(
    n=st.integers(1, 4),
    c=st.integers(1, 3),
    side=st.integers(1, 3),
    momentum=st.sampled_from([0.1, None, 0.5]),
    affine=st.booleans(),
    track=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_batchnorm_matches_torch_in_training_and_eval(
    kind, n, c, side, momentum, affine, track, seed
):
    rng = np.random.default_rng(seed)
    spatial = (side, side + 1) if kind == "BatchNorm2d" else [(), (side,)][seed % 2]
    if n * np.prod(spatial, dtype=int) < 2:
        n = 2  # training needs more than one value per channel (an error, tested elsewhere)
    settings = dict(momentum=momentum, affine=affine, track_running_stats=track)
    ours = getattr(nn, kind)(c, dtype=np.float64, **settings)
    theirs = getattr(torch.nn, kind)(c, dtype=torch.float64, **settings)
    _randomise(ours, rng)
    _same_state(ours, theirs)
    for _ in range(3):  # the running statistics move each step
        check_step(ours, theirs, rng.normal(1.0, 2.0, (n, c, *spatial)), rng)
    ours.eval()
    theirs.eval()
    # with running statistics a batch of one is fine; without, eval uses the batch's
    check_step(ours, theirs, rng.normal(size=(1 if track else n, c, *spatial)), rng)


@given(
    shape=st.sampled_from([(3, 4), (2, 3, 4), (2, 1, 5), (4,)]),
    k=st.integers(1, 2),
    affine=st.booleans(),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_layernorm_matches_torch(shape, k, affine, bias, seed):
    rng = np.random.default_rng(seed)
    normalized = shape[-k:]
    settings = dict(elementwise_affine=affine, bias=bias, eps=1e-5)
    ours = nn.LayerNorm(normalized, dtype=np.float64, **settings)
    theirs = torch.nn.LayerNorm(normalized, dtype=torch.float64, **settings)
    _randomise(ours, rng)
    _same_state(ours, theirs)
    check_step(ours, theirs, rng.normal(size=shape), rng)


@given(
    num=st.integers(1, 6),
    dim=st.integers(1, 4),
    index_shape=st.sampled_from([(5,), (2, 3), (), (3, 1, 2)]),
    padding=st.sampled_from([None, 0, -1]),
    seed=st.integers(0, 2**16),
)
def test_embedding_matches_torch_with_repeated_indices(num, dim, index_shape, padding, seed):
    rng = np.random.default_rng(seed)
    ours = nn.Embedding(num, dim, padding_idx=padding, dtype=np.float64)
    theirs = torch.nn.Embedding(num, dim, padding_idx=padding, dtype=torch.float64)
    _same_state(ours, theirs)
    index = rng.integers(0, num, index_shape)  # few rows, so indices repeat
    check_step(ours, theirs, index, rng, float_input=False)


def test_default_initialisations_have_pytorchs_shapes_and_statistics():
    tg.manual_seed(0)
    for ours, theirs in [
        (nn.BatchNorm1d(5), torch.nn.BatchNorm1d(5)),
        (nn.BatchNorm2d(5, momentum=None), torch.nn.BatchNorm2d(5, momentum=None)),
        (nn.LayerNorm((2, 3)), torch.nn.LayerNorm((2, 3))),
    ]:
        expected = theirs.state_dict()
        assert list(ours.state_dict()) == list(expected)
        for name, value in ours.state_dict().items():
            np.testing.assert_array_equal(value, expected[name].numpy(), err_msg=name)
            assert value.dtype == expected[name].numpy().dtype, name
    weight = nn.Embedding(300, 40).weight.data
    assert weight.shape == torch.nn.Embedding(300, 40).weight.shape
    assert abs(weight.std() - 1.0) < 0.02


@pytest.mark.parametrize("kind", ["Conv1d", "Conv2d"])
@given(
    groups=st.sampled_from([1, 2]),
    c=st.integers(1, 2),
    o=st.integers(1, 2),
    kernel=st.integers(1, 3),
    stride=st.integers(1, 2),
    padding=st.sampled_from([0, 1, "same", "valid"]),
    dilation=st.integers(1, 2),
    bias=st.booleans(),
    padding_mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]),
    seed=st.integers(0, 2**16),
)
def test_conv_matches_torch(
    kind, groups, c, o, kernel, stride, padding, dilation, bias, padding_mode, seed
):
    rng = np.random.default_rng(seed)
    if padding == "same":
        stride = 1
    n = 1 if kind == "Conv1d" else 2
    settings = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias,
                    padding_mode=padding_mode)  # fmt: skip
    c, o = c * groups, o * groups
    ours = getattr(nn, kind)(c, o, kernel, dtype=np.float64, **settings)
    theirs = getattr(torch.nn, kind)(c, o, kernel, dtype=torch.float64, **settings)
    assert repr(ours) == repr(theirs)
    _same_state(ours, theirs)
    size = dilation * (kernel - 1) + 2 + seed % 3  # reflect needs padding < size
    batch = () if seed % 4 == 0 else (2,)  # unbatched inputs too
    check_step(ours, theirs, rng.normal(size=(*batch, c) + (size,) * n), rng)


@pytest.mark.parametrize("kind", ["MaxPool2d", "AvgPool2d"])
@given(
    kernel=st.sampled_from([1, 2, 3, (2, 3)]),
    stride=st.sampled_from([None, 1, 2, (1, 2)]),
    padding=st.integers(0, 1),
    extra=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_pooling_matches_torch(kind, kernel, stride, padding, extra, seed):
    rng = np.random.default_rng(seed)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    padding = min(padding, kh // 2, kw // 2)
    settings = dict(stride=stride, padding=padding)
    if kind == "MaxPool2d":
        settings["dilation"] = 2 if extra and 2 * (kh - 1) + 1 >= 2 * padding else 1
    else:
        settings["count_include_pad"] = extra
    ours = getattr(nn, kind)(kernel, **settings)
    theirs = getattr(torch.nn, kind)(kernel, **settings)
    assert repr(ours) == repr(theirs)
    x = rng.permutation(2 * 3 * 6 * 7).reshape(2, 3, 6, 7) / 10.0  # distinct: no ties in max
    check_step(ours, theirs, x, rng)


def test_conv_initialisation_has_pytorchs_bounds():
    tg.manual_seed(0)
    for ours, theirs in [
        (nn.Conv2d(6, 8, (3, 5), groups=2), torch.nn.Conv2d(6, 8, (3, 5), groups=2)),
        (nn.Conv1d(4, 30, 7), torch.nn.Conv1d(4, 30, 7)),
    ]:
        for name, value in ours.state_dict().items():
            expected = theirs.state_dict()[name].numpy()
            assert value.shape == expected.shape and value.dtype == expected.dtype
            bound = 1 / np.sqrt(np.prod(ours.weight.shape[1:]))
            assert np.abs(value).max() <= bound and np.abs(expected).max() <= bound
            assert np.abs(value).max() > 0.8 * bound  # uniform over the whole range


ACTIVATIONS = [
    (lambda: nn.GELU(), lambda: torch.nn.GELU()),
    (lambda: nn.GELU(approximate="tanh"), lambda: torch.nn.GELU(approximate="tanh")),
    (lambda: nn.ELU(), lambda: torch.nn.ELU()),
    (lambda: nn.ELU(alpha=0.5), lambda: torch.nn.ELU(alpha=0.5)),
    (lambda: nn.SELU(), lambda: torch.nn.SELU()),
    (lambda: nn.SiLU(), lambda: torch.nn.SiLU()),
    (lambda: nn.Softplus(), lambda: torch.nn.Softplus()),
    (lambda: nn.Softplus(beta=2.0, threshold=3.0), lambda: torch.nn.Softplus(2.0, 3.0)),
]


@pytest.mark.parametrize(("ours", "theirs"), ACTIVATIONS, ids=lambda f: repr(f()))
@given(shape=st.sampled_from([(5,), (2, 3), (2, 3, 4)]), seed=st.integers(0, 2**16))
def test_activation_modules_match_torch(ours, theirs, shape, seed):
    ours, theirs = ours(), theirs()
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 3.0, shape)
    x[np.abs(x) < 1e-3] = 0.5  # off the kink of elu at 0
    if isinstance(ours, nn.Softplus):  # off the switch at beta * x = threshold
        x[np.abs(ours.beta * x - ours.threshold) < 1e-3] = 0.0
    check_step(ours, theirs, x, rng)
