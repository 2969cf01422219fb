"""Every registered op's value and gradients against its PyTorch counterpart (``op.torch``),
in float64 over the op's own sampled inputs, when PyTorch is installed (never required)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_np import ops
from tinygrad_np.testing import HypothesisDraw, check_against_torch

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    "op", [op for op in ops.registry() if op.torch is not None], ids=lambda op: op.__name__
)
@given(data=st.data())
def test_op_matches_torch(op, data):
    check_against_torch(op, HypothesisDraw(data, op), torch)
