"""The HTTP API (``/api/v1``): one Litestar application over the engine, the command
line's handlers and words behind every route.

- Every committee command goes through ``EditionService.execute``, as on the command
  line; a write carries the version its client last read (``If-Match``), and a stale one
  is answered 409 with the current version, nothing written. Committee writes without
  ``If-Match`` are answered 428; bookings and cancellations at the desk may omit it
  (places are live data: the domain keeps them consistent, a version would only make 50
  desks refuse each other).
- Every refusal is a problem document (RFC 9457) naming the rule or the field, in the
  words of the command line, in the language the request asks for (``?lang=`` or
  ``Accept-Language``, French by default).
- Who may do what: ``Authorization: Bearer`` tokens (adapters/tokens.py) with a role,
  scoped to one edition; the token's name is the actor of every event it causes. Without
  a token: the list of editions and their published programme, nothing else.
- The light routes (the programme and the edition document, mostly from a cache; a
  move; a booking) run on the event loop: the engine takes one call at a time anyway,
  and a hop to a worker thread and back cost more than the call. The heavy ones (exports,
  imports, solves, pages) run in worker threads, so that the loop stays free.
- Solves run as jobs outside the request (threads of this process), their progress
  streamed as server-sent events; the result is recorded as ``schedule.proposed``.

Nothing is kept only in this process but the running solves: several servers on one
PostgreSQL store serve the same editions, tokens and versions.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from litestar import Litestar, Request, Response, delete, get, post
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import ServerSentEvent

from creneau.adapters._i18n import LANGUAGES, Words, words
from creneau.adapters._messages import (
    Names,
    error_lines,
    problem_text,
    shown,
)
from creneau.adapters.tokens import Token, Tokens
from creneau.scheduler import (
    BookPlace,
    CancelPlace,
    Command,
    ConcurrencyError,
    CreneauError,
    EditionService,
    EditionState,
    ImportEdition,
    InvalidCommand,
    MoveSession,
    SolveJob,
    SolveProgramme,
)
from creneau.scheduler.ports import EventStore

__all__ = ["create_app"]

T = TypeVar("T")
READ = ("admin", "committee", "desk", "viewer")
DESK = ("admin", "committee", "desk")
COMMITTEE = ("admin", "committee")


# -- what travels -------------------------------------------------------------------------


class EditionSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    version: int
    published: bool


class Written(msgspec.Struct, frozen=True, kw_only=True):
    """What a write did: the events recorded and the version the edition is at now."""

    events: int
    version: int


class Move(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    session: str
    occurrence: int = 1
    day: dt.date | None = None
    start: str | None = None
    room: str | None = None


class Booking(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    attendee: str
    session: str
    occurrence: int = 1
    rotation: str | None = None
    profile: str | None = None


class SolveRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    time_limit: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 30.0
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 2
    seed: int = 0


class SolveStatus(msgspec.Struct, frozen=True, kw_only=True):
    job: str
    edition: str
    solved_version: int
    state: Literal["queued", "running", "finished", "cancelled", "failed"]
    elapsed: float | None = None
    objective: float | None = None
    bound: float | None = None
    solutions: int = 0
    figures: dict[str, float] = msgspec.field(default_factory=dict)
    schedule: str | None = None  # once recorded
    detail: str = ""  # why it was not recorded, when it was not


class LogEntry(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    version: int
    recorded_at: str  # UTC, as recorded (and hashed)
    actor: str
    type: str
    event: str  # the type in words
    entity: str
    entity_name: str  # in words
    changed: str  # what changed, in words (old → new)


class LogPage(msgspec.Struct, frozen=True, kw_only=True):
    entries: list[LogEntry]
    total: int
    offset: int


# -- problems -----------------------------------------------------------------------------


class Problem(HTTPException):
    """A refusal as a problem document (RFC 9457)."""

    def __init__(self, status: int, code: str, title: str, *, detail: str = "",
                 errors: list[dict[str, str]] | None = None, **extra: Any) -> None:  # fmt: skip
        super().__init__(status_code=status, detail=detail or title)
        self.code, self.title, self.errors, self.fields = code, title, errors or [], extra


def _problem_response(request: Request[Any, Any, Any], exc: Problem) -> Response[Any]:
    body: dict[str, Any] = {"type": f"urn:creneau:problem:{exc.code}", "title": exc.title,
                            "status": exc.status_code, "detail": exc.detail,
                            "instance": request.url.path}  # fmt: skip
    if exc.errors:
        body["errors"] = exc.errors
    body.update(exc.fields)
    headers = {"ETag": f'"{exc.fields["version"]}"'} if "version" in exc.fields else None
    return Response(body, status_code=exc.status_code, media_type="application/problem+json",
                    headers=headers)  # fmt: skip


def _http_problem(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Litestar's own refusals (a malformed body, an unknown route) as problem documents."""
    w = _words(request)
    titles = {400: w._("the request is malformed"), 404: w._("nothing here"),
              405: w._("this method is not allowed here")}  # fmt: skip
    title = titles.get(exc.status_code, str(exc.detail))
    extra = getattr(exc, "extra", None)
    problem = Problem(exc.status_code, "http", title, detail=str(exc.detail),
                      **({"extra": extra} if extra else {}))  # fmt: skip
    return _problem_response(request, problem)


