"""tinygrad_np: a small, readable reverse-mode autodiff framework on NumPy.

>>> import tinygrad_np as tg
>>> w = tg.tensor([[0.5], [-1.0]], requires_grad=True)
>>> loss = (tg.tensor([[1.0, 2.0]]) @ w).relu().sum()
>>> loss.backward(); w.grad.numpy().ravel().tolist()
[0.0, 0.0]
"""

from tinygrad_np import (
    autograd,
    compare,
    data,
    interop,
    metrics,
    nn,
    optim,
    reference,
    train,
    viz,
)
from tinygrad_np.autograd import enable_grad, is_grad_enabled, no_grad
from tinygrad_np.compare import exercise, find_wrong_op
from tinygrad_np.compiler import JitError, JitWarning, jit
from tinygrad_np.factory import arange, ones, ones_like, randn, tensor, zeros, zeros_like
from tinygrad_np.function import Function, once_differentiable
from tinygrad_np.gradcheck import GradcheckError, gradcheck, gradgradcheck
from tinygrad_np.io import load, save
from tinygrad_np.ops import concatenate, cross_entropy, linear, maximum, minimum, stack, where
from tinygrad_np.rng import manual_seed
from tinygrad_np.runtime import get_num_threads, set_num_threads, tune_malloc
from tinygrad_np.tensor import Tensor

__version__ = "0.1.0"

__all__ = [
    "Function",
    "GradcheckError",
    "JitError",
    "JitWarning",
    "Tensor",
    "arange",
    "autograd",
    "compare",
    "concatenate",
    "cross_entropy",
    "data",
    "enable_grad",
    "exercise",
    "find_wrong_op",
    "gradcheck",
    "get_num_threads",
    "gradgradcheck",
    "interop",
    "is_grad_enabled",
    "jit",
    "linear",
    "load",
    "manual_seed",
    "maximum",
    "metrics",
    "minimum",
    "nn",
    "no_grad",
    "once_differentiable",
    "ones",
    "ones_like",
    "optim",
    "randn",
    "reference",
    "save",
    "set_num_threads",
    "stack",
    "tensor",
    "train",
    "tune_malloc",
    "viz",
    "where",
    "zeros",
    "zeros_like",
]
