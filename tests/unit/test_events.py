"""Events: stable tags, upcasting of older shapes, and what the hash covers."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest

from creneau.scheduler import Metadata, Room, decode_event, encode_event
from creneau.scheduler._envelope import GENESIS_HASH, chain_hash
from creneau.scheduler._events import CURRENT_SCHEMA, RoomAdded

ROOT = Path(__file__).resolve().parents[2]


def test_tags_are_stable() -> None:
    # Renaming a tag would orphan every stored event of that type: this list only grows.
    assert set(CURRENT_SCHEMA) >= {
        "edition.defined",
        "room.added",
        "room.updated",
        "room.removed",
        "person.added",
        "person.updated",
        "person.removed",
        "person.availability_set",
        "session.added",
        "session.updated",
        "session.removed",
        "session.pinned",
        "session.unpinned",
        "registration.recorded",
        "registration.removed",
        "policies.changed",
        "document.imported",
    }


def test_round_trip() -> None:
    event = RoomAdded(room=Room(id="hall", capacity=200, reserve=100, features=("stage",)))
    assert decode_event("room.added", 1, encode_event(event)) == event


def test_older_schema_is_upcast_on_read() -> None:
    # Imagine version 0 of room.added stored seats as "seats" and features as one string.
    old = msgspec.json.encode(
        {"type": "room.added", "room": {"id": "hall", "seats": 200, "features": "stage,screen"}}
    )

    def v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
        room = dict(data["room"])
        room["capacity"] = room.pop("seats")
        room["features"] = room["features"].split(",")
        return {**data, "room": room}

    event = decode_event("room.added", 0, old, upcasters={("room.added", 0): v0_to_v1})
    assert event == RoomAdded(room=Room(id="hall", capacity=200, features=("stage", "screen")))
    with pytest.raises(ValueError, match="no upcaster"):
        decode_event("room.added", 0, old, upcasters={})


def test_newer_schema_or_unknown_type_is_refused_plainly() -> None:
    with pytest.raises(ValueError, match="upgrade Créneau"):
        decode_event("room.added", 99, b"{}")
    with pytest.raises(ValueError, match="unknown event type"):
        decode_event("room.exploded", 1, b"{}")


def test_hash_covers_content_and_metadata_but_not_position() -> None:
    meta = Metadata(actor="a", recorded_at="2023-10-12T08:00:00.000000Z", correlation_id="c")
    eid = uuid.uuid4()
    base = chain_hash(GENESIS_HASH, eid, "s", 1, "t", 1, b"{}", meta)
    assert base == chain_hash(GENESIS_HASH, eid, "s", 1, "t", 1, b"{}", meta)
    variants = [
        chain_hash("1" * 64, eid, "s", 1, "t", 1, b"{}", meta),
        chain_hash(GENESIS_HASH, uuid.uuid4(), "s", 1, "t", 1, b"{}", meta),
        chain_hash(GENESIS_HASH, eid, "s2", 1, "t", 1, b"{}", meta),
        chain_hash(GENESIS_HASH, eid, "s", 2, "t", 1, b"{}", meta),
        chain_hash(GENESIS_HASH, eid, "s", 1, "t", 1, b"{ }", meta),
        chain_hash(
            GENESIS_HASH, eid, "s", 1, "t", 1, b"{}", msgspec.structs.replace(meta, actor="b")
        ),
    ]
    assert base not in variants and len(set(variants)) == len(variants)


def test_core_never_imports_infrastructure() -> None:
    forbidden = {"ortools", "sqlite3", "psycopg", "events_store", "adapters", "solver"}
    for path in (ROOT / "scheduler").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"
