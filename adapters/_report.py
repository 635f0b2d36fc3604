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
from creneau.adapters._messages import audience_name, format_name
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
    for line in render_changes(state.snapshot(), changes, w):
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
    edition = state.snapshot()
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
GENDER_COLOURS = {
    "woman": "#b0377a",
    "man": "#2f6db5",
    "nonbinary": "#e0a100",
    "undisclosed": "#b8b8b8",
}


def _timetable(edition: EditionSnapshot, placements: Sequence[Placement], w: Words) -> str:
    """One SVG per day: rooms down, time across, one block per session, coloured by
    its audience."""
    sessions = {s.id: s for s in edition.sessions}
    colour = {
        a: AUDIENCE_COLOURS[i % len(AUDIENCE_COLOURS)] for i, a in enumerate(edition.audiences)
    }
    by_day: dict[dt.date, list[Placement]] = defaultdict(list)
    for p in placements:
        by_day[p.day].append(p)
    parts = []
    for day in edition.days:
        theirs = by_day.get(day.day, [])
        used = {p.room for p in theirs}
        rooms = [r for r in edition.rooms if r.id in used]
        if not rooms:
            continue
        start, end = minutes(day.open), minutes(day.close)
        label_w, px, row = 170, 2.0, 34
        width = label_w + (end - start) * px + 10
        height = 24 + row * len(rooms)
        svg = [f'<svg width="{width:.0f}" height="{height}" role="img" '
               f'aria-label="{html.escape(w.date(day.day))}">']  # fmt: skip
        for hour in range(-(-start // 60) * 60, end + 1, 60):
            x = label_w + (hour - start) * px
            svg.append(
                f'<line x1="{x:.0f}" y1="18" x2="{x:.0f}" y2="{height}" class="hour"/>'
                f'<text x="{x:.0f}" y="12" class="tick">{hour // 60:02d}:00</text>'
            )
        for b in day.breaks:
            x = label_w + (minutes(b.start) - start) * px
            wide = (minutes(b.end) - minutes(b.start)) * px
            svg.append(f'<rect x="{x:.0f}" y="18" width="{wide:.0f}" '
                       f'height="{height - 18}" class="break"/>')  # fmt: skip
        for i, r in enumerate(rooms):
            y = 20 + i * row
            svg.append(f'<text x="4" y="{y + row / 2 + 4:.0f}" class="room">'
                       f"{html.escape((r.name or r.id)[:26])}</text>")  # fmt: skip
            for p in sorted((p for p in theirs if p.room == r.id), key=lambda p: p.start):
                s = sessions.get(p.session)
                audiences = (s.audiences or edition.audiences) if s else ()
                fill = colour.get(audiences[0], MIXED) if len(audiences) == 1 else MIXED
                x = label_w + (minutes(p.start) - start) * px
                wide = max(4.0, (minutes(p.end) - minutes(p.start)) * px - 2)
                title = (s.title or s.id) if s else p.session
                svg.append(
                    f"<g><title>{html.escape(f'{p.start}–{p.end} {title}')}</title>"
                    f'<rect x="{x:.0f}" y="{y + 2}" width="{wide:.0f}" height="{row - 6}" rx="3" '
                    f'fill="{fill}"/><text x="{x + 4:.0f}" y="{y + row / 2 + 3:.0f}" '
                    f'class="block">{html.escape(title[: max(0, int(wide / 6.5))])}</text></g>'
                )
        svg.append("</svg>")
        parts.append(f"<h3>{html.escape(w.date(day.day))}</h3>\n" + "\n".join(svg))
    legend = (
        " ".join(
            f'<span class="swatch" style="background:{c}"></span>{html.escape(audience_name(a, w))}'
            for a, c in colour.items()
        )
        + f' <span class="swatch" style="background:{MIXED}"></span>'
        + html.escape(w._("several audiences"))
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
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1400px; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; }
ul.figures li { margin: .2rem 0; }
svg { display: block; margin: .5rem 0 1.5rem; overflow: visible; }
svg .hour { stroke: #e3e3e3; } svg .break { fill: #f4f1e8; }
svg .tick { font-size: 11px; fill: #777; text-anchor: middle; }
svg .room { font-size: 12px; fill: #333; } svg .block { font-size: 11px; fill: #fff; }
.legend .swatch { display: inline-block; width: .9rem; height: .9rem; margin: 0 .3rem 0 .8rem;
  vertical-align: middle; border-radius: 2px; }
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
    return f"""<!doctype html>
<html lang="{w.lang}">
<head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{CSS}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(source)}</p>
<ul class="figures">
{figures}
</ul>
<h2>{html.escape(w._("Timetable"))}</h2>
{_timetable(edition, placements, w)}
<h2>{html.escape(w._("Parity"))}</h2>
{_parity(edition, placements, w)}
</body>
</html>
"""
