"""Solves as jobs: started, followed, stopped or cancelled, and collected, while the
caller goes on with other work.

A job runs its solve in a thread of its own (``THREADS``), or in a child process that
thread looks after (``ProcessRunner``: the search then leaves the caller's interpreter
alone). The caller follows what it finds (``SolveProgress``: elapsed time, objective,
bound, the quality figures of the best schedule so far) and collects the answer; a job
made by ``EditionService.start_solve`` records it then, once: collecting again, or
recording the same job's answer from another process, records nothing more.

Progress is not written to the event stream: it is what a solve is doing, not something
the committee did. What is recorded is the answer, as ``schedule.proposed``.
"""

from __future__ import annotations

import contextlib
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal, Protocol

import attrs

from creneau.scheduler._metrics import programme_metrics
from creneau.scheduler._problem import (
    Progress,
    SchedulingProblem,
    SolveParameters,
    SolveResult,
    placements_of,
    schedule_document,
)
from creneau.scheduler._schedule import ScheduleDocument
from creneau.scheduler._values import EditionSnapshot
from creneau.scheduler.ports import Solver

__all__ = ["THREADS", "ProcessRunner", "SolveJob", "SolveProgress", "SolveRunner", "ThreadRunner"]

JobState = Literal["running", "finished", "cancelled", "failed"]


@attrs.frozen
class SolveProgress:
    """What a running solve has found so far."""

    elapsed: float  # seconds since the job started
    objective: float | None  # of the best schedule found, None before the first
    bound: float | None  # the best bound proven
    solutions: int  # better schedules found so far
    figures: Mapping[str, float | int] = attrs.field(factory=dict)  # of the best schedule

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        return abs(self.objective - self.bound) / max(abs(self.objective), 1e-9)


class SolveRunner(Protocol):
    """Runs ``solver.solve`` somewhere, from the job's own thread, and returns its result;
    ``progress`` and ``stop`` as the solver port has them."""

    def __call__(
        self,
        solver: Solver,
        problem: SchedulingProblem,
        params: SolveParameters,
        progress: Callable[[Progress], None],
        stop: threading.Event,
    ) -> SolveResult: ...


class ThreadRunner:
    """The solve runs in the job's thread, in the caller's process."""

    def __call__(
        self,
        solver: Solver,
        problem: SchedulingProblem,
        params: SolveParameters,
        progress: Callable[[Progress], None],
        stop: threading.Event,
    ) -> SolveResult:
        return solver.solve(problem, params, progress, stop)


THREADS = ThreadRunner()


class ProcessRunner:
    """The solve runs in a child process (started with ``spawn``: no state of the caller's
    threads is copied into it); the solver, the problem and the answer travel pickled,
    and so does each progress."""

    def __init__(self, method: str = "spawn") -> None:
        import multiprocessing  # only by those who solve in a process

        self._context: Any = multiprocessing.get_context(method)

    def __call__(
        self,
        solver: Solver,
        problem: SchedulingProblem,
        params: SolveParameters,
        progress: Callable[[Progress], None],
        stop: threading.Event,
    ) -> SolveResult:
        messages = self._context.Queue()
        # Stopping is a word down a pipe (a process-shared Event would hang its setter
        # once a process waiting on it has ended); the child stops when the pipe closes
        # too, should this process end first.
        halt, theirs = self._context.Pipe()
        child = self._context.Process(
            target=_solve_in_child, args=(solver, problem, params, messages, theirs),
            name="creneau-solve", daemon=True,
        )  # fmt: skip
        child.start()
        theirs.close()
        halted = False
        try:
            while True:
                if stop.is_set() and not halted:
                    halted = _halt(halt)
                try:
                    kind, value = messages.get(timeout=0.05)
                except queue.Empty:
                    if not child.is_alive():
                        # Whatever it sent before ending is read first.
                        with contextlib.suppress(queue.Empty):
                            kind, value = messages.get(timeout=0.5)
                            if kind != "progress":
                                return _answer(kind, value)
                            continue
                        raise RuntimeError(
                            f"the solve process ended without an answer (exit code "
                            f"{child.exitcode})"
                        ) from None
                    continue
                if kind == "progress":
                    progress(value)
                else:
                    return _answer(kind, value)
        finally:
            _halt(halt)
            halt.close()
            child.join(timeout=10)
            if child.is_alive():
                child.kill()
                child.join()
            messages.close()


def _halt(pipe: Any) -> bool:
    with contextlib.suppress(OSError):  # the child has ended already
        pipe.send("stop")
    return True


def _answer(kind: str, value: Any) -> SolveResult:
    if kind == "result":
        assert isinstance(value, SolveResult)
        return value
    raise RuntimeError(f"the solve process failed: {value}")


def _solve_in_child(
    solver: Solver,
    problem: SchedulingProblem,
    params: SolveParameters,
    messages: Any,
    halt: Any,
) -> None:
    # Ctrl-C reaches the whole process group: the parent decides what it means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop = threading.Event()

    def relay() -> None:
        with contextlib.suppress(EOFError, OSError):
            halt.recv()
        stop.set()

    threading.Thread(target=relay, daemon=True).start()
    try:
        result = solver.solve(problem, params, lambda p: messages.put(("progress", p)), stop)
    except BaseException as exc:  # told to the parent, which raises it
        messages.put(("error", f"{type(exc).__name__}: {exc}"))
    else:
        messages.put(("result", result))
    messages.close()
    messages.join_thread()


