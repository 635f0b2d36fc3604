"""SQLite store benchmark: Créneau side by side with a bare sqlite3 insert of the same
rows and with the ``eventsourcing`` package's SQLite recorder, in one run, on the same
encoded events.

    .venv/bin/python benchmarks/store_bench.py [--events 100000] [--single 5000]
                                               [--rounds 3] [--write]

Each workload runs ``--rounds`` times on fresh files, the implementations taking turns
within a round; the table gives the median rate of each and the ratio of medians.
``--write`` also keeps the table in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import msgspec  # noqa: E402
import structlog  # noqa: E402
from eventsourcing.persistence import StoredEvent  # noqa: E402
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore  # noqa: E402

from benchmarks._readme import keep_table  # noqa: E402
from benchmarks.workload import edition_events, new_events  # noqa: E402
from creneau.adapters.edition_document import load_edition  # noqa: E402
from creneau.events_store import SQLiteEventStore  # noqa: E402
from creneau.events_store.sqlite import _INSERT_EVENT_IDS, KEYS, SCHEMA  # noqa: E402
from creneau.scheduler import (  # noqa: E402
    EditionService,
    EditionState,
    ImportEdition,
    Metadata,
    NewEvent,
    UpdateRoom,
    decode_event,
    encode_event,
    event_type,
    new_event_id,
    replay,
)
from creneau.scheduler._events import Event  # noqa: E402
from creneau.scheduler._personal import Personal  # noqa: E402

BATCH = 1000
STREAM = "edition-bench"


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def taking_turns(steps: dict[str, Sequence[Callable[[], object]]]) -> dict[str, float]:
    """Run the implementations' transactions in turn, the k-th of each one after the other,
    and add up the time each spends. Interleaved, they see the same disk: its fsync
    latency drifts by tens of per cent over a minute on this machine, which would
    otherwise favour whichever ran in the quieter stretch."""
    totals = dict.fromkeys(steps, 0.0)
    for turn in zip(*steps.values(), strict=True):
        for key, step in zip(steps, turn, strict=True):
            totals[key] += timed(step)
    return totals


def _es_recorder(path: Path) -> tuple[SQLiteDatastore, SQLiteApplicationRecorder]:
    datastore = SQLiteDatastore(str(path))
    recorder = SQLiteApplicationRecorder(datastore)
    recorder.create_table()
    return datastore, recorder


def _es_events(batch: list[NewEvent]) -> list[StoredEvent]:
    origin = uuid.uuid4()
    return [
        StoredEvent(originator_id=origin, originator_version=i, topic=e.type, state=e.payload)
        for i, e in enumerate(batch, start=1)
    ]


def _stored_rows(batch: list[NewEvent], path: Path) -> list[tuple[tuple[Any, ...], list[Any]]]:
    """The rows Créneau stores for ``batch`` appended 1,000 at a time: each commit row
    with its event-id rows. Sealing is deterministic, so a fresh store stores the same."""
    store = SQLiteEventStore(path)
    for i in range(0, len(batch), BATCH):
        store.append(STREAM, batch[i : i + BATCH], i)
    store.close()
    db = sqlite3.connect(path)
    commits = db.execute("SELECT * FROM commits ORDER BY first_position").fetchall()
    ids = db.execute("SELECT * FROM event_ids ORDER BY position").fetchall()
    db.close()
    return [(c, ids[c[0] - 1 : c[1]]) for c in commits]


def _bare_db(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(SCHEMA)
    db.execute("INSERT INTO streams VALUES (1, ?)", (STREAM,))
    return db


def _bare_insert(
    db: sqlite3.Connection,
    rows: tuple[tuple[Any, ...], list[Any]],
    *,
    set_based: bool,
    keys: Sequence[tuple[Any, ...]] = (),
) -> Callable[[], object]:
    """Commit one batch's rows (and key rows), the ids by executemany or by Créneau's
    one statement."""
    commit, id_rows = rows
    joined = (b"".join(i for i, _ in id_rows), len(id_rows), id_rows[0][1])

    def insert() -> None:
        db.execute("BEGIN IMMEDIATE")
        if set_based:
            db.execute(_INSERT_EVENT_IDS, joined)
        else:
            db.executemany("INSERT INTO event_ids VALUES (?, ?)", id_rows)
        db.execute("INSERT INTO commits VALUES (?, ?, ?, ?, ?, ?, ?)", commit)
        if keys:
            db.executemany("INSERT INTO subject_keys VALUES (?, ?, ?, ?, ?)", keys)
        db.execute("COMMIT")

    return insert


def _recorded(recorder: SQLiteApplicationRecorder, stored: list[StoredEvent],
              k: int) -> Callable[[], object]:  # fmt: skip
    return lambda: recorder.insert_events(stored[k * BATCH : (k + 1) * BATCH])


def batches_round(batch: list[NewEvent], work: Path) -> dict[str, float]:
    """Append every event, 1,000 per transaction, four ways taking turns: Créneau; the
    very rows it stores inserted bare into the same tables (what SQLite alone costs for
    this data), with executemany and with Créneau's statement for the ids;
    eventsourcing's recorder with a global order, like Créneau's."""
    chunks = [batch[i : i + BATCH] for i in range(0, len(batch), BATCH)]
    rows = _stored_rows(batch, work / "rows.db")
    store = SQLiteEventStore(work / "creneau.db")
    bare, bare_set = (_bare_db(work / name) for name in ("bare.db", "bare-set.db"))
    datastore, recorder = _es_recorder(work / "es.db")
    stored = _es_events(batch)

    def creneau(k: int) -> Callable[[], object]:
        return lambda: store.append(STREAM, chunks[k], k * BATCH)

    turns = range(len(chunks))
    times = taking_turns({
        "creneau": [creneau(k) for k in turns],
        "bare": [_bare_insert(bare, rows[k], set_based=False) for k in turns],
        "bare_set": [_bare_insert(bare_set, rows[k], set_based=True) for k in turns],
        "es": [_recorded(recorder, stored, k) for k in turns],
    })  # fmt: skip
    last = "SELECT last_hash FROM commits ORDER BY first_position DESC LIMIT 1"
    heads = {db.execute(last).fetchone() for db in (store._db, bare, bare_set)}
    assert len(heads) == 1, "the same rows everywhere"
    store.close()
    bare.close()
    bare_set.close()
    datastore.close()
    return times


def singles_round(batch: list[NewEvent], work: Path) -> dict[str, float]:
    """One event per durable transaction, taking turns: store appends, committee commands,
    and the recorder."""
    store = SQLiteEventStore(work / "single.db")
    service = EditionService(SQLiteEventStore(work / "commands.db"), actor="bench")
    metz = load_edition(ROOT / "examples" / "nec-metz-2023.toml").snapshot
    service.execute(ImportEdition(snapshot=metz))
    hall = metz.rooms[0]
    commands = [
        UpdateRoom(room=msgspec.structs.replace(hall, capacity=hall.capacity + 1 + i % 2))
        for i in range(len(batch))
    ]
    datastore, recorder = _es_recorder(work / "es-single.db")
    stored = _es_events(batch)
    times = taking_turns({
        "creneau": [partial(store.append, STREAM, [e], v) for v, e in enumerate(batch)],
        "commands": [
            partial(service.execute, c, edition_id=metz.id, actor="bench") for c in commands
        ],
        "es": [partial(recorder.insert_events, [e]) for e in stored],
    })  # fmt: skip
    store.close()
    service.store.close()
    datastore.close()
    return times


def replay_round(batch: list[NewEvent], work: Path) -> dict[str, float]:
    """Fold the whole stream into the edition state, reading it from each store."""
    store = SQLiteEventStore(work / "replay.db")
    for i in range(0, len(batch), BATCH):
        store.append(STREAM, batch[i : i + BATCH], i)
    datastore, recorder = _es_recorder(work / "es-replay.db")
    stored = _es_events(batch)
    for i in range(0, len(stored), BATCH):
        recorder.insert_events(stored[i : i + BATCH])
    origin = stored[0].originator_id
    states: list[EditionState] = []
    times = {
        "creneau": timed(lambda: states.append(EditionService(store, actor="bench").load("bench")))
    }
    decoded = [decode_event(e.type, e.schema_version, e.payload) for e in batch]
    times["fold"] = timed(lambda: replay(decoded))

    def es() -> None:
        records = recorder.select_events(origin)
        states.append(replay(decode_event(r.topic, 1, r.state) for r in records))

    times["es"] = timed(es)
    assert states[0] == states[1], "both stores must give back the same edition"
    store.close()
    datastore.close()
    return times


# -- with the personal fields sealed --------------------------------------------------------


def _seal(personal: Personal, events: Sequence[Event],
          ids: Sequence[uuid.UUID] | None = None) -> tuple[list[NewEvent], list[Any]]:  # fmt: skip
    """NewEvents for ``events`` with their personal fields sealed (as the service
    builds them), and the keys of the new subjects among them."""
    meta = Metadata(actor="bench", recorded_at="2022-10-17T08:00:00.000000Z",
                    correlation_id="bench")  # fmt: skip
    batch, subjects = [], []
    ids = ids if ids is not None else [new_event_id() for _ in events]
    for e, event_id in zip(events, ids, strict=True):
        payload, sealed_to = personal.seal("bench", e, event_id)
        subjects += sealed_to
        batch.append(NewEvent(event_id=event_id, type=event_type(e), schema_version=1,
                              payload=payload, metadata=meta))  # fmt: skip
    return batch, personal.keys.pending(subjects)


def sealed_batches_round(events: list[Event], work: Path) -> dict[str, float]:
    """As ``batches_round``, the personal fields sealed, five ways taking turns.

    The store side by side with SQLite and the recorder, on payloads sealed beforehand
    (as the unsealed rows are encoded beforehand): Créneau's append with the new
    subjects' keys in the same transaction; bare sqlite3 inserting the same rows and
    key rows; the recorder storing the same payloads. Then encryption timed on both
    sides: Créneau encoding and sealing each event then appending; the recorder with
    eventsourcing's own AES-GCM cipher (one key for everything), encoding and
    encrypting each payload then inserting."""
    from eventsourcing.cryptography import AESCipher
    from eventsourcing.utils import Environment

    chunks = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
    store = SQLiteEventStore(work / "creneau.db")
    ahead = Personal(store)
    presealed = []
    for chunk in chunks:  # each new subject's key goes with the first batch that needs it
        presealed.append(_seal(ahead, chunk))
        ahead.keys.kept(presealed[-1][1])
    rows = _stored_rows([e for b, _ in presealed for e in b], work / "rows.db")
    bare = _bare_db(work / "bare.db")
    bare.executescript(KEYS)
    datastore, recorder = _es_recorder(work / "es.db")
    stored = _es_events([e for b, _ in presealed for e in b])
    sealing_store = SQLiteEventStore(work / "sealing.db")
    personal = Personal(sealing_store)
    ids = [[new_event_id() for _ in chunk] for chunk in chunks]  # not timed, as unsealed
    es_store, es_recorder = _es_recorder(work / "es-cipher.db")
    cipher = AESCipher(Environment(env={"CIPHER_KEY": AESCipher.create_key(16)}))
    origin = uuid.uuid4()

    def append(k: int) -> Callable[[], object]:
        return lambda: store.append(STREAM, presealed[k][0], k * BATCH, presealed[k][1])

    def keys(k: int) -> list[tuple[Any, ...]]:
        return [(x.subject, x.edition, x.lookup, x.key, x.created_at) for x in presealed[k][1]]

    def sealing(k: int) -> Callable[[], object]:
        def step() -> None:
            batch, new_keys = _seal(personal, chunks[k], ids[k])
            sealing_store.append(STREAM, batch, k * BATCH, new_keys)
            personal.keys.kept(new_keys)

        return step

    def encrypting(k: int) -> Callable[[], object]:
        def step() -> None:
            es_recorder.insert_events([
                StoredEvent(originator_id=origin, originator_version=k * BATCH + i,
                            topic=event_type(e), state=cipher.encrypt(encode_event(e)))
                for i, e in enumerate(chunks[k], start=1)
            ])  # fmt: skip

        return step

    turns = range(len(chunks))
    times = taking_turns({
        "creneau": [append(k) for k in turns],
        "bare": [_bare_insert(bare, rows[k], set_based=False, keys=keys(k)) for k in turns],
        "es": [_recorded(recorder, stored, k) for k in turns],
        "sealing": [sealing(k) for k in turns],
        "es_cipher": [encrypting(k) for k in turns],
    })  # fmt: skip
    for s in (store, sealing_store):
        s.close()
    bare.close()
    datastore.close()
    es_store.close()
    return times


def sealed_replay_round(events: list[Event], work: Path) -> dict[str, float]:
    """Fold the sealed stream into the edition state: read, open every personal field
    with its subject's key, decode, fold."""
    store = SQLiteEventStore(work / "replay.db")
    personal = Personal(store)
    for i in range(0, len(events), BATCH):
        batch, keys = _seal(personal, events[i : i + BATCH])
        store.append(STREAM, batch, i, keys)
        personal.keys.kept(keys)
    store.close()
    store = SQLiteEventStore(work / "replay.db")  # a new process: no key known yet
    states: list[EditionState] = []
    times = {"creneau": timed(lambda: states.append(
        EditionService(store, actor="bench").load("bench")))}  # fmt: skip
    assert states[0] == replay(events), "sealed, the stream gives back the same edition"
    store.close()
    return times


