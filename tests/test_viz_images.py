"""Image grids and confusion matrices: they draw what they are given, on the scale they say,
write PNGs headless, show in Jupyter by themselves, and explain bad input."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import viz

pytest.importorskip("matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def images_of(fig):
    return [ax for ax in fig.axes if ax.get_images()]


def test_a_conv_weight_is_a_grid_of_its_kernels_on_one_symmetric_scale(tmp_path):
    weight = tg.nn.Conv2d(1, 6, 3).weight  # (6, 1, 3, 3), a Tensor
    fig = viz.plot_images(weight, cols=4, symmetric=True, path=tmp_path / "kernels.png")
    assert (tmp_path / "kernels.png").read_bytes().startswith(PNG_MAGIC)
    shown = images_of(fig)
    assert len(shown) == 6  # 2 rows of 4, the last two cells left empty
    for k, ax in enumerate(shown):
        (image,) = ax.get_images()
        assert np.array_equal(image.get_array(), weight.numpy()[k, 0])
        assert image.get_interpolation() == "nearest"
    largest = np.abs(weight.numpy()).max()
    limits = {im.get_clim() for ax in shown for im in ax.get_images()}
    assert limits == {(-largest, largest)}  # one scale, centred on 0
    assert shown[0].get_images()[0].get_cmap().name == "RdBu_r"
    assert len(fig.axes) == 7  # the six kernels and one colour bar


def test_images_of_different_shapes_each_get_their_own_scale_when_not_shared():
    image, kernel = np.arange(16.0).reshape(4, 4), np.array([[-1.0, 1.0], [-2.0, 2.0]])
    fig = viz.plot_images([image, kernel], titles=["image", "kernel"], shared=False)
    shown = images_of(fig)
    assert [ax.get_title() for ax in shown] == ["image", "kernel"]
    assert [ax.get_images()[0].get_clim() for ax in shown] == [(0.0, 15.0), (-2.0, 2.0)]
    assert len(fig.axes) == 4  # a colour bar for each
    assert shown[0].get_images()[0].get_cmap().name == "gray_r"
    shared = images_of(viz.plot_images([image, kernel]))
    assert {ax.get_images()[0].get_clim() for ax in shared} == {(-2.0, 15.0)}


def test_a_batch_of_one_channel_images_and_a_single_image_are_accepted():
    batch = np.random.default_rng(0).random((5, 1, 8, 8))
    fig = viz.plot_images(batch, titles=list("abcde"), cols=3, title="digits")
    assert [ax.get_title() for ax in images_of(fig)] == list("abcde")
    assert fig.get_suptitle() == "digits"
    assert len(images_of(viz.plot_images(batch[0, 0]))) == 1
    constant = images_of(viz.plot_images(np.ones((2, 3, 3))))  # no range: still a scale
    assert constant[0].get_images()[0].get_clim() == (0.5, 1.5)


def test_figures_show_in_jupyter_by_themselves():
    png = viz.plot_images(np.eye(3))._repr_png_()
    assert png.startswith(PNG_MAGIC)
    assert viz.plot_confusion_matrix([0, 1], [0, 1])._repr_png_().startswith(PNG_MAGIC)


@pytest.mark.parametrize(
    "images, kwargs, error, message",
    [
        (np.zeros((2, 3, 4, 4)), {}, ValueError, r"got shape \(2, 3, 4, 4\); pick one channel"),
        (np.zeros(5), {}, ValueError, r"expected images of shape .* got shape \(5,\)"),
        (np.zeros((0, 4, 4)), {}, ValueError, r"with N >= 1"),
        ([np.zeros((2, 2)), np.zeros(3)], {}, ValueError, r"got shapes \[\(2, 2\), \(3,\)\]"),
        ([], {}, ValueError, r"at least one 2-D array"),
        (np.zeros((2, 0, 3)), {}, ValueError, r"an image of shape \(0, 3\) has no pixels"),
        (np.array([["a"]]), {}, TypeError, r"images must be numbers, got dtype <U1"),
        (np.zeros((2, 3, 3)), {"titles": ["one"]}, ValueError, r"got 1 titles for 2 images"),
        (np.zeros((2, 3, 3)), {"cols": 0}, ValueError, r"cols must be a positive int, got 0"),
        (np.zeros((2, 3, 3)), {"size": 0}, ValueError, r"size must be a positive number"),
    ],
)
def test_plot_images_errors_name_it_and_the_shapes(images, kwargs, error, message):
    with pytest.raises(error, match="plot_images: .*" + message):
        viz.plot_images(images, **kwargs)


def test_the_confusion_matrix_shows_the_counts_and_writes_the_mistakes_in(tmp_path):
    logits = np.array([[3.0, 0, 0], [0, 2.0, 0], [0, 2.0, 0], [0, 0, 1.0], [0, 0, 1.0]])
    labels = np.array([0, 1, 2, 2, 2])  # one 2 taken for a 1
    fig = viz.plot_confusion_matrix(logits, labels, path=tmp_path / "confusion.png")
    assert (tmp_path / "confusion.png").read_bytes().startswith(PNG_MAGIC)
    ax = fig.axes[0]
    assert ax.get_title() == "confusion matrix: 4 of 5 right (80.0%)"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    (image,) = ax.get_images()
    shares = np.array([[1, 0, 0], [0, 1, 0], [0, 1 / 3, 2 / 3]])  # each row: its true class
    assert np.allclose(image.get_array(), shares)
    written = {(t.get_position(), t.get_text()) for t in ax.texts}
    assert written == {((0, 0), "1"), ((1, 1), "1"), ((1, 2), "1"), ((2, 2), "2")}
    named = viz.plot_confusion_matrix(logits, labels, class_names=["cat", "dog", "eel"])
    assert [t.get_text() for t in named.axes[0].get_xticklabels()] == ["cat", "dog", "eel"]


def test_confusion_matrix_errors_come_from_the_metric():
    with pytest.raises(ValueError, match=r"confusion_matrix: .* disagree"):
        viz.plot_confusion_matrix(np.zeros((2, 3)), [0, 1], class_names=["a", "b"])


def test_image_plots_without_matplotlib_say_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"plot_images needs matplotlib: pip install"):
        viz.plot_images(np.eye(2))
    with pytest.raises(ImportError, match=r"plot_confusion_matrix needs matplotlib"):
        viz.plot_confusion_matrix([0], [0])
