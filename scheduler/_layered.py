"""Maps that share most of their entries with the map they were changed from.

A state's entity maps are read-only. Changing one entry used to copy the whole map, so a
booking on an edition of 10,000 registrations copied 10,000 entries three times. A
``Layered`` map is a base dict that is never changed once shared, the entries changed
since (``top``) and the base keys removed since (``gone``); a ``Draft`` is the one being
changed during a fold. When the changes grow past about the square root of the base,
``freeze`` folds them into a new base: a change costs O(√n) amortised instead of O(n).

Iteration follows a dict's order exactly: a changed entry keeps its place, a new one (or
one removed and added again) comes last.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

__all__ = ["Draft", "Layered"]


class _Layers:
    """What reading a layered map takes: ``base`` with the changes ``top`` and the
    removals ``gone``."""

    __slots__ = ("_base", "_gone", "_len", "_top")
    _base: dict[Any, Any]
    _top: dict[Any, Any]
    _gone: frozenset[Any] | set[Any]
    _len: int

    def __getitem__(self, key: Any) -> Any:
        top = self._top
        if key in top:
            return top[key]
        if key in self._gone:
            raise KeyError(key)
        return self._base[key]

    def __contains__(self, key: object) -> bool:
        return key in self._top or (key in self._base and key not in self._gone)

    def __len__(self) -> int:
        return self._len


class Layered(_Layers, Mapping[Any, Any]):
    """A read-only map: ``base`` with the changes ``top`` and the removals ``gone``."""

    __slots__ = ()

    def __init__(
        self,
        base: dict[Any, Any],
        top: dict[Any, Any] | None = None,
        gone: frozenset[Any] = frozenset(),
        length: int | None = None,
    ) -> None:
        self._base = base
        self._top = top or {}
        self._gone = gone
        self._len = len(base) if length is None else length

    def get(self, key: Any, default: Any = None) -> Any:
        top = self._top
        if key in top:
            return top[key]
        if key in self._gone:
            return default
        return self._base.get(key, default)

    def __iter__(self) -> Iterator[Any]:
        base, top, gone = self._base, self._top, self._gone
        if not top and not gone:
            yield from base
            return
        for key in base:
            if key not in gone:
                yield key
        for key in top:
            if key not in base or key in gone:
                yield key

    def keys(self) -> Any:
        return self._base.keys() if not self._top and not self._gone else super().keys()

    def values(self) -> Any:
        return self._base.values() if not self._top and not self._gone else super().values()

    def items(self) -> Any:
        return self._base.items() if not self._top and not self._gone else super().items()

    def __repr__(self) -> str:
        return f"Layered({dict(self.items())!r})"


class Draft(_Layers, MutableMapping[Any, Any]):
    """A map being changed during one fold, sharing its base with the map it began as."""

    __slots__ = ()
    _gone: set[Any]

    def __init__(self, start: Mapping[Any, Any]) -> None:
        if isinstance(start, Layered):
            self._base = start._base
            self._top = dict(start._top)
            self._gone = set(start._gone)
            self._len = start._len
        else:
            self._base = dict(start)
            self._top = {}
            self._gone = set()
            self._len = len(self._base)

    def __setitem__(self, key: Any, value: Any) -> None:
        if key not in self:
            self._len += 1
        self._top[key] = value

    def __delitem__(self, key: Any) -> None:
        if key not in self:
            raise KeyError(key)
        self._top.pop(key, None)
        if key in self._base:
            self._gone.add(key)
        self._len -= 1

    def __iter__(self) -> Iterator[Any]:
        return iter(Layered(self._base, self._top, frozenset(self._gone), self._len))

    def freeze(self) -> Layered:
        """The map as it is now; its changes folded into a new base when they have grown
        past what a lookup and the next draft should carry."""
        changes = len(self._top) + len(self._gone)
        if changes > 16 + 2 * math.isqrt(len(self._base)):
            return Layered(dict(Layered(self._base, self._top, frozenset(self._gone),
                                        self._len).items()))  # fmt: skip
        return Layered(self._base, self._top, frozenset(self._gone), self._len)
