"""The notebooks: committed without outputs, and each runs top to bottom in a fresh kernel (with
a few epochs per training run) and shows a picture in every cell meant to show one."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PICTURES = ("image/png", "image/gif", "image/svg+xml")
# Every training run in a notebook takes at most EPOCHS epochs: 20 instead of the spiral's
# 10001, 2 instead of the digits CNN's 10 (at 20 it would run in full).
SHORT_EPOCHS = {"04_convolutional_networks": "2"}


def test_the_notebooks_are_there():
    assert [p.stem for p in NOTEBOOKS] == [
        "01_neural_networks_from_scratch",
        "02_computational_graphs",
        "03_optimizers_side_by_side",
        "04_convolutional_networks",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebooks_carry_no_outputs(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, cell["source"]
    assert "widgets" not in notebook["metadata"]  # no saved widget state either
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"


def shows_a_picture(output: dict) -> bool:
    data = output.get("data", {})
    html = data.get("text/html", "")
    return any(kind in data for kind in PICTURES) or "<svg" in html or "<img" in html


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom_and_shows_its_pictures(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    monkeypatch.setenv("EPOCHS", SHORT_EPOCHS.get(path.stem, "20"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # the kernel inherits MPLBACKEND=Agg from the test run: pictures must show regardless
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    tagged = [c for c in notebook.cells if c.metadata.get("expect") == "picture"]
    assert tagged, "each notebook marks the cells that must show a picture"
    for cell in tagged:
        assert any(shows_a_picture(o) for o in cell.outputs), cell.source
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]  # fmt: skip
    assert errors == []
    if path.stem in SHORT_EPOCHS:  # and the shortened run was short
        printed = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code"
                          for o in c.outputs)  # fmt: skip
        assert f"{SHORT_EPOCHS[path.stem]} epochs in" in printed
