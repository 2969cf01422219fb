"""Jupyter's rich display: figures as images without magics, tensors, traces and histories
as HTML tables."""

from __future__ import annotations

import io

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import viz
from tinygrad_np.history import History

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def jupyter_formats(obj) -> dict:
    """What IPython's display machinery would send to the notebook for ``obj``."""
    formatters = pytest.importorskip("IPython.core.formatters")
    data, _ = formatters.DisplayFormatter().format(obj)
    return data


# --- figures -------------------------------------------------------------------------------


def test_plots_display_as_png_images_without_any_magic():
    pytest.importorskip("matplotlib")
    import matplotlib

    backend = matplotlib.get_backend()
    X = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    figures = [
        viz.plot_history({"loss": [1.0, 0.5]}),
        viz.plot_decision_boundary(lambda t: t, X, [0, 1], resolution=10),
        viz.plot_decision_boundaries({"a": lambda t: t}, X, [0, 1], resolution=10),
        viz.plot_histories({"a": {"loss": [1.0, 0.5]}}),
        viz.plot_data(X, [0, 1]),
    ]
    for fig in figures:
        data = jupyter_formats(fig)
        assert data["image/png"].startswith(PNG_MAGIC)
    assert matplotlib.get_backend() == backend  # the user's backend is left alone
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []  # not registered with pyplot: never shown twice


def test_the_learning_rate_axis_has_no_offset_label():
    pytest.importorskip("matplotlib")
    lr = [0.02 / (1 + 5e-7 * step) for step in range(0, 10001, 1000)]  # Adam's book decay
    fig = viz.plot_history({"loss": np.linspace(1, 0.1, len(lr)).tolist(), "lr": lr})
    fig.savefig(io.BytesIO(), format="png")  # lays out and draws the tick labels
    loss_ax, lr_ax = fig.axes
    assert lr_ax.yaxis.get_offset_text().get_text() == ""
    assert loss_ax.yaxis.get_offset_text().get_text() == ""
    assert lr_ax.get_title() == "learning rate (0.02 → 0.0199)"
    assert lr_ax.get_ylim()[0] == 0  # a rate that hardly decays is drawn flat, from 0
    labels = [t.get_text() for t in lr_ax.get_yticklabels()]
    assert all(len(t) <= 8 for t in labels)  # plain numbers such as 0.0150


def test_plot_histories_puts_every_run_on_one_axis_and_names_a_missing_metric():
    pytest.importorskip("matplotlib")
    fig = viz.plot_histories(
        {"sgd": {"loss": [1.0, 0.9, 0.8]}, "adam": History({"loss": [1.0, 0.1, 0.01]})}
    )
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.get_lines()] == ["sgd", "adam"]
    assert ax.get_yscale() == "log"  # losses spanning 100x
    with pytest.raises(ValueError, match="'adam' has no 'accuracy'"):
        viz.plot_histories({"adam": {"loss": [1.0]}}, metric="accuracy")
    with pytest.raises(TypeError, match="plot_histories"):
        viz.plot_histories([])


def test_plot_decision_boundaries_draws_one_panel_per_model_in_a_grid():
    pytest.importorskip("matplotlib")
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    models = {f"m{k}": (lambda t: t) for k in range(4)}
    fig = viz.plot_decision_boundaries(models, X, [0, 1, 0], resolution=10, cols=3)
    assert len(fig.axes) == 4
    assert fig.axes[3].get_subplotspec().rowspan.start == 1  # the fourth starts row two
    with pytest.raises(ValueError, match=r"plot_decision_boundaries: X must have shape"):
        viz.plot_decision_boundaries(models, np.zeros((3, 3)), [0, 1, 0])


# --- tensors ----------------------------------------------------------------------------------


def test_a_tensor_shows_shape_dtype_grad_fn_and_its_values():
    x = tg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    leaf = jupyter_formats(x)["text/html"]
    assert "shape (1, 3)" in leaf and "dtype float32" in leaf and "requires_grad=True" in leaf
    assert leaf.count("<td") == 1 + 3  # the row label and three values
    y = x * 2
    html = y._repr_html_()
    assert "grad_fn=&lt;mul&gt;" in html and ">6</td>" in html


def test_a_big_tensor_is_cut_and_a_3d_one_printed():
    big = tg.Tensor(np.arange(400.0).reshape(20, 20))
    html = big._repr_html_()
    assert "…" in html and "⋮" in html and ">399</td>" in html and ">200</td>" not in html
    cube = tg.Tensor(np.zeros((2, 2, 2)))
    assert "<pre>" in cube._repr_html_()
    scalar = tg.tensor(3.5)
    assert "<code>3.5</code>" in scalar._repr_html_()


def test_tensor_names_are_escaped():
    t = tg.tensor([1.0])
    t.name = "<b>x</b>"
    assert "&lt;b&gt;x&lt;/b&gt;" in t._repr_html_()


# --- traces and histories ------------------------------------------------------------------


def test_the_backward_trace_is_an_html_table_in_jupyter():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    w = tg.tensor([3.0, 4.0], requires_grad=True)
    x.name, w.name = "x", "w"
    tr = viz.trace((x * w).sum())
    html = jupyter_formats(tr)["text/html"]
    assert html.count("<tr>") == 1 + 3 + 1 + 2  # head, 3 gradients sent, leaf head, 2 leaves
    assert "grad sent: norm" in html and "[0] x" in html and "[3, 4]" in html


def test_history_has_a_table_and_a_plot(tmp_path):
    h = History(
        {"epoch": [1, 2, 3], "loss": [1.0, 0.4, 0.5], "accuracy": [0.2, 0.9, 0.8],
         "lr": [0.1, 0.05, 0.01]}
    )  # fmt: skip
    html = jupyter_formats(h)["text/html"]
    rows = {r.split("</td>")[0].rsplit(">", 1)[1]: r for r in html.split("<tr>")[2:]}
    assert set(rows) == {"loss", "accuracy", "lr"}
    assert ">0.4</td>" in rows["loss"] and ">2</td>" in rows["loss"]  # best loss, at epoch 2
    assert ">0.9</td>" in rows["accuracy"]  # the best accuracy is the highest
    assert "<b>History</b>: no epochs" in History()._repr_html_()
    pytest.importorskip("matplotlib")
    fig = h.plot(tmp_path / "h.png")
    assert [ax.get_title() for ax in fig.axes][0] == "loss"
    assert (tmp_path / "h.png").read_bytes().startswith(PNG_MAGIC)