def _words(request: Request[Any, Any, Any]) -> Words:
    lang = request.query_params.get("lang")
    if lang not in LANGUAGES:
        accept = request.headers.get("accept-language", "")
        lang = "en" if accept.lower().startswith("en") else "fr"
    return words(lang)


def _refusal(exc: CreneauError, w: Words, names: Names | None) -> Problem:
    if isinstance(exc, ConcurrencyError):
        return Problem(409, "stale_version", w._("the edition has changed since you read it"),
                       detail=w._("read it again (version {version}) and retry",
                                  version=exc.actual), version=exc.actual)  # fmt: skip
    if isinstance(exc, InvalidCommand):
        errors = [{"path": p.path, "code": p.code, "message": problem_text(p, w, names)}
                  for p in exc.problems]  # fmt: skip
        return Problem(422, "refused", w._("refused, nothing was recorded"),
                       detail="; ".join(e["message"] for e in errors), errors=errors)  # fmt: skip
    status = 404 if exc.code.startswith(("no_such", "unknown", "no_programme")) else 400
    return Problem(status, exc.code, error_lines(exc, w, names)[0])


# -- the application ----------------------------------------------------------------------


class Server:
    """The engine behind the routes: one store, its tokens, the solves running here."""

    def __init__(self, store: EventStore, solver: Any = None, queue: Any = None) -> None:
        from creneau.solver import CpSatSolver

        self.store = store
        # A SolveQueue (adapters/jobqueue.py): solves go to the workers, and any server
        # on the same store tells and steers them. None: solves run in this process.
        self.queue = queue
        self.service = EditionService(store)
        self.tokens = Tokens(store)
        self.solver = solver or CpSatSolver()
        self.lock = threading.RLock()  # one engine call at a time: the stores are not shared
        self.jobs: dict[str, tuple[str, int, SolveJob]] = {}
        self.sweeps: dict[str, tuple[str, list[tuple[str, str]]]] = {}  # scenario, job
        # Changes made on any host, told to this server's pages (adapters/fanout.py): for
        # a PostgreSQL store, shared by several servers.
        self.postgres = type(store).__name__ == "PostgresEventStore"
        self.fanout: Any = None
        if self.postgres:
            from creneau.adapters.fanout import Fanout

            self.fanout = Fanout(store)
        self._cache: dict[tuple[str, str, str], tuple[int, bytes]] = {}

    def call(self, work: Callable[[], T], w: Words, edition: str | None = None) -> T:
        with self.lock:
            try:
                return work()
            except CreneauError as exc:
                names = None
                if edition is not None and isinstance(exc, InvalidCommand):
                    try:
                        names = Names.of(shown(self.service.load(edition), w))
                    except CreneauError:
                        names = None
                raise _refusal(exc, w, names) from exc

    def cached(self, edition: str, what: str, render: Callable[[EditionState], bytes],
               w: Words) -> tuple[int, bytes]:  # fmt: skip
        """``render(state)`` of the edition as it is now, made once per version: reading
        the version is one query, reading the state and encoding it much more."""
        from creneau.scheduler._application import stream_id_of

        with self.lock:
            version = self.store.stream_version(stream_id_of(edition))
            hit = self._cache.get((edition, what, w.lang))
            if hit is not None and hit[0] == version:
                return hit
        state = self.state(edition, w)
        entry = (state.version, render(state))
        with self.lock:
            self._cache[(edition, what, w.lang)] = entry
        return entry

    def exists(self, edition: str, w: Words) -> None:
        """Refuse, 404, an edition this store does not hold (one query)."""
        from creneau.scheduler._application import stream_id_of

        with self.lock:
            version = self.store.stream_version(stream_id_of(edition))
        if version == 0:
            raise Problem(404, "no_such_edition", w._('no edition "{edition}" here',
                                                        edition=edition))  # fmt: skip

    def audit(self, edition: str, entity: str | None, w: Words) -> list[Any]:
        """The edition's audit trail (its view caught up), narrowed to one entity when
        asked (``room:r1``, or its id alone)."""
        self.exists(edition, w)

        def lines() -> list[Any]:
            self.service.views.catch_up()
            found = self.service.views.audit(edition)
            if entity is None:
                return list(found)
            return [x for x in found if entity in (x.entity, x.entity.partition(":")[2])]

        return self.call(lines, w, edition)

    def state(self, edition: str, w: Words, **at: Any) -> EditionState:
        if edition not in self.service.editions():
            raise Problem(404, "no_such_edition", w._('no edition "{edition}" here',
                                                        edition=edition))  # fmt: skip
        return self.call(lambda: self.service.load(edition, **at), w, edition)


def _server(request: Request[Any, Any, Any]) -> Server:
    server: Server = request.app.state.server
    return server


def _token(request: Request[Any, Any, Any], w: Words) -> Token | None:
    header = request.headers.get("authorization", "")
    if not header:
        return None
    scheme, _, secret = header.partition(" ")
    token = _server(request).tokens.authenticate(secret.strip()) if scheme.lower() == "bearer" \
        else None  # fmt: skip
    if token is None:
        raise Problem(401, "bad_token", w._("this token is unknown or revoked"))
    return token


