"""Adapters around the core: command line, edition documents, wiring."""

from creneau.adapters.bootstrap import build, open_store
from creneau.adapters.edition_document import (
    document_bytes,
    load_edition,
    parse_edition,
    to_document,
)

__all__ = ["build", "document_bytes", "load_edition", "open_store", "parse_edition", "to_document"]
