"""Seeing what autograd does: graph drawings, a backward trace, training plots.

- ``to_dot(tensor)`` / ``draw_graph(tensor)``: the computation graph (Graphviz), with shapes,
  values and gradients; ``record_modules(model)`` lets a drawing show each layer as one box.
- ``trace(loss)``: runs backward and tabulates every chain-rule step.
- ``plot_history(history)`` / ``plot_decision_boundary(model, X, y)``: matplotlib figures.

``to_dot`` and ``trace`` need nothing beyond NumPy; ``draw_graph`` needs the ``graphviz``
package and the plots need matplotlib (``pip install tinygrad-np[viz]``).
"""

from __future__ import annotations

from tinygrad_np.viz.graph import draw_graph, to_dot
from tinygrad_np.viz.modules import ModuleCall, record_modules
from tinygrad_np.viz.plots import plot_decision_boundary, plot_history
from tinygrad_np.viz.trace import BackwardStep, BackwardTrace, GradientSent, trace

__all__ = [
    "BackwardStep",
    "BackwardTrace",
    "GradientSent",
    "ModuleCall",
    "draw_graph",
    "plot_decision_boundary",
    "plot_history",
    "record_modules",
    "to_dot",
    "trace",
]
