"""A MkDocs hook: run every notebook at build time, keeping no widget state.

mkdocs-jupyter can execute notebooks itself, but it saves the state of every ipywidget, and
a page then renders the backward step-through's slider from that state with JavaScript
fetched from a CDN; the pictures the step-through also provides (as ``text/html``, for
viewers without widgets) are dropped. Executed here with nbclient and no widget state, the
page shows those pictures, every frame one under the other. A cell that fails fails the
build.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import mkdocs.plugins
import nbformat
from nbclient import NotebookClient

_EXECUTED = Path(tempfile.mkdtemp(prefix="tinygrad-np-notebooks-"))


@mkdocs.plugins.event_priority(100)  # before mkdocs-jupyter takes the notebooks over
def on_files(files: Any, config: Any) -> Any:
    for file in files:
        if not file.src_uri.endswith(".ipynb") or file.abs_src_path is None:
            continue
        source = Path(file.abs_src_path)
        notebook = nbformat.read(source, as_version=4)
        client = NotebookClient(
            notebook,
            timeout=600,
            kernel_name="python3",
            store_widget_state=False,
            resources={"metadata": {"path": str(source.parent)}},  # run where it lives
        )
        client.execute()
        target = _EXECUTED / file.src_uri
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        # mkdocs-jupyter renders the executed copy: its wrapper recomputes the path from
        # src_dir, so both change
        file.src_dir = str(_EXECUTED)
        file.abs_src_path = str(target)
    return files
