"""The documents' JSON Schemas (docs/schema) are generated from the types that read them,
are up to date, and the examples and the schedules Créneau writes follow them."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from creneau.adapters import schemas

ROOT = Path(__file__).resolve().parents[2]


def load(name: str) -> dict[str, object]:
    return json.loads((ROOT / "docs" / "schema" / name).read_text())


@pytest.mark.parametrize("name", list(schemas.SCHEMAS))
def test_the_schemas_in_docs_are_the_generated_ones(name: str) -> None:
    assert (ROOT / "docs" / "schema" / name).read_bytes() == schemas.written(name), (
        "run `python -m creneau.adapters.schemas`"
    )


@pytest.mark.parametrize(
    "example", sorted((ROOT / "examples").glob("*.toml")), ids=lambda p: p.stem
)
def test_the_examples_follow_the_edition_schema(example: Path) -> None:
    document = json.loads(json.dumps(tomllib.loads(example.read_text()), default=str))
    jsonschema.validate(document, load("edition.schema.json"))


def test_a_document_with_a_typo_does_not() -> None:
    document = {"format": "creneau/edition@1", "id": "x", "days": [], "romos": []}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, load("edition.schema.json"))


def test_the_schedules_written_follow_the_schedule_schema(tmp_path: Path) -> None:
    from creneau.adapters.cli import main

    out = tmp_path / "s.json"
    assert main(["solve", str(ROOT / "examples" / "nec-metz-2023.toml"), "--output", str(out),
                 "--time-limit", "10"]) == 0  # fmt: skip
    jsonschema.validate(json.loads(out.read_text()), load("schedule.schema.json"))