def median_times(
    rounds: int, run: Callable[[Path], dict[str, float]], root: Path
) -> dict[str, float]:
    samples: dict[str, list[float]] = {}
    for _ in range(rounds):
        work = Path(tempfile.mkdtemp(dir=root))
        for key, seconds in run(work).items():
            samples.setdefault(key, []).append(seconds)
    return {key: statistics.median(values) for key, values in samples.items()}


Row = tuple[str, str, float, str]


def bench(n_events: int, n_single: int, rounds: int, root: Path) -> list[Row]:
    batch = new_events(list(edition_events(n_events)))
    b = median_times(rounds, lambda w: batches_round(batch, w), root)
    s = median_times(rounds, lambda w: singles_round(batch[:n_single], w), root)
    r = median_times(rounds, lambda w: replay_round(batch, w), root)
    personal_events = list(edition_events(n_events, attendees=True))
    sb = median_times(rounds, lambda w: sealed_batches_round(personal_events, w), root)
    sr = median_times(rounds, lambda w: sealed_replay_round(personal_events, w), root)
    plain = new_events(personal_events)
    pr = median_times(rounds, lambda w: replay_round(plain, w), root)
    n, m = n_events, n_single
    sealed = [
        ("append, batches of 1,000, personal fields sealed beforehand (half the events: "
         "attendees registered, places booked)", "Créneau, the new subjects' keys in the "
         "same transaction", n / sb["creneau"], "target ≥ 40,000 ev/s"),
        ("", "bare sqlite3, the same rows and key rows", n / sb["bare"],
         f"Créneau / bare = {sb['bare'] / sb['creneau']:.2f} (target ≥ 0.6; unsealed "
         f"{b['bare'] / b['creneau']:.2f})"),
        ("", "eventsourcing SQLiteApplicationRecorder, the same payloads", n / sb["es"],
         f"Créneau / eventsourcing = {sb['es'] / sb['creneau']:.2f} (target ≥ 1; unsealed "
         f"{b['es'] / b['creneau']:.2f})"),
        ("append, batches of 1,000, encrypting timed", "Créneau: encode, seal each "
         "personal field with its subject's key, append", n / sb["sealing"], ""),
        ("", "eventsourcing: encode, encrypt each payload with its one AES-GCM key, insert",
         n / sb["es_cipher"],
         f"Créneau / eventsourcing = {sb['es_cipher'] / sb['sealing']:.2f}"),
        ("replay, personal fields sealed", "Créneau (read, open, decode, fold)",
         n / sr["creneau"], "target ≥ 100,000 ev/s"),
        ("", "Créneau, the same stream unsealed", n / pr["creneau"],
         f"sealed / unsealed = {pr['creneau'] / sr['creneau']:.2f}"),
    ]  # fmt: skip
    return [
        ("append, batches of 1,000", "Créneau", n / b["creneau"], "target ≥ 40,000 ev/s"),
        ("", "bare sqlite3, the same rows into the same tables", n / b["bare"],
         f"Créneau / bare = {b['bare'] / b['creneau']:.2f} (target ≥ 0.6)"),
        ("", "bare sqlite3, the same rows, the ids in Créneau's one statement",
         n / b["bare_set"], f"Créneau / this = {b['bare_set'] / b['creneau']:.2f}"),
        ("", "eventsourcing SQLiteApplicationRecorder", n / b["es"],
         f"Créneau / eventsourcing = {b['es'] / b['creneau']:.2f} (target ≥ 1)"),
        ("one event per durable transaction", "Créneau store.append", m / s["creneau"],
         "target ≥ 2,000 ev/s"),
        ("", "Créneau command (load, decide, validate, append)", m / s["commands"],
         "target ≥ 2,000 ev/s"),
        ("", "eventsourcing SQLiteApplicationRecorder", m / s["es"],
         f"Créneau / eventsourcing = {s['es'] / s['creneau']:.2f} (target ≥ 1)"),
        ("replay into the edition state", "Créneau (read, decode, fold)", n / r["creneau"],
         "target ≥ 100,000 ev/s"),
        ("", "Créneau fold only (events already decoded)", n / r["fold"], ""),
        ("", "eventsourcing recorder read, then the same decode and fold", n / r["es"],
         f"Créneau / eventsourcing = {r['es'] / r['creneau']:.2f} (target ≥ 1)"),
        *sealed,
    ]  # fmt: skip


def render(rows: list[Row], n_events: int, n_single: int, rounds: int) -> str:
    head = (
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}; WAL and synchronous=FULL everywhere; {n_events:,} events, "
        f"{n_single:,} single-event transactions; median of {rounds} rounds.\n\n"
    )
    lines = ["| workload | implementation | events/s | ratio, target |", "|---|---|---:|---|"]
    lines += [f"| {w} | {impl} | {rate:,.0f} | {note} |" for w, impl, rate, note in rows]
    return head + "\n".join(lines) + "\n"


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = bench(args.events, args.single, args.rounds, Path(tmp))
    table = render(rows, args.events, args.single, args.rounds)
    print(table)
    if args.write:
        keep_table("store-bench", table, "Event store — `benchmarks/store_bench.py`")


if __name__ == "__main__":
    main()
