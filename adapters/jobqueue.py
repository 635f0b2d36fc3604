"""Solve jobs on several hosts: a queue in the PostgreSQL store's own database.

The queue is procrastinate's (psycopg 3; a job is claimed with ``FOR UPDATE SKIP LOCKED``,
workers woken by LISTEN/NOTIFY, retries, locks, cancellation), its tables installed in
the store's schema: the store and its queue are one database to run, back up and move,
and two stores in one database keep two queues. Beside them, one table of ours
(``solve_jobs``) holds what each job's worker says of it (progress, the schedule it
recorded, what stopped it) and what a committee asked of it (stop, cancel): any web
server reads and writes it, whichever worker runs the job.

- ``SolveQueue``: what the servers and the command line do with jobs: enqueue (a
  re-plan takes the edition's queue lock: one at a time per edition), read, steer.
- ``run_worker``: ``creneau worker``'s loop. Each job is solved through
  ``EditionService.start_solve`` under the job's own id, so its answer is recorded once
  however many times it runs: a worker killed mid-solve (its heartbeat stops) has its
  jobs handed back to the queue by the other workers (``rescue``), and the worker that
  runs one again after the first had recorded its answer records nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Literal

import msgspec
import psycopg
import structlog
from psycopg import sql

from creneau.adapters.bootstrap import open_store, postgres_parts
from creneau.scheduler import (
    CreneauError,
    EditionService,
    Explained,
    InvalidCommand,
    Problem,
    Scenario,
    SolveProgramme,
    SolveProgress,
    StoreError,
)
from creneau.scheduler.ports import Solver

__all__ = ["TASK", "JobInfo", "SolveQueue", "error_data", "error_of", "error_text",
           "run_worker"]  # fmt: skip

TASK = "creneau.solve"
QUEUE = "solves"
JobState = Literal["queued", "running", "finished", "failed", "cancelled"]
_STATES: dict[str, JobState] = {
    "todo": "queued", "doing": "running", "succeeded": "finished", "failed": "failed",
    "cancelled": "cancelled", "aborting": "running", "aborted": "cancelled",
}  # fmt: skip

_OURS = """
CREATE TABLE IF NOT EXISTS {schema}.solve_jobs (
    job TEXT PRIMARY KEY,
    edition TEXT NOT NULL,
    scenario TEXT,
    sweep TEXT,
    asked_version INTEGER,
    enqueued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    worker TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    elapsed DOUBLE PRECISION,
    objective DOUBLE PRECISION,
    bound DOUBLE PRECISION,
    solutions INTEGER NOT NULL DEFAULT 0,
    figures JSONB NOT NULL DEFAULT '{{}}',
    outcome TEXT,
    schedule TEXT,
    detail TEXT NOT NULL DEFAULT '',
    explanation JSONB NOT NULL DEFAULT '[]',
    error JSONB,
    asked TEXT,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS solve_jobs_sweep ON {schema}.solve_jobs (sweep) WHERE sweep IS NOT NULL;
CREATE TABLE IF NOT EXISTS {schema}.queue_schema (
    version TEXT NOT NULL,
    installed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
"""


def error_data(exc: CreneauError) -> dict[str, Any]:
    """An error as data a reader in another process words in its own language."""

    def plain(value: Any) -> Any:
        return msgspec.to_builtins(value, enc_hook=str, str_keys=True)

    problems = [[p.path, p.code, plain(dict(p.params))]
                for p in getattr(exc, "problems", ())]  # fmt: skip
    return {"code": exc.code, "params": plain(exc.params), "problems": problems}


def error_of(data: dict[str, Any]) -> CreneauError:
    """The error ``error_data`` wrote, to word with ``error_lines``."""
    if data.get("problems"):
        return InvalidCommand([Problem(path, code, params)
                               for path, code, params in data["problems"]])  # fmt: skip
    return CreneauError(data.get("code", "error"), **data.get("params", {}))


def error_text(data: dict[str, Any], w: Any) -> str:
    """The error ``error_data`` wrote, in the words of ``w`` (a ``Words``)."""
    from creneau.adapters._messages import error_lines

    return "; ".join(error_lines(error_of(data), w))


class JobInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A job as the queue and its worker tell it."""

    job: str
    edition: str
    state: JobState
    scenario: str | None = None
    sweep: str | None = None
    worker: str | None = None
    attempts: int = 0
    elapsed: float | None = None
    objective: float | None = None
    bound: float | None = None
    solutions: int = 0
    figures: dict[str, float] = {}
    # The schedule document's status, once solved; "refused" (the edition no longer
    # allows it), "cancelled" (while it ran), "recorded" (by an earlier run).
    outcome: str | None = None
    schedule: str | None = None  # the schedule its answer is recorded as
    detail: str = ""  # why it failed, or why its answer was not recorded
    explanation: list[Explained] = []  # when infeasible: the rules found to conflict
    error: dict[str, Any] | None = None  # why it was refused, as ``error_data`` has it
    asked_version: int | None = None  # the edition's version when it was asked for

    def progress(self) -> SolveProgress:
        """What its solve has found so far, as a solve in this process tells it."""
        return SolveProgress(elapsed=self.elapsed or 0.0, objective=self.objective,
                             bound=self.bound, solutions=self.solutions,
                             figures=self.figures)  # fmt: skip


def _version() -> str:
    from importlib.metadata import version

    return version("procrastinate")


def _connector(dsn: str, schema: str, *, sync: bool) -> Any:
    import procrastinate

    kwargs = {"options": f"-c search_path={schema}"}
    if sync:
        return procrastinate.SyncPsycopgConnector(conninfo=dsn, kwargs=kwargs)
    return procrastinate.PsycopgConnector(conninfo=dsn, kwargs=kwargs)


class SolveQueue:
    """The solve jobs of one PostgreSQL store (``postgresql://…[?schema=NAME]``)."""

    def __init__(self, address: str, *, install: bool = True) -> None:
        import procrastinate

        self.address = address
        self.dsn, self.schema = postgres_parts(address)
        self._lock = threading.Lock()
        try:
            self._conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise StoreError("postgres_unreachable", detail=" ".join(str(exc).split())) from exc
        self.app = procrastinate.App(connector=_connector(self.dsn, self.schema, sync=True))
        self.app.open()
        if install:
            self.install()

    def _q(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(schema=sql.Identifier(self.schema))

    # -- schema --------------------------------------------------------------------

    def install(self) -> None:
        """Install the queue's tables in the store's schema when they are not there yet,
        recording the procrastinate version that installed them (several processes
        starting together: one installs, the others wait for it). Tables installed by
        another version are left as they are: ``current()`` says so."""
        if self.installed_version() is not None:
            return
        with self._lock, self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(hashtext('creneau-queue'))")
            self._conn.execute(self._q("CREATE SCHEMA IF NOT EXISTS {schema}"))
            missing = self._conn.execute(
                "SELECT to_regclass(%s) IS NULL", (f"{self.schema}.procrastinate_jobs",)
            ).fetchone()
            if missing and missing[0]:
                # procrastinate's schema, through a connection whose search_path is ours.
                with psycopg.connect(self.dsn, autocommit=True,
                                     options=f"-c search_path={self.schema}") as own:  # fmt: skip
                    own.execute(self.app.schema_manager.get_schema())
            self._conn.execute(self._q(_OURS))
            self._conn.execute(self._q(
                "INSERT INTO {schema}.queue_schema (version) SELECT %s "
                "WHERE NOT EXISTS (SELECT 1 FROM {schema}.queue_schema)"),
                (_version(),))  # fmt: skip

    def installed_version(self) -> str | None:
        """The procrastinate version the queue's tables were installed for; None when
        they are not."""
        with self._lock:
            found = self._conn.execute(
                "SELECT to_regclass(%s) IS NOT NULL", (f"{self.schema}.queue_schema",)
            ).fetchone()
            if not found or not found[0]:
                return None
            row = self._conn.execute(self._q("SELECT version FROM {schema}.queue_schema")
                                     ).fetchone()  # fmt: skip
        return None if row is None else str(row[0])

    def current(self) -> bool:
        return self.installed_version() == _version()

    # -- jobs ----------------------------------------------------------------------

    def enqueue(
        self,
        edition: str,
        command: SolveProgramme,
        *,
        actor: str,
        replan: bool = False,
        scenario: Scenario | None = None,
        sweep: str | None = None,
        job_id: str | None = None,
        version: int | None = None,
    ) -> str:
        """Queue a solve of the edition; its job id. ``replan``: the edition has a
        published programme, and its re-plans run one at a time (the queue's lock).
        ``version``: the edition's version the asker read (told back with the job)."""
        job = job_id or f"solve-{uuid.uuid4()}"
        with self._lock:
            self._conn.execute(
                self._q("INSERT INTO {schema}.solve_jobs (job, edition, scenario, sweep, "
                        "asked_version) VALUES (%s, %s, %s, %s, %s)"),
                (job, edition, None if scenario is None else scenario.name, sweep, version),
            )  # fmt: skip
        try:
            task = self.app.configure_task(
                name=TASK, queue=QUEUE,
                lock=f"replan:{edition}" if replan and scenario is None else None,
            )  # fmt: skip
            task.defer(
                job=job, edition=edition, actor=actor, time_limit=command.time_limit,
                workers=command.workers, seed=command.seed,
                scenario=None if scenario is None else msgspec.to_builtins(scenario),
            )  # fmt: skip
        except Exception:  # not queued: no row left waiting for a job that never comes
            with self._lock:
                self._conn.execute(self._q("DELETE FROM {schema}.solve_jobs WHERE job = %s"),
                                   (job,))  # fmt: skip
            raise
        named = None if scenario is None else scenario.name
        structlog.get_logger().info("job_enqueued", job=job, edition=edition, scenario=named)
        return job

    _INFO = """
        SELECT s.job, s.edition, s.scenario, s.sweep, s.worker, s.attempts, s.elapsed,
               s.objective, s.bound, s.solutions, s.figures, s.outcome, s.schedule,
               s.detail, j.status::text, s.explanation, s.error, s.asked_version
          FROM {schema}.solve_jobs s
          LEFT JOIN LATERAL (
               SELECT status FROM {schema}.procrastinate_jobs
                WHERE args->>'job' = s.job ORDER BY id DESC LIMIT 1) j ON true
    """

    @staticmethod
    def _info(row: Sequence[Any]) -> JobInfo:
        state = _STATES.get(row[14] or "todo", "queued")
        if state == "finished" and row[11] == "cancelled":  # cancelled while it ran
            state = "cancelled"
        elif state == "finished" and row[12] is None and row[11] in (None, "refused"):
            state = "failed"
        return JobInfo(
            job=row[0], edition=row[1], scenario=row[2], sweep=row[3], worker=row[4],
            attempts=row[5], elapsed=row[6], objective=row[7], bound=row[8],
            solutions=row[9], figures=dict(row[10] or {}), outcome=row[11], schedule=row[12],
            detail=row[13], state=state,
            explanation=msgspec.convert(row[15] or [], list[Explained]), error=row[16],
            asked_version=row[17],
        )  # fmt: skip

    def info(self, job: str) -> JobInfo | None:
        with self._lock:
            row = self._conn.execute(self._q(self._INFO + " WHERE s.job = %s"), (job,)).fetchone()
        return None if row is None else self._info(row)

    def sweep(self, sweep: str) -> list[JobInfo]:
        """The jobs of one scenario sweep, in the order they were queued."""
        with self._lock:
            rows = self._conn.execute(
                self._q(self._INFO + " WHERE s.sweep = %s ORDER BY s.enqueued_at, s.job"), (sweep,)
            ).fetchall()  # fmt: skip
        return [self._info(r) for r in rows]

    def depth(self) -> dict[str, int]:
        """Jobs waiting and running now, and the workers alive (a heartbeat in the last
        30 seconds)."""
        with self._lock:
            rows = self._conn.execute(self._q(
                "SELECT status::text, count(*) FROM {schema}.procrastinate_jobs "
                "WHERE status IN ('todo', 'doing') GROUP BY status"
            )).fetchall()  # fmt: skip
            alive = self._conn.execute(self._q(
                "SELECT count(*) FROM {schema}.procrastinate_workers "
                "WHERE last_heartbeat > now() - interval '30 seconds'"
            )).fetchone()  # fmt: skip
        found = {str(s): int(n) for s, n in rows}
        return {"queued": found.get("todo", 0), "running": found.get("doing", 0),
                "workers": int(alive[0]) if alive else 0}  # fmt: skip

    def ask(self, job: str, action: Literal["stop", "cancel"]) -> None:
        """Ask the job's worker to stop it (its best schedule so far is recorded) or to
        cancel it (nothing recorded); a job still waiting is cancelled at once."""
        with self._lock:
            self._conn.execute(self._q("UPDATE {schema}.solve_jobs SET asked = %s WHERE job = %s"),
                               (action, job))  # fmt: skip
            row = self._conn.execute(
                self._q("SELECT id FROM {schema}.procrastinate_jobs WHERE args->>'job' = %s "
                        "AND status = 'todo'"), (job,),
            ).fetchone()  # fmt: skip
        if row is not None:
            with contextlib.suppress(Exception):  # claimed meanwhile: its worker hears `asked`
                self.app.job_manager.cancel_job_by_id(int(row[0]))

    def wait(self, jobs: Sequence[str], *, every: float = 0.5, timeout: float | None = None,
             heard: Callable[[list[JobInfo]], None] | None = None) -> list[JobInfo]:  # fmt: skip
        """Wait until every job has ended; their last word. ``heard`` is told each look."""
        started = time.monotonic()
        while True:
            infos = [i for i in (self.info(j) for j in jobs) if i is not None]
            if heard is not None:
                heard(infos)
            if all(i.state not in ("queued", "running") for i in infos):
                return infos
            if timeout is not None and time.monotonic() - started > timeout:
                raise TimeoutError(f"jobs still running after {timeout} s")
            time.sleep(every)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.app.close()
        self._conn.close()

    def __enter__(self) -> SolveQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- the worker ---------------------------------------------------------------------------


class _HandedBack(Exception):
    """The worker is stopping: the job goes back to the queue for another."""


class _Reporter:
    """What a worker writes of its job into ``solve_jobs``."""

    def __init__(self, dsn: str, schema: str, job: str) -> None:
        self._conn = psycopg.connect(dsn, autocommit=True)
        self._schema = schema
        self.job = job

    def _q(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(schema=sql.Identifier(self._schema))

    def asked(self) -> str | None:
        row = self._conn.execute(self._q("SELECT asked FROM {schema}.solve_jobs WHERE job = %s"),
                                 (self.job,)).fetchone()  # fmt: skip
        return None if row is None else row[0]

    def claim(self, worker: str) -> None:
        self._conn.execute(self._q(
            "UPDATE {schema}.solve_jobs SET worker = %s, attempts = attempts + 1, solutions = 0, "
            "elapsed = NULL, objective = NULL, bound = NULL, figures = '{{}}', "
            "updated_at = now() WHERE job = %s"), (worker, self.job))  # fmt: skip

    def progress(self, elapsed: float, objective: float | None, bound: float | None,
                 solutions: int, figures: dict[str, Any]) -> None:  # fmt: skip
        self._conn.execute(self._q(
            "UPDATE {schema}.solve_jobs SET elapsed = %s, objective = %s, bound = %s, "
            "solutions = %s, figures = %s, updated_at = now() WHERE job = %s"),
            (elapsed, objective, bound, solutions,
             json.dumps({k: float(v) for k, v in figures.items() if v is not None}), self.job),
        )  # fmt: skip

    def ended(self, outcome: str | None, schedule: str | None, detail: str = "",
              explanation: Sequence[Explained] = (), error: Any = None) -> None:  # fmt: skip
        self._conn.execute(self._q(
            "UPDATE {schema}.solve_jobs SET outcome = %s, schedule = %s, detail = %s, "
            "explanation = %s, error = %s, updated_at = now() WHERE job = %s"),
            (outcome, schedule, detail, msgspec.json.encode(list(explanation)).decode(),
             None if error is None else json.dumps(error), self.job))  # fmt: skip

    def close(self) -> None:
        self._conn.close()


class _Runner:
    """Runs the queue's solve jobs in one worker process."""

    def __init__(self, address: str, solver: Solver, name: str) -> None:
        self.address = address
        self.dsn, self.schema = postgres_parts(address)
        self.solver = solver
        self.name = name

    def __call__(self, context: Any, *, job: str, edition: str, actor: str, time_limit: float,
                 workers: int, seed: int, scenario: dict[str, Any] | None = None,
                 ) -> str | None:  # fmt: skip
        from procrastinate.job_context import AbortReason

        log = structlog.get_logger().bind(job=job, edition=edition, worker=self.name,
                                          attempt=context.job.attempts + 1)  # fmt: skip
        report = _Reporter(self.dsn, self.schema, job)
        store = open_store(self.address)
        try:
            report.claim(self.name)
            service = EditionService(store)
            done = service.load(edition).solve_jobs.get(job)
            if done is not None:  # an earlier run recorded it, then its worker died
                log.info("job_already_recorded", schedule=done)
                report.ended("recorded", done)
                return done
            if report.asked() == "cancel":
                report.ended("cancelled", None, "cancelled")
                return None
            variant = None if scenario is None else msgspec.convert(scenario, Scenario)
            command = SolveProgramme(time_limit=time_limit, workers=workers, seed=seed)
            log.info("job_started", scenario=None if variant is None else variant.name)
            running = service.start_solve(edition, self.solver, command, actor=actor,
                                          job_id=job, scenario=variant)  # fmt: skip
            told = -1
            handed_back = False
            while not running.wait(0.5):
                asked = report.asked()
                if context.should_abort():
                    handed_back = context.abort_reason() == AbortReason.SHUTDOWN
                    running.cancel()
                elif asked == "cancel":
                    running.cancel()
                elif asked == "stop":
                    running.stop()
                now = running.progress()
                if now.solutions != told:
                    told = now.solutions
                    report.progress(now.elapsed, now.objective, now.bound, now.solutions,
                                    dict(now.figures))  # fmt: skip
            if handed_back:
                log.info("job_handed_back")
                raise _HandedBack(job)
            now = running.progress()
            report.progress(now.elapsed, now.objective, now.bound, now.solutions, dict(now.figures))
            if running.state == "cancelled":
                report.ended("cancelled", None, "cancelled")
                log.info("job_cancelled")
                return None
            document, schedule_id = running.collect()
            report.ended(document.status, schedule_id, explanation=document.explanation)
            log.info("job_recorded" if schedule_id else "job_ended_unrecorded",
                     status=document.status, schedule=schedule_id,
                     objective=document.objective,
                     seconds=round(document.solve_seconds, 3))  # fmt: skip
            return schedule_id
        except _HandedBack:
            raise
        except CreneauError as exc:  # the edition changed under it, or is gone: said, kept
            report.ended("refused", None, str(exc), error=error_data(exc))
            log.warning("job_refused", error=exc.code)
            return None
        except Exception as exc:
            report.ended(None, None, f"{type(exc).__name__}: {exc}")
            log.error("job_failed", error=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            store.close()
            report.close()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def _rescue(app: Any, every: float, stalled_after: float, stop: asyncio.Event) -> None:
    """Hand the jobs of workers whose heartbeat stopped (killed, or their host gone) back
    to the queue. Every worker does it; a job handed back twice is harmless (the second
    finds it waiting already)."""
    log = structlog.get_logger()
    while not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        try:
            stalled = await app.job_manager.get_stalled_jobs(
                queue=QUEUE, seconds_since_heartbeat=stalled_after
            )
            for job in stalled:
                with contextlib.suppress(Exception):
                    await app.job_manager.retry_job(job)
                    kwargs = job.task_kwargs
                    log.warning("job_rescued", job=kwargs.get("job"),
                                edition=kwargs.get("edition"), queue_id=job.id)  # fmt: skip
        except Exception as exc:  # the database away for a moment: try again next time
            log.warning("rescue_failed", error=f"{type(exc).__name__}: {exc}")


def run_worker(
    address: str,
    *,
    concurrency: int = 1,
    solver: Solver | None = None,
    heartbeat: float = 2.0,
    stalled_after: float = 10.0,
    stop: threading.Event | None = None,
    name: str | None = None,
) -> None:
    """Run solve jobs until ``stop`` is set (or SIGINT / SIGTERM: the jobs running are
    handed back to the queue)."""
    import procrastinate

    if solver is None:
        from creneau.solver import CpSatSolver

        solver = CpSatSolver()
    name = name or worker_name()
    SolveQueue(address).close()  # the queue's tables, installed if they are not yet
    dsn, schema = postgres_parts(address)
    app = procrastinate.App(connector=_connector(dsn, schema, sync=False))
    runner = _Runner(address, solver, name)

    def solve(context: Any, /, **kwargs: Any) -> str | None:
        return runner(context, **kwargs)

    app.task(name=TASK, queue=QUEUE, pass_context=True,
             retry=procrastinate.RetryStrategy(max_attempts=5, wait=1,
                                               retry_exceptions={_HandedBack}))(solve)  # fmt: skip

    async def main() -> None:
        quit_ = asyncio.Event()
        async with app.open_async():
            rescuer = asyncio.create_task(_rescue(app, heartbeat, stalled_after, quit_))
            work = asyncio.create_task(app.run_worker_async(
                queues=[QUEUE], concurrency=concurrency, name=name, wait=True,
                update_heartbeat_interval=heartbeat, stalled_worker_timeout=stalled_after,
                abort_job_polling_interval=1.0, shutdown_graceful_timeout=1.0,
                install_signal_handlers=stop is None, listen_notify=True,
            ))  # fmt: skip
            structlog.get_logger().info("worker_started", worker=name, concurrency=concurrency,
                                        schema=schema)  # fmt: skip
            if stop is not None:
                while not stop.is_set() and not work.done():
                    await asyncio.sleep(0.2)
                work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
            quit_.set()
            await rescuer
            structlog.get_logger().info("worker_stopped", worker=name)

    asyncio.run(main())
