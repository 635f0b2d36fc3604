"""A seeded generator of national editions shaped like NEC Lens 2022 (its report: 1,700
registered people, 228 speakers, 3 days, satellite venues).

Scale 1: two days (28 and 29 September 2022) at the Stade Bollaert and two satellite
venues, about 20 rooms, about 100 sessions of the national formats (11 masterclasses,
26 workshops, 45 feedback talks, 10 crossed views, pitches, an opening and a closing
plenary), about 230 speakers, a third of them there one day only, and some workshops
that follow a masterclass. ``scale`` multiplies rooms, sessions and people; a schedule
is known to exist at every scale (each room is used well under half of its hours).
"""

from __future__ import annotations

import datetime as dt
import random

from creneau.scheduler import (
    After,
    Break,
    Day,
    EditionSnapshot,
    Fixed,
    Parity,
    Person,
    Policies,
    Registration,
    Room,
    Session,
    Track,
    Travel,
    Venue,
    Window,
)

DAYS = (dt.date(2022, 9, 28), dt.date(2022, 9, 29))
THEMES = (
    "donnees-territoires",
    "culture-competences",
    "accessibilite",
    "territoires-durables",
    "communs-souverainete",
    "dispositifs-inclusifs",
)
# (format, count at scale 1, duration, seats needed, features)
FORMATS = (
    ("masterclass", 11, 90, (60, 150), ("screen", "microphone")),
    ("workshop", 26, 90, (20, 40), ("tables",)),
    ("retex", 45, 45, (30, 80), ("screen",)),
    ("crossed_views", 10, 60, (80, 200), ("stage", "microphone")),
    ("pitch", 6, 30, (30, 100), ("screen",)),
)


