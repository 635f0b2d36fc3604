"""Reports for a committee: what changed between two schedules (`creneau diff`), and the
programme's figures, in text and as a self-contained HTML page (`creneau report`)."""

from __future__ import annotations

import argparse
import datetime as dt
import html
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

from creneau.adapters._cli_common import (
    EXIT_OK,
    UsageError,
    load_selected,
    service_for,
    warn_if_broken,
)
from creneau.adapters._i18n import N_, Words, for_terminal
from creneau.adapters._messages import (
    audience_name,
    format_name,
    shown,
)
from creneau.scheduler import (
    Change,
    EditionSnapshot,
    EditionState,
    Placement,
    minutes,
    parity_details,
    programme_metrics,
    schedule_changes,
    stage_people,
)

__all__ = ["cmd_diff", "cmd_report", "html_report", "render_changes", "render_metrics"]

PROGRAMME = "programme"  # the published programme, hand moves included


# -- diff ------------------------------------------------------------------------------


def _placements(state: EditionState, which: str) -> tuple[Placement, ...]:
    if which == PROGRAMME:
        if not state.programme:
            raise UsageError("no_programme_to_diff")
        return state.programme
    schedule = state.schedules.get(which)
    if schedule is None:
        raise UsageError(
            "no_such_schedule",
            schedule=which,
            known=(*state.schedules, PROGRAMME) if state.schedules else (),
        )
    return schedule.assignments


CHANGES = {
    "moved": N_("« {title} »{run}: moved from {before} to {after}"),
    "added": N_("« {title} »{run}: added, {after}"),
    "removed": N_("« {title} »{run}: removed (was {before})"),
    "moderators": N_("« {title} »{run}: moderation {before} → {after}"),
}


def render_changes(edition: EditionSnapshot, changes: Sequence[Change], w: Words) -> list[str]:
    sessions = {s.id: s for s in edition.sessions}
    rooms = {r.id: r.name or r.id for r in edition.rooms}
    people = {p.id: p.name or p.id for p in edition.people}

    def at(p: Placement | None) -> str:
        if p is None:
            return ""
        return w._("{day} {start}–{end}, {room}", day=w.short_date(p.day), start=p.start,
                   end=p.end, room=rooms.get(p.room, p.room))  # fmt: skip

    def hosts(p: Placement | None) -> str:
        names = [people.get(x, x) for x in (p.moderators if p else ())]
        return ", ".join(names) or w._("nobody")

    lines = []
    for c in changes:
        s = sessions.get(c.session)
        title = (s.title or s.id) if s else c.session
        run = f" ({c.occurrence}/{s.occurrences})" if s and s.occurrences > 1 else ""
        if c.kind == "moderators":
            before, after = hosts(c.before), hosts(c.after)
        else:
            before, after = at(c.before), at(c.after)
        lines.append(for_terminal(w._(CHANGES[c.kind], title=title, run=run, before=before,
                                      after=after)))  # fmt: skip
    return lines


