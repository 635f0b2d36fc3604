"""``creneau show`` and ``creneau log``: the edition as it is (or was), and its audit
trail with what each event changed."""

from __future__ import annotations

import argparse
from typing import TextIO

from creneau.adapters._cli_common import (
    EXIT_OK,
    load_selected,
    pick_edition,
    service_for,
    warn_if_broken,
)
from creneau.adapters._describe import EVENTS, change_line, entity_text
from creneau.adapters._i18n import Words, for_terminal
from creneau.adapters._messages import (
    audience_name,
    feature_name,
    format_name,
    shown,
)
from creneau.scheduler import EditionState, EntityChange, Metadata

__all__ = ["cmd_log", "cmd_show", "render_edition"]


def cmd_show(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    with service_for(args, read_only=True) as service:
        state = load_selected(service, args)
        warn_if_broken(state, args, w, out, service)
    print(render_edition(state, w), file=out, end="")
    return EXIT_OK


def _t(text: str) -> str:
    return for_terminal(text)


def render_edition(state: EditionState, w: Words) -> str:
    snap = shown(state, w)
    lines = [w.say("Edition: {name} ({id}) — version {version}", name=snap.name or snap.id,
                   id=snap.id, version=state.version)]  # fmt: skip
    lines.append(w.say("Time zone: {zone} · {step}-minute grid", zone=snap.timezone,
                       step=snap.granularity))  # fmt: skip
    if snap.licence or snap.url:
        lines.append(w.say("Licence: {licence} · {url}", licence=snap.licence or "—",
                           url=snap.url or "—"))  # fmt: skip
    lines.append(w._("Days:"))
    for d in snap.days:
        line = f"  {w.date(d.day)}{w._(': ')}{d.open}–{d.close}"
        if d.breaks:
            breaks = ", ".join(f"{b.start}–{b.end} {_t(b.label)}".rstrip() for b in d.breaks)
            line += w._("; breaks: {breaks}", breaks=breaks)
        lines.append(line)
    lines.append(
        w._(
            "Audiences: {audiences}",
            audiences=", ".join(audience_name(a, w) for a in snap.audiences),
        )
    )
    if snap.venues:
        lines.append(
            w._("Venues: {venues}", venues=", ".join(_t(v.name or v.id) for v in snap.venues))
        )
    if snap.travel:
        walks = ", ".join(f"{_t(x.from_)} ↔ {_t(x.to)} {x.minutes} min" for x in snap.travel)
        lines.append(w._("Travel: {walks}", walks=walks))
    lines.append(w._("Rooms ({n}):", n=len(snap.rooms)))
    for r in snap.rooms:
        bits = [w.n_("{n} seat", "{n} seats", r.capacity)]
        if r.reserve:
            bits.append(w._("+{n} in reserve", n=r.reserve))
        if r.concurrent > 1:
            bits.append(w._("{n} sessions at once", n=r.concurrent))
        if r.features:
            bits.append(", ".join(_t(feature_name(f, w)) for f in r.features))
        lines.append(f"  {_t(r.id):<24} {_t(r.name)} — " + " · ".join(bits))
    counts = {g: 0 for g in ("woman", "man", "nonbinary", "undisclosed")}
    for p in snap.people:
        counts[p.gender] += 1
    lines.append(
        w._(
            "Speakers and facilitators ({n}): {woman} women, {man} men, {nonbinary} "
            "non-binary, {undisclosed} undisclosed",
            n=len(snap.people),
            **counts,
        )
    )
    for p in snap.people:
        extra = f" · {w._('may moderate')}" if p.can_moderate else ""
        org = f", {_t(p.organisation)}" if p.organisation else ""
        lines.append(f"  {_t(p.id):<24} {_t(p.name)}{org}{extra}")
    lines.append(w._("Sessions ({n}):", n=len(snap.sessions)))
    for s in snap.sessions:
        bits = [format_name(s.format, w), w._("{n} min", n=s.duration)]
        if s.occurrences > 1:
            bits.append(w.n_("{n} run", "{n} runs", s.occurrences))
        if s.rotation:
            bits.append(w._("{places} places every {every} min", places=s.rotation.places,
                            every=s.rotation.every))  # fmt: skip
        elif s.capacity:
            bits.append(w.n_("{n} place", "{n} places", s.capacity))
        if s.optional:
            bits.append(w._("proposal"))
        if s.fixed:
            where = " ".join(x for x in (
                w.short_date(s.fixed.day) if s.fixed.day else None, s.fixed.start,
                _t(s.fixed.room) if s.fixed.room else None) if x)  # fmt: skip
            bits.append(w._("pinned {where}", where=where))
        if s.after:
            bits.append(w._("after {sessions}",
                            sessions=", ".join(_t(a.session) for a in s.after)))  # fmt: skip
        lines.append(f"  {_t(s.id):<24} {_t(s.title)} — " + " · ".join(bits))
    lines.append(w._("Registrations: {n}", n=len(snap.registrations)))
    par = snap.policies.parity
    if not par.no_all_male_panels:
        panels = w._("all-male panels allowed")
    elif par.hard:
        panels = w._("no all-male panel")
    else:
        panels = w._("all-male panels avoided, penalised")
    share = w.percent(par.women_min_share)
    how = w._("required") if par.hard else w._("sought, penalised")
    lines.append(w._("Rules: at least {share} women ({how}); {panels}", share=share, how=how,
                     panels=panels))  # fmt: skip
    if snap.policies.attendee_gap:
        lines.append(w._("  {n} min for the audience between two sessions in different rooms",
                         n=snap.policies.attendee_gap))  # fmt: skip
    return "\n".join(lines) + "\n"


def _log_line(position: str, when: str, actor: str, kind: str, entity: str, what: str) -> str:
    line = f"{position:>8}  {when:<24}  {actor[:16]:<16}  {kind:<28}  {entity}"
    return f"{line}  {what}" if what else line


PERSONAL = frozenset({"name", "organisation", "gender"})


def cmd_log(args: argparse.Namespace, out: TextIO, w: Words) -> int:
    with service_for(args, read_only=True) as service:
        edition = None if args.edition is None else pick_edition(service, args.edition)
        service.views.catch_up()
        audit = service.views.audit(edition)
        zones = {e: (s.info.timezone if (s := service.views.snapshot(e)) and s.info else None)
                 for e in {x.edition for x in audit}}  # fmt: skip
        for e, zone in zones.items():
            if zone is None:
                state = service.load(e)
                zones[e] = state.info.timezone if state.info else None
    lines = []
    for x in audit:
        if args.entity is not None and args.entity not in (x.entity, x.entity.partition(":")[2]):
            continue
        kind = w._(EVENTS[x.type]) if x.type in EVENTS else x.type
        # A person's name, organisation and gender are shown only when asked (--names):
        # the log is read by more people than the programme's.
        hide = PERSONAL if x.entity.startswith("person:") and not args.names else frozenset()
        what = change_line(EntityChange("", "", "", x.fields), w, hide=hide) if x.fields else ""
        moment = Metadata(actor="", recorded_at=x.recorded_at, correlation_id="").time
        lines.append(_log_line(str(x.position), w.moment(moment, zones.get(x.edition)),
                               _t(x.actor), kind, entity_text(x.entity, w), what))  # fmt: skip
    if not lines:
        print(w._("No events."), file=out)
        return EXIT_OK
    print(_log_line(w._("position"), w._("time"), w._("actor"), w._("event"), w._("entity"),
                    w._("what changed")), file=out)  # fmt: skip
    for line in lines:
        print(line, file=out)
    return EXIT_OK