def _allowed(request: Request[Any, Any, Any], edition: str | None, roles: tuple[str, ...],
             w: Words) -> Token:  # fmt: skip
    token = _token(request, w)
    if token is None:
        raise Problem(401, "token_needed", w._("this needs a token (Authorization: Bearer)"))
    if token.role != "admin" and edition is not None and token.edition != edition:
        raise Problem(403, "other_edition", w._("this token is not for this edition"))
    if token.role not in roles:
        raise Problem(403, "role_refused", w._('the role "{role}" may not do this',
                                               role=token.role))  # fmt: skip
    return token


def _expected(request: Request[Any, Any, Any], w: Words, *, required: bool) -> int | None:
    header = request.headers.get("if-match")
    if header is None:
        if required:
            raise Problem(428, "version_needed", w._("say which version you read (If-Match)"))
        return None
    text = header.strip().removeprefix("W/").strip('"')
    if not text.isdecimal() or not text.isascii():
        raise Problem(400, "bad_if_match", w._('"{value}" is not a version', value=header))
    return int(text)


def _written(server: Server, edition: str, recorded: list[Any]) -> Response[Written]:
    if recorded:
        version = recorded[-1].version
    else:
        from creneau.scheduler._application import stream_id_of

        with server.lock:
            version = server.store.stream_version(stream_id_of(edition))
    return Response(Written(events=len(recorded), version=version),
                    headers={"ETag": f'"{version}"'})  # fmt: skip


def _execute(request: Request[Any, Any, Any], edition: str, command: Command,
             roles: tuple[str, ...], *, required: bool = True) -> Response[Written]:  # fmt: skip
    w = _words(request)
    server = _server(request)
    token = _allowed(request, edition, roles, w)
    server.exists(edition, w)
    expected = _expected(request, w, required=required)

    def write() -> list[Any]:
        # Without a version (the desk), a write that lost the race to another server
        # is decided again on the new state, as many times as it takes within reason.
        return server.service.execute(command, edition_id=edition, actor=token.name,
                                      expected_version=expected, attempts=50)  # fmt: skip

    recorded = server.call(write, w, edition)
    return _written(server, edition, recorded)


def summaries(server: Server, w: Words) -> list[EditionSummary]:
    out = []
    for edition in server.call(server.service.editions, w):
        state = server.state(edition, w)
        name = state.info.name if state.info else edition
        out.append(EditionSummary(id=edition, name=name or edition, version=state.version,
                                  published=state.accepted is not None))  # fmt: skip
    return out


@get("/api/v1/editions", sync_to_thread=True)
def list_editions(request: Request[Any, Any, Any]) -> list[EditionSummary]:
    """The editions of this store (public)."""
    return summaries(_server(request), _words(request))


@post("/api/v1/editions", sync_to_thread=True, status_code=201)
def import_edition(request: Request[Any, Any, Any],
                   data: JSONBody[dict[str, Any]]) -> Response[Written]:  # fmt: skip
    """Create or re-import an edition from an edition document (admin; the committee of
    that edition for a re-import)."""
    from creneau.adapters.edition_document import read_raw

    w = _words(request)
    server = _server(request)
    snapshot = server.call(lambda: read_raw(data), w)
    exists = snapshot.id in server.service.editions()
    token = _allowed(request, snapshot.id if exists else None,
                     COMMITTEE if exists else ("admin",), w)  # fmt: skip
    expected = _expected(request, w, required=exists)
    recorded = server.call(lambda: server.service.execute(
        ImportEdition(snapshot=snapshot, source="api"), actor=token.name,
        expected_version=expected), w, snapshot.id)  # fmt: skip
    return _written(server, snapshot.id, recorded)


@get("/api/v1/editions/{edition:str}", sync_to_thread=False,
     responses={200: ResponseSpec(data_container=dict[str, Any],
                                  description="the edition document")})  # fmt: skip
def read_edition(
    request: Request[Any, Any, Any],
    edition: FromPath[str],
    version: Annotated[int | None, QueryParameter(ge=0)] = None,
    at: FromQuery[dt.datetime | None] = None,
) -> Response[bytes]:
    """The edition as its document says it, now, at a version or at a time."""
    from creneau.adapters.edition_document import to_document

    w = _words(request)
    server = _server(request)
    _allowed(request, edition, READ, w)
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    if version is None and at is None:  # now: encoded once per version
        now, data = server.cached(edition, "document", lambda state: msgspec.json.encode(
            to_document(shown(state, w))), w)  # fmt: skip
        return Response(data, media_type="application/json", headers={"ETag": f'"{now}"'})
    state = server.state(edition, w, at_version=version, at_time=at)
    if not state.exists:  # asked as it was before it was created
        raise Problem(404, "not_yet", w._('"{edition}" did not exist yet then', edition=edition))
    data = msgspec.json.encode(to_document(shown(state, w)))
    return Response(data, media_type="application/json", headers={"ETag": f'"{state.version}"'})


@get("/api/v1/editions/{edition:str}/programme", sync_to_thread=False,
     responses={200: ResponseSpec(data_container=dict[str, Any],
                                  description="the published programme, a schedule "
                                  "document (docs/schema/schedule.schema.json)")})  # fmt: skip
def read_programme(request: Request[Any, Any, Any], edition: FromPath[str]) -> Response[bytes]:
    """The published programme as a schedule document (public)."""
    w = _words(request)
    server = _server(request)

    def render(state: EditionState) -> bytes:
        if state.accepted is None:
            raise Problem(404, "no_programme_yet",
                          error_lines(CreneauError("no_programme_yet"), w)[0])  # fmt: skip
        published = msgspec.structs.replace(state.schedules[state.accepted],
                                            assignments=state.programme,
                                            stream_version=state.version)  # fmt: skip
        return msgspec.json.encode(published)

    version, data = server.cached(edition, "programme", render, w)
    return Response(data, media_type="application/json", headers={"ETag": f'"{version}"'})