def cmd_diff(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    with service_for(args, read_only=True) as service:
        state = load_selected(service, args)
    changes = schedule_changes(_placements(state, args.a), _placements(state, args.b))
    if not changes:
        print(w._("No change."), file=out)
        return EXIT_OK
    print(w.nsay("{n} change from {a} to {b}:", "{n} changes from {a} to {b}:", len(changes),
                 a=args.a, b=args.b), file=out)  # fmt: skip
    for line in render_changes(shown(state, w), changes, w):
        print(f"  - {line}", file=out)
    return EXIT_OK


# -- figures ---------------------------------------------------------------------------


def render_metrics(
    edition: EditionSnapshot, placements: Sequence[Placement], w: Words
) -> list[str]:
    m = programme_metrics(edition, placements)
    sessions = {s.id: s for s in edition.sessions}
    main = max(edition.rooms, key=lambda r: r.capacity) if edition.rooms else None
    colon = w._(": ")
    lines = [w._("Share of women on the whole programme") + colon + w.percent(m.get("women_share"))]
    if main is not None:
        lines.append("  " + w._("on the main stage ({room})", room=main.name or main.id) + colon
                     + w.percent(m.get("women_share.main_stage")))  # fmt: skip
    formats = [f"{format_name(k.removeprefix('women_share.format.'), w)} {w.percent(v)}"
               for k, v in m.items() if k.startswith("women_share.format.")]  # fmt: skip
    if formats:
        lines.append("  " + w._("by format") + colon + ", ".join(formats))
    days = [f"{w.short_date(k.removeprefix('women_share.day.'))} {w.percent(v)}"
            for k, v in m.items() if k.startswith("women_share.day.")]  # fmt: skip
    if days:
        lines.append("  " + w._("by day") + colon + ", ".join(days))
    details = parity_details(edition, placements)

    def titled(ids: Sequence[str]) -> str:
        return ", ".join(f"« {sessions[x].title or x} »" for x in ids if x in sessions)

    lines.append(w._("All-male panels") + colon + str(m["all_male_panels"]))
    if details.all_male:
        lines.append(f"  {titled(details.all_male)}")
    lines.append(w._("Parity not established (undisclosed gender)") + colon
                 + str(m["parity_not_established"]))  # fmt: skip
    if details.not_established:
        lines.append(f"  {titled(details.not_established)}")
    placed = {x.session for x in placements}
    gone = {p.id for p in edition.people if p.erased}
    erased = {p for s in edition.sessions if s.id in placed
              for p in (*s.speakers, *s.moderators)} & gone  # fmt: skip
    if erased:
        lines.append("  " + w.nsay(
            "{n} person of the programme was erased on request: counted as undisclosed gender",
            "{n} people of the programme were erased on request: counted as undisclosed gender",
            len(erased)))  # fmt: skip
    lines += [
        w._("Attendee conflicts (two choices in parallel)") + colon + str(m["attendee_conflicts"]),
        w._("Seats used / offered")
        + colon
        + f"{m['seats_used']} / {m['seats_offered']} ("
        + w._("of which reserve chairs {n}", n=m["reserve_seats_used"])
        + ")",
        w._("Sessions scheduled") + colon + str(m["sessions_scheduled"]),
        w._("Proposals selected") + colon + f"{m['proposals_selected']} / "
        f"{sum(1 for s in edition.sessions if s.optional)}",
    ]
    return [for_terminal(line) for line in lines]


def _source(
    state: EditionState, args: argparse.Namespace, w: Words
) -> tuple[tuple[Placement, ...], str]:
    if args.schedule is not None and args.schedule != PROGRAMME:
        return _placements(state, args.schedule), args.schedule
    if state.programme:
        return state.programme, w._("published ({schedule})", schedule=state.accepted)
    if args.schedule == PROGRAMME or not state.schedules:
        raise UsageError("no_programme_yet")
    latest = list(state.schedules)[-1]
    return _placements(state, latest), latest


def cmd_report(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    with service_for(args, read_only=True) as service:
        state = load_selected(service, args)
        placements, which = _source(state, args, w)
        if placements is state.programme:
            warn_if_broken(state, args, w, out, service)
    edition = shown(state, w)
    print(w.say("Report — {name}", name=edition.name or edition.id), file=out)
    source = w._("Programme: {which}, stream version {version}", which=which,
                 version=state.version)  # fmt: skip
    print(for_terminal(source), file=out)
    for line in render_metrics(edition, placements, w):
        print(line, file=out)
    if args.html:
        from creneau.adapters._cli_common import write_private

        page = html_report(edition, placements, w, source)
        write_private(args.html, page.encode("utf-8"))
        print(w.say("→ {path}", path=args.html), file=out)
    return EXIT_OK


# -- the HTML page ---------------------------------------------------------------------

AUDIENCE_COLOURS = ("#2f6db5", "#e07b00", "#2e9a5b", "#8e44ad", "#c0392b", "#7f8c8d")
MIXED = "#5d6d7e"
BREAK = "#f1ecdc"
GENDER_COLOURS = {
    "woman": "#b0377a",
    "man": "#2f6db5",
    "nonbinary": "#e0a100",
    "undisclosed": "#b8b8b8",
}


def _lanes(runs: Sequence[Placement]) -> dict[Placement, int]:
    """Side-by-side lanes for the runs of one room on one day (a hall that hosts several
    sessions at once): each run takes the first lane free at its start."""
    ends: list[int] = []
    lane = {}
    for p in sorted(runs, key=lambda p: (minutes(p.start), p.session, p.occurrence)):
        free = next((i for i, e in enumerate(ends) if e <= minutes(p.start)), None)
        if free is None:
            ends.append(0)
            free = len(ends) - 1
        ends[free] = minutes(p.end)
        lane[p] = free
    return lane


def timetable(
    edition: EditionSnapshot,
    placements: Sequence[Placement],
    w: Words,
    *,
    interactive: bool = False,
    pinned: frozenset[str] = frozenset(),
) -> str:
    """One grid per day: time down, rooms across (a room that hosts several sessions at
    once gets a lane for each, side by side), each session with its times, its whole
    title, its format and audiences in words, coloured by its audience; the breaks across
    the rooms; a legend for every colour. ``interactive``: the sessions can be dragged
    (each names its run) onto cells that name a room, a day and a start (the web page);
    ``pinned`` sessions are marked."""
    sessions = {s.id: s for s in edition.sessions}
    colour = {
        a: AUDIENCE_COLOURS[i % len(AUDIENCE_COLOURS)] for i, a in enumerate(edition.audiences)
    }
    step = max(1, edition.granularity)
    by_day: dict[dt.date, list[Placement]] = defaultdict(list)
    for p in placements:
        by_day[p.day].append(p)
    parts = []
    for day in edition.days:
        theirs = by_day.get(day.day, [])
        rooms = [r for r in edition.rooms if interactive or any(p.room == r.id for p in theirs)]
        if not rooms:
            continue
        start, end = minutes(day.open), minutes(day.close)

        def row(clock: int, start: int = start) -> int:  # the grid line of a time
            return 2 + (clock - start) // step

        cells, columns, first = [], ["4.2rem"], 2
        for r in rooms:
            runs = [p for p in theirs if p.room == r.id]
            lanes = _lanes(runs)
            width = max(lanes.values(), default=0) + 1
            cells.append(f'<div class="room" style="grid-row:1;grid-column:{first} / span '
                         f'{width}">{html.escape(r.name or r.id)}</div>')  # fmt: skip
            for p in runs:
                s = sessions.get(p.session)
                audiences = (s.audiences or edition.audiences) if s else ()
                fill = colour.get(audiences[0], MIXED) if len(audiences) == 1 else MIXED
                title = (s.title or s.id) if s else p.session
                if s is not None and s.occurrences > 1:
                    title += f" ({p.occurrence}/{s.occurrences})"
                kinds = [format_name(s.format, w)] if s else []
                kinds += [audience_name(a, w) for a in audiences]
                top, bottom = row(max(minutes(p.start), start)), row(min(minutes(p.end), end))
                attributes = ""
                if interactive:
                    attributes = (f' draggable="true" data-session="{html.escape(p.session)}"'
                                  f' data-occurrence="{p.occurrence}"'
                                  f' data-room="{html.escape(r.id)}" data-start="{p.start}"'
                                  f' data-day="{p.day}"')  # fmt: skip
                    if p.session in pinned:
                        attributes += ' data-pinned="true"'
                mark = f' <span class="pin">{html.escape(w._("pinned"))}</span>' \
                    if p.session in pinned else ""  # fmt: skip
                cells.append(
                    f'<div class="session" style="grid-row:{top} / {max(bottom, top + 1)};'
                    f'grid-column:{first + lanes[p]};background:{fill}"{attributes}>'
                    f'<span class="when">{p.start}–{p.end}{mark}</span>'
                    f'<span class="what">{html.escape(title)}</span>'
                    f'<span class="kind">{html.escape(" · ".join(kinds))}</span></div>'
                )
            if interactive:  # where a session can be dropped: a room, a start, a day
                for clock in range(start, end, step):
                    cells.append(f'<div class="slot" style="grid-row:{row(clock)};grid-column:'
                                 f'{first} / span {width}" data-room="{html.escape(r.id)}" '
                                 f'data-day="{day.day}" data-start="{clock // 60:02d}:'
                                 f'{clock % 60:02d}"></div>')  # fmt: skip
            columns += ["minmax(9rem, 15rem)"] * width
            first += width
        for hour in range(-(-start // 60) * 60, end, 60):
            cells.append(f'<div class="hour" style="grid-row:{row(hour)};grid-column:1">'
                         f"{hour // 60:02d}:00</div>")  # fmt: skip
        for b in day.breaks:
            label = b.label or w._("Break")
            cells.append(f'<div class="break" style="grid-row:{row(minutes(b.start))} / '
                         f'{row(minutes(b.end))};grid-column:2 / {first}">'
                         f"{b.start}–{b.end} {html.escape(label)}</div>")  # fmt: skip
        rows = (end - start) // step
        grid = (f'<div class="grid" style="grid-template-columns:{" ".join(columns)};'
                f'grid-template-rows:auto repeat({rows}, minmax(.45rem, auto))">'
                + "".join(cells) + "</div>")  # fmt: skip
        parts.append(f"<h3>{html.escape(w.date(day.day))}</h3>\n"
                     f'<div class="scroll">{grid}</div>')  # fmt: skip
    swatches = [(c, audience_name(a, w)) for a, c in colour.items()]
    swatches += [(MIXED, w._("several audiences")), (BREAK, w._("breaks"))]
    legend = " ".join(
        f'<span class="swatch" style="background:{c}"></span>{html.escape(name)}'
        for c, name in swatches
    )
    label = html.escape(w._("Colours: audiences") + w._(": "))
    return f'<p class="legend">{label}{legend}</p>\n' + "\n".join(parts)


GENDER_WORDS = {
    "woman": N_("women"),
    "man": N_("men"),
    "nonbinary": N_("non-binary"),
    "undisclosed": N_("undisclosed"),
}


def _bar(label: str, people: Sequence[str], gender: Mapping[str, str], w: Words) -> str:
    counts = {g: 0 for g in GENDER_COLOURS}
    for pid in set(people):
        counts[gender.get(pid, "undisclosed")] += 1
    total = sum(counts.values()) or 1
    segments = "".join(
        f'<span style="width:{100 * n / total:.1f}%;background:{GENDER_COLOURS[g]}" '
        f'title="{html.escape(w._(GENDER_WORDS[g]) + w._(": "))}{n}"></span>'
        for g, n in counts.items()
        if n
    )
    words = ", ".join(f"{n} {w._(GENDER_WORDS[g])}" for g, n in counts.items() if n)
    return (
        f'<div class="bar-row"><span class="bar-label">{html.escape(label)}</span>'
        f'<span class="bar">{segments}</span><span class="bar-words">{html.escape(words)}</span>'
        "</div>"
    )


def _parity(edition: EditionSnapshot, placements: Sequence[Placement], w: Words) -> str:
    sessions = {s.id: s for s in edition.sessions}
    gender = {p.id: p.gender for p in edition.people}
    known = [p for p in placements if p.session in sessions]

    def row(label: str, keep: Callable[[Placement], bool]) -> str:
        people = [x for p in known if keep(p) for x in stage_people(sessions[p.session], p)]
        return _bar(label, people, gender, w)

    rows = [row(w._("on the whole programme"), lambda p: True)]
    if edition.rooms:
        main = max(edition.rooms, key=lambda r: r.capacity)
        rows.append(row(w._("on the main stage ({room})", room=main.name or main.id),
                        lambda p: p.room == main.id))  # fmt: skip
    for fmt in sorted({sessions[p.session].format for p in known}):
        rows.append(row(format_name(fmt, w), lambda p, fmt=fmt: sessions[p.session].format == fmt))  # type: ignore[misc]
    for day in sorted({p.day for p in known}):
        rows.append(row(w.date(day), lambda p, day=day: p.day == day))  # type: ignore[misc]
    return "\n".join(rows)


CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
ul.figures, p { max-width: 80rem; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; }
ul.figures li { margin: .2rem 0; }
.scroll { overflow-x: auto; margin: .5rem 0 1.5rem; }
.grid { display: grid; column-gap: 4px; row-gap: 0; min-width: max-content; }
.grid .room { font-weight: 600; padding: .3rem .2rem; border-bottom: 2px solid #ccc;
  position: sticky; top: 0; background: #fff; }
.grid .hour { font-size: .8rem; color: #666; border-top: 1px solid #e3e3e3; padding-top: 1px; }
.grid .break { background: #f1ecdc; color: #6b5d3a; font-size: .8rem; font-style: italic;
  padding: .1rem .4rem; z-index: 0; }
.grid .session { color: #fff; border-radius: 4px; padding: .25rem .4rem; margin: 1px 0;
  display: flex; flex-direction: column; gap: .1rem; z-index: 1; overflow-wrap: anywhere; }
.session .when { font-size: .8rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.session .what { font-size: .9rem; line-height: 1.2; }
.session .kind { font-size: .75rem; opacity: .9; }
.session .pin { font-size: .65rem; text-transform: uppercase; letter-spacing: .04em;
  border: 1px solid #fff8; border-radius: 3px; padding: 0 .2rem; margin-left: .3rem; }
.legend .swatch { display: inline-block; width: .9rem; height: .9rem; margin: 0 .3rem 0 .8rem;
  vertical-align: middle; border-radius: 2px; border: 1px solid #0002; }
.bar-row { display: flex; align-items: center; margin: .3rem 0; }
.bar-label { width: 16rem; } .bar-words { margin-left: .8rem; color: #555; font-size: .9rem; }
.bar { display: flex; width: 28rem; height: 1.1rem; background: #eee; border-radius: 3px;
  overflow: hidden; } .bar span { height: 100%; }
"""


def html_report(
    edition: EditionSnapshot, placements: Sequence[Placement], w: Words, source: str
) -> str:
    """A page a committee opens in any browser: the figures, the timetable, the parity
    bars. Nothing to install, nothing fetched."""
    figures = "\n".join(
        f"<li>{html.escape(line.strip())}</li>" for line in render_metrics(edition, placements, w)
    )
    title = w._("Report — {name}", name=edition.name or edition.id)
    # (Words are looked up outside the f-string: the catalogue tool does not read inside.)
    grid_title, parity = w._("Timetable"), w._("Parity")
    return f"""<!doctype html>
<html lang="{w.lang}">
<head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{CSS}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(source)}</p>
<ul class="figures">
{figures}
</ul>
<h2>{html.escape(grid_title)}</h2>
{timetable(edition, placements, w)}
<h2>{html.escape(parity)}</h2>
{_parity(edition, placements, w)}
</body>
</html>
"""
