"""Docstring examples that need an optional extra are skipped when it is not installed."""

from __future__ import annotations

import importlib.util

import pytest

# doctest name prefix -> the package its example needs (from the `viz` or `digits` extras)
NEEDS = {
    "tinygrad_np.viz.graph.draw_graph": "graphviz",
    "tinygrad_np.viz.plots": "matplotlib",
    "tinygrad_np.viz.animate.TrainingAnimation": "matplotlib",
    "tinygrad_np.viz.animate.animate_training": "matplotlib",
    "tinygrad_np.data.load_digits": "sklearn",
    "tinygrad_np.io_safetensors": "safetensors",
    "tinygrad_np.interop": "torch",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if not isinstance(item, pytest.DoctestItem):
            continue
        for prefix, package in NEEDS.items():
            if item.name.startswith(prefix) and importlib.util.find_spec(package) is None:
                item.add_marker(pytest.mark.skip(reason=f"needs {package} (an optional extra)"))
