"""Checkpoints: the head of every stream, written down outside the store.

A hash chain shows that history was altered only to someone who cannot recompute the
hashes; whoever can write the database can. A checkpoint (each stream's version and
head hash, which a committee keeps in its minutes or an email) can be checked later:
history rewritten before it no longer leads to the same hash at that version, even
when every hash after it was recomputed.

A checkpoint is text: a header with its digest (one short code for the whole, to read
out in a meeting), then one line per stream, ``stream version hash``, the stream id
written with ``%``-escapes for anything that is not a printable, non-space character.
The digest alone is a checkpoint too: the store is searched for the moment whose heads
give that digest.
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse

import attrs

from creneau.scheduler._errors import CreneauError
from creneau.scheduler.ports import EventStore

__all__ = [
    "CHECKPOINT_HEADER",
    "Checkpoint",
    "CheckpointError",
    "checkpoint",
    "parse_checkpoint",
    "verify_against",
]

CHECKPOINT_HEADER = "creneau-checkpoint@1"
HASH_CHARS = 16  # 64 bits of each head hash: short enough to copy, long enough to trust
_DIGEST = re.compile(r"[0-9a-f]{16}")


class CheckpointError(CreneauError):
    """A checkpoint that cannot be read: ``checkpoint_header``, ``checkpoint_line``
    (with its ``line``), ``checkpoint_digest``."""


def _encode(stream: str) -> str:
    return "".join(
        c if c.isprintable() and not c.isspace() and c != "%"
        else urllib.parse.quote(c, safe="")
        for c in stream
    )  # fmt: skip


def _digest(heads: tuple[tuple[str, int, str], ...]) -> str:
    lines = "\n".join(f"{_encode(s)} {v} {h}" for s, v, h in heads)
    return hashlib.sha256(lines.encode()).hexdigest()[:HASH_CHARS]


@attrs.frozen
class Checkpoint:
    heads: tuple[tuple[str, int, str], ...]  # (stream, version, hash prefix), by stream
    # Only the digest was given (the short code of the minutes): the heads are unknown.
    digest_only: str | None = None

    @property
    def digest(self) -> str:
        """One short code for the whole checkpoint, to read out in a meeting."""
        return self.digest_only or _digest(self.heads)

    def text(self) -> str:
        body = "".join(f"{_encode(s)} {v} {h}\n" for s, v, h in self.heads)
        return f"{CHECKPOINT_HEADER} {self.digest}\n{body}"


def checkpoint(store: EventStore) -> Checkpoint:
    heads = []
    for stream in sorted(store.streams()):
        version = store.stream_version(stream)
        head = next(store.read_stream(stream, version))
        heads.append((stream, version, head.hash[:HASH_CHARS]))
    return Checkpoint(tuple(heads))


def parse_checkpoint(text: str) -> Checkpoint:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) == 1 and _DIGEST.fullmatch(lines[0].lower()):
        return Checkpoint((), digest_only=lines[0].lower())
    if not lines or not lines[0].startswith(CHECKPOINT_HEADER + " "):
        raise CheckpointError("checkpoint_header", header=CHECKPOINT_HEADER)
    heads = []
    for number, line in enumerate(lines[1:], start=2):
        parts = line.split()
        if len(parts) != 3 or not parts[1].isdecimal() or not parts[1].isascii():
            raise CheckpointError("checkpoint_line", line=number)
        heads.append((urllib.parse.unquote(parts[0]), int(parts[1]), parts[2]))
    found = Checkpoint(tuple(heads))
    if found.digest != lines[0].split()[1]:
        raise CheckpointError("checkpoint_digest")
    return found


def verify_against(store: EventStore, kept: Checkpoint) -> list[tuple[str, str, int]]:
    """What in the store contradicts the checkpoint, as (code, stream, version): ``gone``
    (events recorded before it are missing), ``rewritten`` (history up to that version
    is not what it was), ``no_such_moment`` (no moment of the store's history has the
    digest given). Empty when history up to the checkpoint holds."""
    if kept.digest_only is not None:
        return [] if _moment_with(store, kept.digest_only) else [("no_such_moment", "", 0)]
    problems = []
    for stream, version, prefix in kept.heads:
        event = next(store.read_stream(stream, version), None)
        if event is None or event.version != version:
            problems.append(("gone", stream, version))
        elif event.hash[:HASH_CHARS] != prefix:
            problems.append(("rewritten", stream, version))
    return problems


def _moment_with(store: EventStore, digest: str) -> bool:
    """Whether, after some event of the store (or before the first), the heads of its
    streams give ``digest``."""
    heads: dict[str, tuple[int, str]] = {}
    if _digest(()) == digest:
        return True
    for e in store.read_all():
        heads[e.stream_id] = (e.version, e.hash[:HASH_CHARS])
        ordered = tuple((s, v, h) for s, (v, h) in sorted(heads.items()))
        if _digest(ordered) == digest:
            return True
    return False