def generate(scale: float = 1.0, seed: int = 2022, *, full: bool = False) -> EditionSnapshot:
    """A national edition; ``full`` switches on what the programme-quality issue adds:
    a minimum share of women, moderators for the crossed views, 30 proposals, an
    afternoon track for the general public, a ceiling on parallel sessions for
    professionals, and 1,700 attendees who chose 3 to 6 sessions each (× scale)."""
    rng = random.Random(seed)
    n = lambda count: max(1, round(count * scale))  # noqa: E731 - a local shorthand

    days = tuple(
        Day(day=d, open="09:00", close="18:00",
            breaks=(Break(start="12:30", end="14:00", label="Déjeuner"),))
        for d in DAYS
    )  # fmt: skip
    venues = (
        Venue(id="bollaert", name="Stade Bollaert-Delelis"),
        Venue(id="louvre-lens-vallee", name="Louvre Lens Vallée"),
        Venue(id="mediatheque", name="Médiathèque Robert-Cousin"),
    )
    travel = (
        Travel(from_="bollaert", to="louvre-lens-vallee", minutes=15),
        Travel(from_="bollaert", to="mediatheque", minutes=10),
        Travel(from_="louvre-lens-vallee", to="mediatheque", minutes=15),
    )

    rooms = [
        Room(
            id="tribune",
            name="Tribune (plénière)",
            venue="bollaert",
            capacity=900,
            features=("stage", "screen", "microphone", "lectern", "streaming"),
        )
    ]
    # A larger edition has more large halls: one more for every unit of scale.
    rooms += [
        Room(id=f"grand-salon-{i}", name=f"Grand salon {i}", venue="bollaert", capacity=400,
             features=("stage", "screen", "microphone"))
        for i in range(1, n(1))
    ]  # fmt: skip
    kinds = [
        ("salon", 150, ("stage", "screen", "microphone"), 0.25),
        ("salle", 80, ("screen", "microphone"), 0.35),
        ("atelier", 40, ("tables", "screen"), 0.4),
    ]
    for i in range(n(19)):
        name, seats, features, _ = rng.choices(kinds, weights=[k[3] for k in kinds])[0]
        venue = "bollaert" if i < n(13) else rng.choice(["louvre-lens-vallee", "mediatheque"])
        rooms.append(
            Room(
                id=f"{name}-{i + 1}",
                name=f"{name.capitalize()} {i + 1}",
                venue=venue,
                capacity=seats + rng.choice([-10, 0, 10]),
                reserve=rng.choice([0, 0, 10, 20]),
                features=features,
            )
        )

    people = []
    for i in range(n(228)):
        roll = rng.random()
        if roll < 0.2:  # there on one day only
            day = rng.choice(DAYS)
            available: tuple[Window, ...] | None = (Window(day=day, start="09:00", end="18:00"),)
        elif roll < 0.33:  # a half-day on each
            available = (
                tuple(Window(day=d, start="09:00", end="12:30") for d in DAYS)
                if rng.random() < 0.5
                else tuple(Window(day=d, start="14:00", end="18:00") for d in DAYS)
            )
        else:
            available = None
        people.append(Person(
            id=f"p{i + 1}", name=f"Intervenant·e {i + 1}",
            gender=rng.choice(["woman", "woman", "man", "man", "undisclosed"]),
            available=available, max_per_day=rng.choice([None, None, 2]),
            can_moderate=rng.random() < 0.2,
        ))  # fmt: skip

    # Each session has at most one speaker who is there part of the time, so that a
    # schedule exists; the others are there both days.
    anytime = [p.id for p in people if p.available is None]
    partly = [p.id for p in people if p.available is not None]
    rng.shuffle(anytime)
    rng.shuffle(partly)
    pool = iter(anytime * 3)
    part_pool = iter(partly * 3)

    gender = {p.id: p.gender for p in people}

    def audiences_for(fmt: str) -> tuple[str, ...] | None:
        # Without ``full``, every session is for everyone, as before.
        if not full or fmt in ("masterclass", "crossed_views"):
            return None
        roll = rng.random()
        return ("general_public",) if roll < 0.25 else ("professionals",) if roll < 0.7 else None

    def speakers_for(count: int, linked: bool) -> tuple[str, ...]:
        # Sessions tied by precedence keep to people who are there both days.
        first = next(part_pool) if not linked and rng.random() < 0.4 else next(pool)
        return (first, *(next(pool) for _ in range(count - 1)))

    sessions = [
        Session(
            id="ouverture",
            title="Plénière d'ouverture",
            format="plenary",
            duration=60,
            speakers=tuple(next(pool) for _ in range(4)),
            attendance=800,
            requires=("stage", "streaming"),
            themes=(THEMES[0],),
            fixed=Fixed(day=DAYS[0], start="09:00", room="tribune"),
        ),
        Session(
            id="cloture",
            title="Plénière de clôture",
            format="plenary",
            duration=60,
            speakers=tuple(next(pool) for _ in range(4)),
            attendance=700,
            requires=("stage", "streaming"),
            themes=(THEMES[1],),
            fixed=Fixed(day=DAYS[1], start="17:00", room="tribune"),
        ),
    ]
    masterclasses: list[str] = []
    for fmt, count, duration, (low, high), features in FORMATS:
        for k in range(n(count)):
            sid = f"{fmt}-{k + 1}"
            after: tuple[After, ...] = ()
            if fmt == "workshop" and masterclasses and rng.random() < 0.2:
                after = (After(session=rng.choice(masterclasses), min_gap=15, same_day=True),)
            speakers = speakers_for(rng.randint(1, 3), fmt == "masterclass" or bool(after))
            men_only = all(gender[x] == "man" for x in speakers)
            sessions.append(Session(
                id=sid, title=f"{fmt.replace('_', ' ').capitalize()} {k + 1}", format=fmt,
                duration=duration, themes=(rng.choice(THEMES),), speakers=speakers,
                # A panel of men gets a moderator: the parity rule (on by default) holds.
                needs_moderator=(men_only and len(speakers) > 1)
                or (full and fmt == "crossed_views"),
                audiences=audiences_for(fmt), attendance=rng.randint(low, high),
                requires=tuple(f for f in features if rng.random() < 0.7),
                after=after,
            ))  # fmt: skip
            if fmt == "masterclass":
                masterclasses.append(sid)
    policies = Policies(speaker_gap=10)
    registrations: tuple[Registration, ...] = ()
    if full:
        for k in range(n(30)):
            fmt = rng.choice(["retex", "workshop", "pitch"])
            duration = {"retex": 45, "workshop": 90, "pitch": 30}[fmt]
            speakers = speakers_for(rng.randint(1, 2), False)
            sessions.append(Session(
                id=f"proposition-{k + 1}", title=f"Proposition {k + 1}", format=fmt,
                duration=duration, themes=(rng.choice(THEMES),), speakers=speakers,
                needs_moderator=len(speakers) > 1
                and all(gender[x] == "man" for x in speakers),
                audiences=audiences_for(fmt), attendance=rng.randint(20, 60),
                optional=True, priority=rng.randint(1, 10),
            ))  # fmt: skip
        afternoons = tuple(Window(day=d, start="14:00", end="17:00") for d in DAYS)
        whole_days = tuple(Window(day=d, start="09:00", end="18:00") for d in DAYS)
        policies = Policies(
            speaker_gap=10,
            parity=Parity(women_min_share=0.4),
            tracks=(
                Track(audience="general_public", windows=afternoons, min_parallel=1),
                Track(audience="professionals", windows=whole_days,
                      max_parallel=max(2, round(len(rooms) * 0.6))),
            ),
        )  # fmt: skip
        chosen_from = [s for s in sessions if s.format != "plenary"]
        popularity = [rng.paretovariate(1.5) for _ in chosen_from]
        registrations = tuple(
            Registration(
                attendee=f"a{i + 1}", profile=rng.choice(["professionals", "general_public"]),
                sessions=tuple(dict.fromkeys(
                    s.id for s in rng.choices(chosen_from, weights=popularity,
                                              k=rng.randint(3, 6)))),
            )
            for i in range(n(1700))
        )  # fmt: skip
    return EditionSnapshot(
        id=f"nec-national-x{scale:g}", name=f"NEC national (généré, échelle {scale:g})",
        days=days, themes=THEMES, venues=venues, travel=travel, rooms=tuple(rooms),
        people=tuple(people),
        sessions=tuple(s.resolved(("professionals", "general_public")) for s in sessions),
        registrations=registrations, policies=policies,
    )  # fmt: skip
