"""docs/jit.md is what docs/make_jit_page.py writes now: the generated source it shows is the
source the spiral step compiles to today (its Python blocks run in tests/test_docs.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_jit_page_is_up_to_date():
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "make_jit_page.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_page_is_in_the_site_navigation():
    assert "jit.md" in (ROOT / "mkdocs.yml").read_text()
