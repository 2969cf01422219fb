"""The documentation site's sources: every public module has a reference page, the notebooks
are in the navigation, docstring examples become code blocks, and the README's figures are
written by the script that measures them."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_MODULES = [
    "tinygrad_np.tensor", "tinygrad_np.autograd", "tinygrad_np.function", "tinygrad_np.gradcheck",
    "tinygrad_np.nn", "tinygrad_np.optim", "tinygrad_np.data", "tinygrad_np.metrics",
    "tinygrad_np.train", "tinygrad_np.history", "tinygrad_np.checkpoint", "tinygrad_np.io",
    "tinygrad_np.reference", "tinygrad_np.compare", "tinygrad_np.testing", "tinygrad_np.viz",
]  # fmt: skip


def reference_targets() -> dict[str, str]:
    """``::: target`` directive -> the page it is on."""
    found = {}
    for page in sorted((ROOT / "docs" / "reference").glob("*.md")):
        for target in re.findall(r"^::: (\S+)", page.read_text(encoding="utf-8"), re.M):
            found[target] = page.name
    return found


def test_every_public_module_has_a_reference_page():
    targets = reference_targets()
    for module in PUBLIC_MODULES:
        assert any(t == module or t.startswith(module + ".") for t in targets), module
    for target in targets:  # and every directive names something that exists
        parts = target.split(".")
        for cut in range(len(parts), 0, -1):  # the longest importable module, then attributes
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for name in parts[cut:]:
                obj = getattr(obj, name)
            break
        else:
            raise AssertionError(f"{target} names nothing importable")


def test_the_navigation_has_every_reference_page_and_notebook():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = {p.name for p in (ROOT / "docs" / "reference").glob("*.md")}
    assert {Path(p).name for p in re.findall(r"reference/\S+\.md", config)} == pages
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(Path(p).name for p in re.findall(r"notebooks/\S+\.ipynb", config)) == notebooks
    for name in notebooks:  # the site reads them through docs/notebooks
        assert (ROOT / "docs" / "notebooks" / name).resolve() == (ROOT / "notebooks" / name)
    assert "mkdocs-jupyter" in config and "docs/_ext/execute_notebooks.py" in config
    assert "docs/_ext/doctest_blocks.py:DoctestBlocks" in config


def load_extension():
    pytest.importorskip("griffe")
    path = ROOT / "docs" / "_ext" / "doctest_blocks.py"
    spec = importlib.util.spec_from_file_location("doctest_blocks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docstring_examples_become_code_blocks():
    fence = load_extension().fence_examples
    text = "Add two numbers.\n>>> 1 + 1  # doctest: +ELLIPSIS\n2\n>>> [0]\n[0]\n\nDone."
    assert fence(text) == ("Add two numbers.\n\n```pycon\n>>> 1 + 1\n2\n>>> [0]\n[0]\n```\n\nDone.")
    already = "```python\n>>> x\n```"
    assert fence(already) == already  # inside a fence: left alone
    indented = "Text.\n\n    >>> x\n    1"
    assert fence(indented) == indented  # indented: already a code block


def test_the_extension_rewrites_a_loaded_package():
    module = load_extension()
    import griffe

    package = griffe.load("tinygrad_np", extensions=griffe.load_extensions(module.DoctestBlocks))
    doc = package["viz.graph.to_dot"].docstring.value
    assert "```pycon\n>>> import tinygrad_np as tg" in doc
    assert "\n>>>" not in doc.split("```pycon")[0]  # no bare example before the fence


# --- the README's figures -------------------------------------------------------------------


def load_script():
    spec = importlib.util.spec_from_file_location("readme_numbers", ROOT / "scripts" /
                                                  "readme_numbers.py")  # fmt: skip
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def block(text: str, name: str) -> str:
    match = re.search(rf"<!-- readme-numbers:{name} -->\n(.*?)\n<!-- /readme-numbers:{name} -->",
                      text, re.S)  # fmt: skip
    assert match, f"README.md has no readme-numbers:{name} block"
    return match[1]


def test_the_readme_table_lists_every_example_as_the_script_writes_it():
    script = load_script()
    table = block((ROOT / "README.md").read_text(encoding="utf-8"), "examples")
    rows = [line.split(" | ") for line in table.splitlines()[2:]]
    scripts = sorted(p.stem for p in (ROOT / "examples").glob("*.py"))
    assert sorted(r[0].strip("| `").removesuffix(".py") for r in rows) == scripts
    expected = [(f"`{n}.py`", text, str(e)) for n, text, e, _ in script.EXAMPLES]
    assert [(r[0].lstrip("| "), r[1], r[2]) for r in rows[: len(expected)]] == expected
    cli = block((ROOT / "README.md").read_text(encoding="utf-8"), "cli")
    assert re.search(r"^train: loss [0-9.–]+, accuracy [0-9.–]+$", cli, re.M), cli


def test_the_script_writes_ranges_where_runs_differ(tmp_path):
    runs = {
        "spiral_sgd": [{"loss": 0.7651, "metric": 0.687}, {"loss": 0.7649, "metric": 0.687}],
        "spiral_adam": [{"loss": 0.049, "metric": 0.987, "held_out": 0.793},
                        {"loss": 0.055, "metric": 0.990, "held_out": 0.8}],
        "sine_regression": [{"loss": 2.1e-6, "metric": 0.928}, {"loss": 1.6e-6, "metric": 0.93}],
    }  # fmt: skip
    cli = [{"train_loss": 0.0593, "train_accuracy": 0.977, "test_loss": 1.299,
            "test_accuracy": 0.8}, {"train_loss": 0.0545, "train_accuracy": 0.99,
            "test_loss": 1.1383, "test_accuracy": 0.8}]  # fmt: skip
    saved = tmp_path / "runs.json"
    saved.write_text(json.dumps({"examples": runs, "cli": cli, "configs": ["a/1", "b/1"],
                                 "epochs": None}))  # fmt: skip
    readme = tmp_path / "README.md"
    readme.write_text(
        "x\n<!-- readme-numbers:cli -->\nold\n<!-- /readme-numbers:cli -->\n"
        "<!-- readme-numbers:examples -->\nold\n<!-- /readme-numbers:examples -->\ny\n"
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme_numbers.py"), "--load", str(saved),
         "--write", str(readme)], capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = readme.read_text()
    assert text.startswith("x\n") and text.endswith("y\n") and "old" not in text
    assert "| `spiral_sgd.py` | plain SGD, lr 1, decay 1e-3 | 10001 | 0.765 | 0.687 | – |" in text
    assert "| 0.049–0.055 | 0.987–0.990 | 0.793–0.800 |" in text
    assert "| 2e-06 | 0.928–0.930 | – |" in text  # equal at the digits shown: one number
    assert "train: loss 0.0545–0.0593, accuracy 0.977–0.990" in text
    assert "test:  loss 1.1383–1.2990, accuracy 0.800 (300" in text


def test_the_script_reads_the_result_lines_the_examples_print():
    script = load_script()
    line = "result: epochs=3 loss=0.7651 accuracy=0.6870 val_loss=1.2 val_accuracy=0.7933"
    assert script.example_result("x", "accuracy", "noise\n" + line) == {
        "loss": 0.7651, "metric": 0.687, "held_out": 0.7933,
    }  # fmt: skip
    out = "train: loss 0.0593, accuracy 0.977\ntest:  loss 1.2990, accuracy 0.800 (300 held-out"
    assert script.cli_result(out) == {"train_loss": 0.0593, "train_accuracy": 0.977,
                                      "test_loss": 1.299, "test_accuracy": 0.8}  # fmt: skip
    with pytest.raises(SystemExit, match="no result line"):
        script.example_result("x", "accuracy", "nothing")
