"""Adapters around the core: the command line and its words, edition documents, the
independent validator, wiring. Names are imported when first used: the command line
starts without loading what a command does not need."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from creneau.adapters.bootstrap import Engine, build, open_engine, open_store
    from creneau.adapters.edition_document import (
        document_bytes,
        load_edition,
        parse_edition,
        to_document,
    )

_WHERE = {
    "Engine": "creneau.adapters.bootstrap",
    "build": "creneau.adapters.bootstrap",
    "open_engine": "creneau.adapters.bootstrap",
    "open_store": "creneau.adapters.bootstrap",
    "document_bytes": "creneau.adapters.edition_document",
    "load_edition": "creneau.adapters.edition_document",
    "parse_edition": "creneau.adapters.edition_document",
    "to_document": "creneau.adapters.edition_document",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'creneau.adapters' has no attribute {name!r}")