class SolveJob:
    """One solve, running. Made by ``SolveJob.start`` (a solve of a problem alone) or by
    ``EditionService.start_solve`` (a solve of an edition, recorded when collected)."""

    def __init__(
        self,
        job_id: str,
        problem: SchedulingProblem,
        params: SolveParameters,
        *,
        edition: EditionSnapshot | None = None,
        stream_version: int | None = None,
        record: Callable[[SolveJob, ScheduleDocument], str | None] | None = None,
    ) -> None:
        self.id = job_id
        self.problem = problem
        self.params = params
        self.edition = edition
        self.stream_version = stream_version
        self._record = record
        self._stop = threading.Event()
        self._done = threading.Event()
        self._cancelled = False
        self._changed = threading.Condition()
        self._raw: Progress | None = None
        self._count = 0
        self._told: tuple[int, SolveProgress] | None = None
        self._result: SolveResult | None = None
        self._failure: BaseException | None = None
        self._collected: tuple[ScheduleDocument, str | None] | None = None
        self._collecting = threading.Lock()
        self._started = time.perf_counter()

    @classmethod
    def start(
        cls,
        solver: Solver,
        problem: SchedulingProblem,
        params: SolveParameters,
        *,
        job_id: str,
        runner: SolveRunner = THREADS,
        edition: EditionSnapshot | None = None,
        stream_version: int | None = None,
        record: Callable[[SolveJob, ScheduleDocument], str | None] | None = None,
    ) -> SolveJob:
        """Start solving ``problem``; returns at once."""
        job = cls(job_id, problem, params, edition=edition, stream_version=stream_version,
                  record=record)  # fmt: skip
        thread = threading.Thread(
            target=job._run, args=(solver, runner), name=f"solve-{job_id}", daemon=True
        )
        thread.start()
        return job

    def _run(self, solver: Solver, runner: SolveRunner) -> None:
        try:
            self._result = runner(solver, self.problem, self.params, self._heard, self._stop)
        except BaseException as exc:  # kept for collect(), which raises it in the caller
            self._failure = exc
        finally:
            self._done.set()
            with self._changed:
                self._changed.notify_all()

    def _heard(self, progress: Progress) -> None:
        with self._changed:
            self._raw = progress
            self._count += 1
            self._changed.notify_all()

    # -- following ---------------------------------------------------------------------

    @property
    def state(self) -> JobState:
        if not self._done.is_set():
            return "running"
        if self._failure is not None:
            return "failed"
        return "cancelled" if self._cancelled else "finished"

    def progress(self) -> SolveProgress:
        """What the solve has found so far (the figures are those of its best schedule)."""
        with self._changed:
            raw, count = self._raw, self._count
        if self._told is not None and self._told[0] == count:
            return self._told[1]
        figures: dict[str, float | int] = {}
        if raw is not None and self.edition is not None and raw.assignments:
            figures = programme_metrics(self.edition, placements_of(self.problem, raw.assignments))
        told = SolveProgress(
            elapsed=time.perf_counter() - self._started if raw is None else raw.elapsed,
            objective=None if raw is None else raw.objective,
            bound=None if raw is None else raw.bound,
            solutions=count, figures=figures,
        )  # fmt: skip
        self._told = (count, told)
        return told

    def follow(self, timeout: float | None = None) -> Iterator[SolveProgress]:
        """Each better schedule's progress as it comes (several found between two looks
        are told once, as the latest), until the solve ends or ``timeout`` seconds pass
        without news."""
        seen = 0
        while True:
            with self._changed:
                while self._count == seen and not self._done.is_set():
                    if not self._changed.wait(timeout):
                        break
                count = self._count
            if count == seen:
                return  # the solve has ended, or the timeout passed, with nothing new
            seen = count
            yield self.progress()

    # -- steering ----------------------------------------------------------------------

    def stop(self) -> None:
        """End the search now; the best schedule found so far is the answer (marked
        interrupted), recorded when collected."""
        self._stop.set()

    def cancel(self) -> None:
        """End the search now; nothing will be recorded."""
        self._cancelled = True
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the solve to end; whether it has."""
        return self._done.wait(timeout)

    # -- collecting --------------------------------------------------------------------

    def result(self, timeout: float | None = None) -> SolveResult:
        """The solver's answer, once the solve has ended (``TimeoutError`` before)."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"the solve {self.id} is still running")
        if self._failure is not None:
            raise self._failure
        assert self._result is not None
        return self._result

    def document(self, timeout: float | None = None) -> ScheduleDocument:
        """The answer as a schedule document."""
        return schedule_document(self.problem, self.result(timeout), self.params,
                                 stream_version=self.stream_version,
                                 edition=self.edition)  # fmt: skip

    def collect(self, timeout: float | None = None) -> tuple[ScheduleDocument, str | None]:
        """The schedule document, and the id it is recorded under: recorded now if the
        solve found a schedule and was not cancelled, the first time only (None when
        nothing is recorded)."""
        with self._collecting:
            if self._collected is None:
                document = self.document(timeout)
                schedule_id = None
                found = document.status in ("optimal", "feasible")
                if found and not self._cancelled and self._record is not None:
                    schedule_id = self._record(self, document)
                self._collected = (document, schedule_id)
            return self._collected
