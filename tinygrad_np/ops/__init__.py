"""Every differentiable op, forward and backward side by side, one class each.

Each ``backward`` returns gradients of the output's shape (or the input's); the engine sums
them back over broadcast axes (``autograd.unbroadcast``). Backward bodies use only operators,
methods that arrays and Tensors share, and the functions of ``tnp``, so the same code runs on
plain arrays and on Tensors when ``create_graph=True`` asks for a graph of the gradient.
Forward bodies get their array functions from ``array_module``, so another NumPy-like engine
can stand in. Each class also says where it is checked; ``registry()`` lists them all.

Ops are grouped by kind, one module each: ``elementwise`` (unary and binary), ``reduce``,
``movement``, ``linalg`` (matmul, the fused dense layer) and ``softmax`` (with cross-entropy).
"""

from tinygrad_np.function import registry
from tinygrad_np.ops import tnp
from tinygrad_np.ops.common import normalize_axis, normalize_index
from tinygrad_np.ops.elementwise import (
    Abs,
    Add,
    Cast,
    Clip,
    Div,
    Exp,
    Log,
    Maximum,
    Minimum,
    Mul,
    Neg,
    Pow,
    Relu,
    Sigmoid,
    Sqrt,
    Sub,
    Tanh,
    Where,
    maximum,
    minimum,
    where,
)
from tinygrad_np.ops.linalg import Linear, Matmul, linear
from tinygrad_np.ops.movement import (
    Concatenate,
    Expand,
    Getitem,
    Reshape,
    ScatterAdd,
    Stack,
    Transpose,
    concatenate,
    stack,
)
from tinygrad_np.ops.reduce import Max, Mean, Min, Sum
from tinygrad_np.ops.softmax import (
    CrossEntropy,
    LogSoftmax,
    Softmax,
    check_class_targets,
    check_reduction,
    cross_entropy,
)

__all__ = [
    "Abs",
    "Add",
    "Cast",
    "Clip",
    "Concatenate",
    "CrossEntropy",
    "Div",
    "Exp",
    "Expand",
    "Getitem",
    "Linear",
    "Log",
    "LogSoftmax",
    "Matmul",
    "Max",
    "Maximum",
    "Mean",
    "Min",
    "Minimum",
    "Mul",
    "Neg",
    "Pow",
    "Relu",
    "Reshape",
    "ScatterAdd",
    "Sigmoid",
    "Softmax",
    "Sqrt",
    "Stack",
    "Sub",
    "Sum",
    "Tanh",
    "Transpose",
    "Where",
    "check_class_targets",
    "check_reduction",
    "concatenate",
    "cross_entropy",
    "linear",
    "maximum",
    "minimum",
    "normalize_axis",
    "normalize_index",
    "registry",
    "stack",
    "tnp",
    "where",
]
