"""Each benchmark keeps its last table in benchmarks/README.md, between markers."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def keep_table(tag: str, table: str, heading: str) -> None:
    """Put ``table`` between ``<!-- tag -->`` and ``<!-- /tag -->``, or append it under
    ``heading`` the first time."""
    text = README.read_text()
    block = f"<!-- {tag} -->\n{table.rstrip()}\n<!-- /{tag} -->"
    pattern = f"<!-- {re.escape(tag)} -->.*?<!-- /{re.escape(tag)} -->"
    if re.search(pattern, text, flags=re.S):
        text = re.sub(pattern, lambda _: block, text, flags=re.S)
    else:
        text = f"{text.rstrip()}\n\n## {heading}\n\n{block}\n"
    README.write_text(text)


def run_line(how: str) -> str:
    """The line above a table: when, on what, and ``how`` it was measured."""
    import datetime as dt
    import os
    import platform

    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"Run {when} on {platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}; {how}")  # fmt: skip
