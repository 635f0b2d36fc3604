"""Checkpoints: the head of every stream, written down outside the store.

A hash chain shows that history was altered only to someone who cannot recompute the
hashes; whoever can write the database can. A checkpoint (each stream's version and
head hash, which a committee keeps in its minutes or an email) can be checked later:
history rewritten before it no longer leads to the same hash at that version, even
when every hash after it was recomputed.
"""

from __future__ import annotations

import hashlib

import attrs

from scheduler.ports import EventStore

__all__ = ["CHECKPOINT_HEADER", "Checkpoint", "checkpoint", "parse_checkpoint", "verify_against"]

CHECKPOINT_HEADER = "creneau-checkpoint@1"
HASH_CHARS = 16  # 64 bits of each head hash: short enough to copy, long enough to trust


@attrs.frozen
class Checkpoint:
    heads: tuple[tuple[str, int, str], ...]  # (stream, version, hash prefix)

    @property
    def digest(self) -> str:
        """One short code for the whole checkpoint, to read out in a meeting."""
        lines = "\n".join(f"{s} {v} {h}" for s, v, h in self.heads)
        return hashlib.sha256(lines.encode()).hexdigest()[:HASH_CHARS]

    def text(self) -> str:
        body = "".join(f"{s} {v} {h}\n" for s, v, h in self.heads)
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
    if not lines or not lines[0].startswith(CHECKPOINT_HEADER + " "):
        raise ValueError(f'a checkpoint starts with "{CHECKPOINT_HEADER} <digest>"')
    heads = []
    for number, line in enumerate(lines[1:], start=2):
        parts = line.split()
        if len(parts) != 3 or not parts[1].isdigit():
            raise ValueError(f'line {number} of the checkpoint is not "stream version hash"')
        heads.append((parts[0], int(parts[1]), parts[2]))
    found = Checkpoint(tuple(heads))
    if found.digest != lines[0].split()[1]:
        raise ValueError(
            "the checkpoint's lines do not match its digest: it was copied wrong or altered"
        )
    return found


def verify_against(store: EventStore, kept: Checkpoint) -> list[str]:
    """What in the store contradicts the checkpoint; empty when history up to it holds."""
    problems = []
    for stream, version, prefix in kept.heads:
        event = next(store.read_stream(stream, version), None)
        if event is None or event.version != version:
            problems.append(
                f'stream "{stream}" no longer reaches version {version}: events '
                "recorded before the checkpoint are gone"
            )
        elif event.hash[:HASH_CHARS] != prefix:
            problems.append(
                f'stream "{stream}" version {version}: its hash is not the one '
                "checkpointed; history up to that version was rewritten"
            )
    return problems
