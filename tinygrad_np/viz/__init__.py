"""Seeing what autograd does: graph drawings, a backward you can step through, training plots.

- ``to_dot(tensor)`` / ``draw_graph(tensor)``: the computation graph (Graphviz), with shapes,
  values and gradients; ``record_modules(model)`` lets a drawing show each layer as one box.
- ``trace(loss)``: runs backward and tabulates every chain-rule step (an HTML table in Jupyter).
- ``backward_steps(loss)``: runs backward and gives one picture per op, in backward order (a
  slider in Jupyter; ``save_gif``, ``save_svgs``).
- ``plot_data(X, y)``, ``plot_history(history)``, ``plot_histories({name: history})``,
  ``plot_decision_boundary(model, X, y)``, ``plot_decision_boundaries({name: model}, X, y)``:
  matplotlib figures, shown inline in Jupyter without any magic.
- ``plot_images(images)``, ``plot_confusion_matrix(predictions, targets)``: a grid of small
  images (inputs, convolution kernels, feature maps) on one colour scale; which class is
  taken for which.
- ``animate_training(...)`` / ``TrainingAnimation``: the decision regions and the loss curve
  evolving over training, as a GIF or a player in Jupyter.

``to_dot`` and ``trace`` need nothing beyond NumPy; ``draw_graph`` and ``backward_steps``'s
pictures need the ``graphviz`` package and Graphviz's ``dot`` program, the plots matplotlib,
GIFs Pillow (``pip install tinygrad-np[viz]``).
"""

from __future__ import annotations

from tinygrad_np.viz.animate import TrainingAnimation, animate_training
from tinygrad_np.viz.graph import draw_graph, to_dot
from tinygrad_np.viz.images import plot_confusion_matrix, plot_images
from tinygrad_np.viz.modules import ModuleCall, record_modules
from tinygrad_np.viz.plots import (
    plot_data,
    plot_decision_boundaries,
    plot_decision_boundary,
    plot_histories,
    plot_history,
)
from tinygrad_np.viz.steps import BackwardFrame, BackwardSteps, backward_steps
from tinygrad_np.viz.trace import BackwardStep, BackwardTrace, GradientSent, trace

__all__ = [
    "BackwardFrame",
    "BackwardStep",
    "BackwardSteps",
    "BackwardTrace",
    "GradientSent",
    "ModuleCall",
    "TrainingAnimation",
    "animate_training",
    "backward_steps",
    "draw_graph",
    "plot_confusion_matrix",
    "plot_data",
    "plot_decision_boundaries",
    "plot_decision_boundary",
    "plot_histories",
    "plot_history",
    "plot_images",
    "record_modules",
    "to_dot",
    "trace",
]
