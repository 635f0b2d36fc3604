"""Hypothesis: a document mangled at random is either accepted whole (and the edition it
leaves is valid) or refused with named problems, the store's files unchanged."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creneau.adapters.edition_document import parse_edition
from creneau.events_store import SQLiteEventStore
from creneau.scheduler import EditionService, ImportEdition, InvalidCommand, validate_snapshot
from tests.integration.test_documents import BASE

ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 500), st.sampled_from(
        ["", "p-999", "25:00", "09:07", "2023-02-30", "2023-10-13", "hall", "ouverture",
         "plenary", "12:00", "24:00", "woman"]),
    # Fresh containers each time: a shared one could end up inside itself.
    st.builds(list), st.builds(dict), st.builds(lambda: {"unknown": 1}),
)  # fmt: skip


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


@st.composite
def mangled(draw: st.DrawFn) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths(doc)))
        parent: Any = doc
        for step in where[:-1]:
            parent = parent[step]
        last = where[-1]
        action = draw(st.sampled_from(["set", "set", "delete", "duplicate", "unknown"]))
        if action == "set":
            parent[last] = draw(ODD_VALUES)
        elif action == "delete":
            del parent[last]
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        elif isinstance(parent, dict):
            parent[f"{last}_typo"] = draw(ODD_VALUES)
    return doc


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(doc=mangled())
def test_a_mangled_document_is_taken_whole_or_changes_nothing(
    doc: dict[str, Any], tmp_path_factory: Any
) -> None:
    folder = tmp_path_factory.mktemp("store")
    store = SQLiteEventStore(folder / "s.db")
    service = EditionService(store, actor="tester")
    service.execute(ImportEdition(snapshot=parse_edition(json.dumps(BASE).encode(), kind="json")))
    store.close()
    before = files(folder)
    store = SQLiteEventStore(folder / "s.db")
    service = EditionService(store, actor="tester")
    version = store.stream_version("edition-mini")
    try:
        snapshot = parse_edition(json.dumps(doc).encode(), kind="json")
        recorded = service.execute(ImportEdition(snapshot=snapshot))
    except InvalidCommand as refused:
        assert refused.problems and all(str(p) for p in refused.problems)
        assert store.stream_version("edition-mini") == version
        store.close()
        assert files(folder) == before
        return
    edition = recorded[0].stream_id.removeprefix("edition-") if recorded else "mini"
    assert validate_snapshot(service.load(edition).snapshot()) == []
    store.close()