PUBLIC_EXPORTS = {"frab-xml", "c3voc-json", "ics", "xcal", "csv", "xlsx", "html", "pdf"}
MEDIA = {"edition": "application/json", "xlsx-edition": "application/vnd.openxmlformats-"
         "officedocument.spreadsheetml.sheet", "json": "application/json",
         "frab-xml": "application/xml", "c3voc-json": "application/json",
         "ics": "text/calendar", "xcal": "application/calendar+xml", "csv": "text/csv",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "html": "text/html", "pdf": "application/pdf", "run-sheets": "application/pdf",
         "run-sheets-html": "text/html"}  # fmt: skip


@get("/api/v1/editions/{edition:str}/exports/{format:str}", sync_to_thread=True)
def export(
    request: Request[Any, Any, Any],
    edition: FromPath[str],
    format: FromPath[str],
    audience: FromQuery[str | None] = None,
    room: FromQuery[str | None] = None,
    person: FromQuery[str | None] = None,
) -> Response[bytes]:
    """The edition or its programme in one of `creneau export`'s formats; the public
    ones (feeds, calendars, tables, the public programme) need no token."""
    from creneau.adapters._exporting import FORMATS, export_of

    w = _words(request)
    server = _server(request)
    if format not in FORMATS:
        raise Problem(404, "unknown_format", w._('no export format "{format}"', format=format))
    if format not in PUBLIC_EXPORTS:
        _allowed(request, edition, READ, w)
    state = server.state(edition, w)
    chosen = {k: v for k, v in (("audience", audience), ("room", room), ("person", person))
              if v is not None}  # fmt: skip
    data = server.call(lambda: FORMATS[format].render(export_of(state, format, w, chosen)),
                       w, edition)  # fmt: skip
    return Response(data, media_type=MEDIA.get(format, "application/octet-stream"),
                    headers={"ETag": f'"{state.version}"'})  # fmt: skip


@post("/api/v1/editions/{edition:str}/commands", sync_to_thread=True, status_code=200)
def command(request: Request[Any, Any, Any], edition: FromPath[str],
            data: JSONBody[dict[str, Any]]) -> Response[Written]:  # fmt: skip
    """Any committee command (rooms, people, sessions, availability, pins, policies,
    schedules), as the command line sends them: a JSON object tagged by ``command``
    (``{"command": "update_room", "room": {…}}``; docs/formats.md lists them)."""
    w = _words(request)
    try:
        decoded = msgspec.convert(data, Command)
    except msgspec.ValidationError as exc:
        raise Problem(400, "bad_command", w._("not a command Créneau knows: {detail}",
                                              detail=str(exc))) from exc  # fmt: skip
    return _execute(request, edition, decoded, COMMITTEE)


@post("/api/v1/editions/{edition:str}/moves", sync_to_thread=False, status_code=200)
def move(request: Request[Any, Any, Any], edition: FromPath[str],
         data: JSONBody[Move]) -> Response[Written]:  # fmt: skip
    """Move one run of the published programme by hand (`creneau move`)."""
    return _execute(request, edition, MoveSession(
        session_id=data.session, occurrence=data.occurrence, day=data.day, start=data.start,
        room=data.room), COMMITTEE)  # fmt: skip


@post("/api/v1/editions/{edition:str}/bookings", sync_to_thread=False, status_code=200)
def book(
    request: Request[Any, Any, Any], edition: FromPath[str], data: JSONBody[Booking]
) -> Response[Written]:
    """Book a place, or a place on the waiting list (the desk)."""
    return _execute(request, edition, BookPlace(
        attendee=data.attendee, session_id=data.session, occurrence=data.occurrence,
        rotation=data.rotation, profile=data.profile), DESK, required=False)  # fmt: skip


@delete("/api/v1/editions/{edition:str}/bookings/{attendee:str}/{session:str}",
        sync_to_thread=True, status_code=200)  # fmt: skip
def cancel(request: Request[Any, Any, Any], edition: FromPath[str], attendee: FromPath[str],
           session: FromPath[str]) -> Response[Written]:  # fmt: skip
    """Cancel an attendee's place in a session (the first on the waiting list takes it)."""
    return _execute(request, edition, CancelPlace(attendee=attendee, session_id=session),
                    DESK, required=False)  # fmt: skip


@get("/api/v1/editions/{edition:str}/places", sync_to_thread=True)
def places(request: Request[Any, Any, Any], edition: FromPath[str]) -> list[dict[str, Any]]:
    """Places by run: offered, taken, who holds them and who waits."""
    from creneau.scheduler import offered

    w = _words(request)
    _allowed(request, edition, READ, w)
    state = _server(request).state(edition, w)
    out = []
    for (session, occurrence, rotation), (confirmed, waiting) in sorted(
        state.places.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")
    ):
        out.append({"session": session, "occurrence": occurrence, "rotation": rotation,
                    "offered": offered(state, session, occurrence, rotation),
                    "confirmed": list(confirmed), "waiting": list(waiting)})  # fmt: skip
    return out


