"""Autograd against hand-derived gradients: check a derivation, a training run, or one op.

- ``compare_layer(hand_layer, autograd_layer, inputs)``: a book-style layer (``forward`` sets
  ``.output``, ``backward`` sets ``.dinputs``/``.dweights``/``.dbiases``) against a ``tg.nn``
  module, a ``tg.Function`` or any function of Tensors, on the same numbers; a table of
  max abs/rel differences per quantity. ``compare_loss`` does the same for a loss.
- ``compare_training(hand_step, autograd_step, steps)``: two trainings side by side; the
  first step and parameter where they part. ``spiral_models()`` builds the book's spiral
  classifier both ways, from the same initial weights.
- ``find_wrong_op(loss)``: checks every op of a recorded graph against finite differences of
  its own forward and names the first op whose backward is wrong.
- ``exercise(tg.ops.Exp, my_backward)``: swap your backward into a built-in op for a while
  and have it checked on random inputs.
"""

from __future__ import annotations

from tinygrad_np.compare.exercise import ExerciseError, ExerciseReport, exercise
from tinygrad_np.compare.graph import GraphReport, find_wrong_op
from tinygrad_np.compare.layers import compare_layer, compare_loss
from tinygrad_np.compare.opcheck import OpCheck, check_op
from tinygrad_np.compare.report import ComparisonError, ComparisonReport, Difference
from tinygrad_np.compare.spiral import AutogradSpiral, HandSpiral, spiral_models
from tinygrad_np.compare.training import Divergence, Step, TrainingReport, compare_training

__all__ = [
    "AutogradSpiral",
    "ComparisonError",
    "ComparisonReport",
    "Difference",
    "Divergence",
    "ExerciseError",
    "ExerciseReport",
    "GraphReport",
    "HandSpiral",
    "OpCheck",
    "Step",
    "TrainingReport",
    "check_op",
    "compare_layer",
    "compare_loss",
    "compare_training",
    "exercise",
    "find_wrong_op",
    "spiral_models",
]
