"""A griffe extension for the API reference: docstring examples become code blocks.

The docstrings hold bare doctest examples (``>>>`` lines and their output, as
``--doctest-modules`` runs them). Markdown would read ``>`` as a blockquote; this extension
wraps each run of example lines in a ``pycon`` code fence before mkdocstrings renders the
docstring, and drops ``# doctest: +FLAG`` comments, which only the test runner needs.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_FLAG = re.compile(r"\s*#\s*doctest:\s*[+-]\w+(?:\s*,\s*[+-]\w+)*\s*$")


def fence_examples(text: str) -> str:
    """Wrap every doctest block (a ``>>>`` line up to the next blank line) in a fence.

    Lines already inside a fence and indented examples (already code) are left alone.
    """
    lines = text.splitlines()
    out: list[str] = []
    fenced = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if fenced or not line.startswith(">>>"):
            out.append(line)
            i += 1
            continue
        if out and out[-1].strip():
            out.append("")  # a fence needs a blank line before it inside a paragraph
        out.append("```pycon")
        while i < len(lines) and lines[i].strip():
            out.append(_FLAG.sub("", lines[i]))
            i += 1
        out.append("```")
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    """Rewrite every docstring of the loaded package once it is complete."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        stack: list[griffe.Object] = [pkg]
        seen: set[int] = set()
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if obj.docstring is not None and ">>>" in obj.docstring.value:
                obj.docstring.value = fence_examples(obj.docstring.value)
            stack.extend(m for m in obj.members.values() if not m.is_alias)