@get("/api/v1/editions/{edition:str}/log", sync_to_thread=True)
def audit_log(
    request: Request[Any, Any, Any],
    edition: FromPath[str],
    entity: FromQuery[str | None] = None,
    offset: Annotated[int, QueryParameter(ge=0)] = 0,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    names: FromQuery[bool] = False,
) -> LogPage:
    """The audit log: who changed what, when; paged, and narrowed to one entity. People's
    names, organisations and gender are left out unless asked (``names=true``, a
    committee's token), as `creneau log` leaves them out without ``--names``."""
    w = _words(request)
    token = _allowed(request, edition, READ, w)
    if names and token.role not in COMMITTEE:
        raise Problem(403, "role_refused", w._('the role "{role}" may not do this',
                                               role=token.role))  # fmt: skip
    found = _server(request).audit(edition, entity, w)
    page = [log_entry(x, w, names=names) for x in found[offset : offset + limit]]
    return LogPage(entries=page, total=len(found), offset=offset)


def log_entry(line: Any, w: Words, *, names: bool = False) -> LogEntry:
    """A line of the audit trail in the words of the request; a person's name,
    organisation and gender only named as changed, unless ``names``."""
    from creneau.adapters._describe import EVENTS, change_line, entity_text
    from creneau.adapters._show import PERSONAL
    from creneau.scheduler import EntityChange

    hide = PERSONAL if line.entity.startswith("person:") and not names else frozenset()

    return LogEntry(
        position=line.position, version=line.version, recorded_at=line.recorded_at,
        actor=line.actor, type=line.type,
        event=w._(EVENTS[line.type]) if line.type in EVENTS else line.type,
        entity=line.entity, entity_name=entity_text(line.entity, w),
        changed=change_line(EntityChange("", "", "", line.fields), w, hide=hide)
        if line.fields else "",
    )  # fmt: skip


class Diff(msgspec.Struct, frozen=True, kw_only=True):
    a: str
    b: str
    changes: list[str]  # in words, as `creneau diff` says them


@get("/api/v1/editions/{edition:str}/diff", sync_to_thread=True)
def diff(
    request: Request[Any, Any, Any],
    edition: FromPath[str],
    a: FromQuery[str],
    b: FromQuery[str] = "programme",
) -> Diff:
    """What changes from schedule ``a`` to ``b`` (a schedule id, or ``programme``)."""
    from creneau.adapters._report import render_changes
    from creneau.scheduler import schedule_changes

    w = _words(request)
    _allowed(request, edition, READ, w)
    state = _server(request).state(edition, w)

    def runs(which: str) -> tuple[Any, ...]:
        if which == "programme":
            return state.programme
        if which not in state.schedules:
            raise Problem(404, "no_such_schedule", w._('no schedule "{schedule}" here',
                                                       schedule=which))  # fmt: skip
        return state.schedules[which].assignments

    changes = schedule_changes(runs(a), runs(b))
    return Diff(a=a, b=b, changes=render_changes(shown(state, w), changes, w))


@post("/api/v1/editions/{edition:str}/solves", sync_to_thread=True, status_code=202)
def start_solve(request: Request[Any, Any, Any], edition: FromPath[str],
                data: JSONBody[SolveRequest | None] = None) -> SolveStatus:  # fmt: skip
    """Start a solve: it runs outside the request, and is recorded as proposed when done."""
    w = _words(request)
    server = _server(request)
    token = _allowed(request, edition, COMMITTEE, w)
    state = server.state(edition, w)
    ask = data or SolveRequest()
    command = SolveProgramme(time_limit=ask.time_limit, workers=ask.workers, seed=ask.seed)
    if server.queue is not None:
        queued = server.call(
            lambda: server.queue.enqueue(
                edition,
                command,
                actor=token.name,
                replan=bool(state.programme),
                version=state.version,
            ),
            w,
            edition,
        )
        return _status(server, queued, w)
    job = server.call(lambda: server.service.start_solve(edition, server.solver, command,
                                                         actor=token.name), w, edition)  # fmt: skip
    server.jobs[job.id] = (edition, state.version, job)
    return _status(server, job.id, w)


def _status(server: Server, job_id: str, w: Words) -> SolveStatus:
    if job_id not in server.jobs:
        return _queued_status(server.queue.info(job_id), w)
    edition, version, job = server.jobs[job_id]
    progress = job.progress()
    schedule, detail = None, ""
    if job.state == "finished":
        with server.lock:
            try:
                _, schedule = job.collect()
            except CreneauError as exc:  # what it solved changed meanwhile: it says what
                detail = "; ".join(error_lines(exc, w))
    return SolveStatus(
        job=job_id, edition=edition, solved_version=version, state=job.state,
        elapsed=progress.elapsed, objective=progress.objective, bound=progress.bound,
        solutions=progress.solutions,
        figures={k: float(v) for k, v in progress.figures.items() if v is not None},
        schedule=schedule, detail=detail,
    )  # fmt: skip


