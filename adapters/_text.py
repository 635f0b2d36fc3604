"""User-facing words, in French by default and in English on request."""

from __future__ import annotations

import datetime as dt

TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "edition": "Édition",
        "version": "version",
        "timezone": "Fuseau horaire",
        "granularity": "pas de {n} min",
        "days": "Jours",
        "breaks": "pauses",
        "venues": "Lieux",
        "travel": "Trajets",
        "rooms": "Salles",
        "seats": "{n} places",
        "reserve": "+{n} en réserve",
        "concurrent": "{n} sessions à la fois",
        "people": "Intervenantes et intervenants",
        "gender_counts": "{woman} femmes, {man} hommes, {nonbinary} non binaires, "
        "{undisclosed} non renseignés",
        "can_moderate": "peut animer",
        "sessions": "Sessions",
        "minutes": "{n} min",
        "fixed": "fixée",
        "optional": "proposition",
        "occurrences": "{n} fois",
        "rotation": "{places} places toutes les {every} min",
        "capacity": "jauge {n}",
        "after": "après",
        "registrations": "Inscriptions",
        "policies": "Règles",
        "parity": "parité : au moins {share:.0%} de femmes, panels 100 % masculins {panels}",
        "forbidden": "interdits",
        "allowed": "autorisés",
        "none": "aucun",
        "log_columns": "position|date (UTC)|acteur|événement|entité",
        "no_events": "Aucun événement.",
    },
    "en": {
        "edition": "Edition",
        "version": "version",
        "timezone": "Time zone",
        "granularity": "{n}-minute grid",
        "days": "Days",
        "breaks": "breaks",
        "venues": "Venues",
        "travel": "Travel",
        "rooms": "Rooms",
        "seats": "{n} seats",
        "reserve": "+{n} in reserve",
        "concurrent": "{n} sessions at once",
        "people": "Speakers and facilitators",
        "gender_counts": "{woman} women, {man} men, {nonbinary} non-binary, "
        "{undisclosed} undisclosed",
        "can_moderate": "can moderate",
        "sessions": "Sessions",
        "minutes": "{n} min",
        "fixed": "pinned",
        "optional": "proposal",
        "occurrences": "{n} times",
        "rotation": "{places} places every {every} min",
        "capacity": "{n} places",
        "after": "after",
        "registrations": "Registrations",
        "policies": "Policies",
        "parity": "parity: at least {share:.0%} women, all-male panels {panels}",
        "forbidden": "forbidden",
        "allowed": "allowed",
        "none": "none",
        "log_columns": "position|time (UTC)|actor|event|entity",
        "no_events": "No events.",
    },
}

_WEEKDAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def long_date(day: dt.date, lang: str) -> str:
    weekday, month = _WEEKDAYS[lang][day.weekday()], _MONTHS[lang][day.month - 1]
    return f"{weekday} {day.day} {month} {day.year}"
