"""The code in the README and the docs pages runs as written (each page in its own process,
since a page may call nnfs.init(), which patches NumPy process-wide)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)

RUNNER = textwrap.dedent(
    """
    import doctest, sys
    blocks = {blocks!r}
    namespace = {{"__name__": "__docs__"}}
    try:
        for block in blocks:
            if ">>>" in block:
                test = doctest.DocTestParser().get_doctest(block, namespace, "page", None, 0)
                runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
                runner.run(test, out=sys.stdout.write)
                if runner.failures:
                    sys.exit(1)
                namespace.update(test.globs)
            else:
                exec(compile(block, "page", "exec"), namespace)
    except ImportError as e:  # an optional extra this page needs is missing
        print("SKIP", e)
        sys.exit(3)
    """
)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_code_runs(page: Path, tmp_path: Path):
    blocks = BLOCK.findall(page.read_text())
    if not blocks:
        pytest.skip("no python blocks")
    script = tmp_path / "page.py"
    script.write_text(RUNNER.format(blocks=blocks))
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    if result.returncode == 3:
        pytest.skip(result.stdout.strip())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