def _queued_status(info: Any, w: Words) -> SolveStatus:
    """A queued job as the queue tells it (``JobInfo``)."""
    detail = info.detail
    if info.error is not None:  # in the words of this request, whichever worker ran it
        from creneau.adapters.jobqueue import error_text

        detail = error_text(info.error, w)
    if info.state in ("finished", "failed") and info.schedule is None and not detail:
        from creneau.adapters._messages import impossible_text

        detail = w._("no schedule found ({outcome}): nothing recorded", outcome=info.outcome)
        if info.explanation:
            detail = impossible_text(info.explanation, w)
    return SolveStatus(
        job=info.job, edition=info.edition, solved_version=info.asked_version or 0,
        state="finished" if info.schedule is not None else info.state, elapsed=info.elapsed,
        objective=info.objective, bound=info.bound, solutions=info.solutions,
        figures=info.figures, schedule=info.schedule, detail=detail,
    )  # fmt: skip


def _job(request: Request[Any, Any, Any], edition: str, job: str, roles: tuple[str, ...]) -> None:
    w = _words(request)
    _allowed(request, edition, roles, w)
    server = _server(request)
    known = server.jobs.get(job)
    if known is not None and known[0] == edition:
        return
    if server.queue is not None:  # a job any server of the store queued
        info = server.call(lambda: server.queue.info(job), w)
        if info is not None and info.edition == edition:
            return
    raise Problem(404, "no_such_job", w._('no solve "{job}" here', job=job))


@get("/api/v1/editions/{edition:str}/solves/{job:str}", sync_to_thread=True)
def solve_status(
    request: Request[Any, Any, Any], edition: FromPath[str], job: FromPath[str]
) -> SolveStatus:
    _job(request, edition, job, READ)
    return _status(_server(request), job, _words(request))


@get("/api/v1/editions/{edition:str}/solves/{job:str}/events")
async def solve_events(
    request: Request[Any, Any, Any], edition: FromPath[str], job: FromPath[str]
) -> ServerSentEvent:
    """The solve's progress as server-sent events, every half second, until it ends."""
    import anyio

    _job(request, edition, job, READ)
    server, w = _server(request), _words(request)

    async def events() -> AsyncIterator[str]:
        while True:
            status = await anyio.to_thread.run_sync(_status, server, job, w)
            yield msgspec.json.encode(status).decode()
            if status.state != "running":
                return
            await anyio.sleep(0.5)

    return ServerSentEvent(events(), event_type="progress")


@post("/api/v1/editions/{edition:str}/solves/{job:str}/stop", sync_to_thread=True, status_code=200)
def stop_solve(
    request: Request[Any, Any, Any], edition: FromPath[str], job: FromPath[str]
) -> SolveStatus:
    """Stop the search now: the best schedule found so far is recorded."""
    return _steer(request, edition, job, SolveJob.stop)


@delete("/api/v1/editions/{edition:str}/solves/{job:str}", sync_to_thread=True, status_code=200)
def cancel_solve(
    request: Request[Any, Any, Any], edition: FromPath[str], job: FromPath[str]
) -> SolveStatus:
    """Cancel the solve: nothing is recorded."""
    return _steer(request, edition, job, SolveJob.cancel)


def _steer(request: Request[Any, Any, Any], edition: str, job: str,
           action: Callable[[SolveJob], None]) -> SolveStatus:  # fmt: skip
    _job(request, edition, job, COMMITTEE)
    server = _server(request)
    if job not in server.jobs:
        server.queue.ask(job, "stop" if action is SolveJob.stop else "cancel")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = _status(server, job, _words(request))
            if status.state not in ("queued", "running"):
                return status
            time.sleep(0.2)
        return status
    running = server.jobs[job][2]
    action(running)
    running.wait(30)
    return _status(server, job, _words(request))


class ScenarioChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    room: str | None = None
    person: str | None = None
    day: dt.date | None = None


class ScenarioRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One variant (docs/formats.md, "Scenarios")."""

    name: str
    policies: dict[str, Any] = msgspec.field(default_factory=dict)
    closed: list[ScenarioChange] = msgspec.field(default_factory=list)
    absent: list[ScenarioChange] = msgspec.field(default_factory=list)
    time_limit: Annotated[float, msgspec.Meta(gt=0, le=3600)] | None = None
    seed: int | None = None


class SweepRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    time_limit: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 30.0
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    seed: int = 0
    scenario: list[ScenarioRequest]


class SweepStatus(msgspec.Struct, frozen=True, kw_only=True):
    sweep: str
    edition: str
    state: Literal["running", "finished"]
    rows: list[Any]  # adapters/_queueing.py ScenarioRow


@post("/api/v1/editions/{edition:str}/scenarios", sync_to_thread=True, status_code=202)
def start_sweep(request: Request[Any, Any, Any], edition: FromPath[str],
                data: JSONBody[SweepRequest]) -> SweepStatus:  # fmt: skip
    """Solve what-if variants of the edition, each recorded as a proposed schedule tagged
    with its scenario: on the workers when solves are queued, in this server otherwise."""
    from creneau.adapters._queueing import scenario_command, sweep_of
    from creneau.scheduler import check_scenarios

    w = _words(request)
    server = _server(request)
    token = _allowed(request, edition, COMMITTEE, w)
    state = server.state(edition, w)
    raw = msgspec.to_builtins(data)
    for change in (*raw["scenario"],):
        for key in ("closed", "absent"):
            change[key] = [{k: v for k, v in c.items() if v is not None} for c in change[key]]
    command, scenarios = server.call(lambda: sweep_of(raw), w, edition)
    sweep = f"sweep-{uuid.uuid4().hex[:12]}"

    def start() -> list[tuple[str, str]]:
        check_scenarios(state.snapshot(), scenarios)  # every one, before any starts
        jobs = []
        for i, s in enumerate(scenarios, start=1):
            job_id = f"{sweep}-{i}"
            if server.queue is not None:
                server.queue.enqueue(edition, scenario_command(command, s), actor=token.name,
                                     scenario=s, sweep=sweep, job_id=job_id,
                                     version=state.version)  # fmt: skip
            else:
                job = server.service.start_solve(
                    edition, server.solver, scenario_command(command, s), actor=token.name,
                    job_id=job_id, scenario=s)  # fmt: skip
                server.jobs[job_id] = (edition, state.version, job)
            jobs.append((s.name, job_id))
        return jobs

    jobs = server.call(start, w, edition)
    server.sweeps[sweep] = (edition, jobs)
    return _sweep_status(server, sweep, w)


def _sweep_status(server: Server, sweep: str, w: Words) -> SweepStatus:
    from creneau.adapters._queueing import comparison

    edition, jobs = server.sweeps[sweep]
    # The queued ones read in one query, each once.
    queued = {} if server.queue is None else {i.job: i for i in server.queue.sweep(sweep)}
    done: list[tuple[str, str, str, str | None, str]] = []
    for name, job_id in jobs:
        outcome = None
        if job_id in server.jobs:
            status = _status(server, job_id, w)
            if status.state == "finished":
                outcome = server.jobs[job_id][2].document().status
        else:
            status = _queued_status(queued[job_id], w)
            outcome = queued[job_id].outcome
        done.append((name, job_id, status.state, outcome, status.detail))
    state = server.call(lambda: server.service.load(edition), w, edition)
    rows = comparison(state, done)
    running = any(r.state in ("queued", "running") for r in rows)
    return SweepStatus(sweep=sweep, edition=edition, state="running" if running else "finished",
                       rows=[msgspec.to_builtins(r) for r in rows])  # fmt: skip


@get("/api/v1/editions/{edition:str}/scenarios/{sweep:str}", sync_to_thread=True)
def sweep_status(request: Request[Any, Any, Any], edition: FromPath[str],
                 sweep: FromPath[str]) -> SweepStatus:  # fmt: skip
    """The sweep's comparison: one row per scenario, as its solves end."""
    w = _words(request)
    server = _server(request)
    _allowed(request, edition, READ, w)
    if sweep not in server.sweeps and server.queue is not None:
        infos = server.call(lambda: server.queue.sweep(sweep), w, edition)
        if infos and infos[0].edition == edition:
            server.sweeps[sweep] = (edition, [(i.scenario or "", i.job) for i in infos])
    known = server.sweeps.get(sweep)
    if known is None or known[0] != edition:
        raise Problem(404, "no_such_sweep", w._('no scenario sweep "{sweep}" here', sweep=sweep))
    return _sweep_status(server, sweep, w)


class TokenRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    role: Literal["admin", "committee", "desk", "viewer"]
    name: str
    edition: str | None = None


class TokenMade(msgspec.Struct, frozen=True, kw_only=True):
    token_id: str
    name: str
    role: str
    edition: str | None
    secret: str  # shown once: the store keeps its digest only


class TokenShown(msgspec.Struct, frozen=True, kw_only=True):
    token_id: str
    name: str
    role: str
    edition: str | None
    revoked: bool


@post("/api/v1/tokens", sync_to_thread=True, status_code=201)
def create_token(request: Request[Any, Any, Any], data: JSONBody[TokenRequest]) -> TokenMade:
    """A new token (admin): its secret is in this answer only."""
    w = _words(request)
    server = _server(request)
    admin = _allowed(request, None, ("admin",), w)
    token, secret = server.call(lambda: server.tokens.create(
        role=data.role, edition=data.edition, name=data.name, actor=admin.name), w)  # fmt: skip
    return TokenMade(token_id=token.token_id, name=token.name, role=token.role,
                     edition=token.edition, secret=secret)  # fmt: skip


@get("/api/v1/tokens", sync_to_thread=True)
def list_tokens(request: Request[Any, Any, Any]) -> list[TokenShown]:
    """Every token, live or revoked, without its secret (admin)."""
    w = _words(request)
    server = _server(request)
    _allowed(request, None, ("admin",), w)
    tokens = server.call(server.tokens.all, w)
    return [TokenShown(token_id=t.token_id, name=t.name, role=t.role, edition=t.edition,
                       revoked=t.revoked) for t in tokens.values()]  # fmt: skip


@delete("/api/v1/tokens/{name:str}", sync_to_thread=True, status_code=200)
def revoke_token(request: Request[Any, Any, Any], name: FromPath[str]) -> TokenShown:
    """Revoke a token by its name or id (admin); it is refused from then on."""
    w = _words(request)
    server = _server(request)
    admin = _allowed(request, None, ("admin",), w)
    t = server.call(lambda: server.tokens.revoke(name, actor=admin.name), w)
    return TokenShown(token_id=t.token_id, name=t.name, role=t.role, edition=t.edition,
                      revoked=True)  # fmt: skip


class ChainBroken(msgspec.Struct, frozen=True, kw_only=True):
    stream: str
    version: int
    position: int
    reason: str  # gap, previous_hash, altered, unreadable


class HistoryRewritten(msgspec.Struct, frozen=True, kw_only=True):
    code: str  # gone, rewritten, no_such_moment
    stream: str
    version: int


