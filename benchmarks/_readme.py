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
