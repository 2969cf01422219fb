"""Every differentiable op, forward and backward side by side, one class each.

Each ``backward`` returns gradients of the output's shape (or the input's); the engine sums
them back over broadcast axes (``autograd.unbroadcast``). Backward bodies use only operators,
methods that arrays and Tensors share, and the functions of ``tnp``, so the same code runs on
plain arrays and on Tensors when ``create_graph=True`` asks for a graph of the gradient.
Forward bodies get their array functions from ``array_module``, so another NumPy-like engine
can stand in. Each class also says where it is checked; ``registry()`` lists them all.

Ops are grouped by kind, one module each: ``elementwise`` (unary and binary), ``reduce``,
``movement``, ``linalg`` (matmul, the fused dense layer), ``softmax`` (with cross-entropy),
``pad``, ``conv`` (unfold, fold and convolution) and ``pool``.
"""

from tinygrad_np.function import registry
from tinygrad_np.ops import tnp
from tinygrad_np.ops.common import normalize_axis, normalize_index
from tinygrad_np.ops.conv import Conv1d, Conv2d, Fold, Unfold, conv1d, conv2d
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
from tinygrad_np.ops.pad import Pad, pad
from tinygrad_np.ops.pool import AvgPool2d, MaxPool2d, avg_pool2d, max_pool2d
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
    "AvgPool2d",
    "Cast",
    "Clip",
    "Concatenate",
    "Conv1d",
    "Conv2d",
    "CrossEntropy",
    "Div",
    "Exp",
    "Expand",
    "Fold",
    "Getitem",
    "Linear",
    "Log",
    "LogSoftmax",
    "Matmul",
    "Max",
    "MaxPool2d",
    "Maximum",
    "Mean",
    "Min",
    "Minimum",
    "Mul",
    "Neg",
    "Pad",
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
    "Unfold",
    "Where",
    "avg_pool2d",
    "check_class_targets",
    "check_reduction",
    "concatenate",
    "conv1d",
    "conv2d",
    "cross_entropy",
    "linear",
    "max_pool2d",
    "maximum",
    "minimum",
    "normalize_axis",
    "normalize_index",
    "pad",
    "registry",
    "stack",
    "tnp",
    "where",
]