class Verified(msgspec.Struct, frozen=True, kw_only=True):
    """`creneau verify`: every hash chain, and history up to a checkpoint when given."""

    ok: bool
    events: int
    streams: int
    lines: list[str]  # what the command line prints, in the request's language
    broken: ChainBroken | None = None
    rewritten: list[HistoryRewritten] = []


class Against(msgspec.Struct, frozen=True, kw_only=True):
    checkpoint: str  # the text `creneau checkpoint` printed, or its digest alone


class Checkpointed(msgspec.Struct, frozen=True, kw_only=True):
    digest: str
    text: str


def _verified(request: Request[Any, Any, Any], checkpoint_text: str | None) -> Verified:
    from creneau.adapters._store_commands import verification
    from creneau.scheduler import parse_checkpoint

    w = _words(request)
    server = _server(request)
    _allowed(request, None, ("admin",), w)
    kept = None
    if checkpoint_text is not None:
        kept = server.call(lambda: parse_checkpoint(checkpoint_text), w)
    found = server.call(lambda: verification(server.store, kept, w), w)
    broken = found.broken
    return Verified(
        ok=found.ok, events=found.events, streams=found.streams, lines=found.lines,
        broken=None if broken is None else ChainBroken(
            stream=broken.stream_id.removeprefix("edition-"), version=broken.version,
            position=broken.position, reason=broken.reason),
        rewritten=[HistoryRewritten(code=c, stream=s.removeprefix("edition-"), version=v)
                   for c, s, v in found.rewritten],
    )  # fmt: skip


@get("/api/v1/verify", sync_to_thread=True)
def verify(request: Request[Any, Any, Any]) -> Verified:
    """Check every hash chain of the store (admin): `creneau verify`."""
    return _verified(request, None)


@post("/api/v1/verify", sync_to_thread=True, status_code=200)
def verify_against_checkpoint(request: Request[Any, Any, Any],
                              data: JSONBody[Against]) -> Verified:  # fmt: skip
    """Check the hash chains and that history up to a checkpoint still holds (admin):
    `creneau verify --against`."""
    return _verified(request, data.checkpoint)


@get("/api/v1/checkpoint", sync_to_thread=True)
def take_checkpoint(request: Request[Any, Any, Any]) -> Checkpointed:
    """Where every stream's chain stands now, to keep outside the store (admin):
    `creneau checkpoint`."""
    from creneau.scheduler import checkpoint

    w = _words(request)
    server = _server(request)
    _allowed(request, None, ("admin",), w)
    kept = server.call(lambda: checkpoint(server.store), w)
    return Checkpointed(digest=kept.digest, text=kept.text())


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: Literal["ok", "failing"]
    store: bool  # reachable
    migrations: bool  # the store's schema (and the queue's) are those this Créneau needs
    streams: int | None = None
    queue: dict[str, int] | None = None  # jobs queued and running, when solves are queued
    detail: str = ""


@get("/health", sync_to_thread=True, responses={503: ResponseSpec(Health)})
def health(request: Request[Any, Any, Any]) -> Response[Health]:
    """Whether this server can work: the store reachable, its migrations (and the
    queue's) current, and the queue's depth; 503 when not."""
    server = _server(request)
    store = migrations = False
    streams = depth = None
    detail = ""
    try:
        with server.lock:
            streams = len(server.store.streams())
            store = True
            migrations = True  # a SQLite store is migrated when it is opened
            if server.postgres:
                from creneau.events_store.postgres import MIGRATIONS

                migrations = server.store.schema_version() == len(MIGRATIONS)  # type: ignore[attr-defined]
        if server.queue is not None:
            migrations = migrations and server.queue.current()
            depth = server.queue.depth()
    except Exception as exc:  # unreachable, or the queue's tables missing: said, not raised
        detail = f"{type(exc).__name__}: {str(exc).strip()}"
    ok = store and migrations and not detail
    return Response(Health(status="ok" if ok else "failing", store=store, migrations=migrations,
                           streams=streams, queue=depth, detail=detail),
                    status_code=200 if ok else 503)  # fmt: skip


def web_routes() -> list[Any]:
    from creneau.adapters.web import WEB_ROUTES

    return WEB_ROUTES


def create_app(store: EventStore, *, solver: Any = None, queue: Any = None) -> Litestar:
    """The ASGI application over ``store``; ``queue`` (a ``SolveQueue`` on the same
    store) sends its solves to the workers."""
    app = Litestar(
        route_handlers=[list_editions, import_edition, read_edition, read_programme, export,
                        command, move, book, cancel, places, audit_log, diff, start_solve,
                        solve_status, solve_events, stop_solve, cancel_solve, start_sweep,
                        sweep_status, verify,
                        verify_against_checkpoint, take_checkpoint, health,
                        create_token, list_tokens, revoke_token,
                        *web_routes()],
        exception_handlers={Problem: _problem_response, HTTPException: _http_problem},
        openapi_config=OpenAPIConfig(title="Créneau", version="1", path="/schema"),
        debug=False,
        # Créneau logs through structlog; Litestar's own logging (a queue and a thread
        # writing to stderr) stays off.
        logging_config=None,
    )  # fmt: skip
    app.state.server = Server(store, solver, queue)
    if app.state.server.fanout is not None:
        app.on_shutdown.append(app.state.server.fanout.close)
    return app


__all__ += ["Server"]
