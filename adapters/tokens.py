"""Who may do what over HTTP: tokens with a role, scoped to one edition (an ``admin``
token to none: it may create editions and tokens).

Tokens live in the store, as events of their own stream (``platform-tokens``): created,
revoked, each recorded with who did it, like every change to an edition, so that
several servers on one PostgreSQL store agree on them. The stream holds a token's
SHA-256 digest, never the token: it is shown once, when created. A token is 32 random
bytes, so its digest needs no salt or stretching to resist guessing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping
from typing import Literal

import msgspec

from creneau.scheduler import CreneauError
from creneau.scheduler.ports import EventStore

__all__ = ["ROLES", "TOKENS_STREAM", "Token", "Tokens"]

TOKENS_STREAM = "platform-tokens"
Role = Literal["admin", "committee", "desk", "viewer"]
ROLES: tuple[str, ...] = ("admin", "committee", "desk", "viewer")
PREFIX = "crn"


class Token(msgspec.Struct, frozen=True, kw_only=True):
    token_id: str
    name: str  # the actor recorded on every event the token causes
    role: Role
    edition: str | None  # None: an admin token, over every edition
    digest: str
    revoked: bool = False


class TokenCreated(msgspec.Struct, frozen=True, kw_only=True, tag="token.created"):
    token_id: str
    name: str
    role: Role
    edition: str | None
    digest: str


class TokenRevoked(msgspec.Struct, frozen=True, kw_only=True, tag="token.revoked"):
    token_id: str


_decoder = msgspec.json.Decoder(TokenCreated | TokenRevoked)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Tokens:
    """The tokens of a store, read from its stream (again whenever it moved on)."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._version = 0
        self._tokens: dict[str, Token] = {}

    def all(self) -> Mapping[str, Token]:
        for r in self.store.read_stream(TOKENS_STREAM, from_version=self._version + 1):
            event = _decoder.decode(r.payload)
            if isinstance(event, TokenCreated):
                self._tokens[event.token_id] = Token(**msgspec.structs.asdict(event))
            elif event.token_id in self._tokens:
                self._tokens[event.token_id] = msgspec.structs.replace(
                    self._tokens[event.token_id], revoked=True
                )
            self._version = r.version
        return dict(self._tokens)

    def create(self, *, role: str, edition: str | None, name: str, actor: str) -> tuple[Token, str]:
        """A new token: its record, and the secret to hand over (shown once)."""
        from creneau.scheduler import actor_fault, is_identifier

        if role not in ROLES:
            raise CreneauError("unknown_role", role=role, roles=ROLES)
        if (role == "admin") != (edition is None):
            raise CreneauError("admin_has_no_edition" if role == "admin" else "token_needs_edition")
        if edition is not None and not is_identifier(edition):
            raise CreneauError("bad_id", value=edition)
        if fault := actor_fault(name):  # the actor of every event the token causes
            raise CreneauError(fault, actor=name)
        if any(t.name == name and not t.revoked for t in self.all().values()):
            raise CreneauError("token_name_taken", name=name)
        token_id = uuid.uuid4().hex[:12]
        secret = f"{PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
        event = TokenCreated(token_id=token_id, name=name, role=role,  # type: ignore[arg-type]
                             edition=edition, digest=_digest(secret))  # fmt: skip
        self._append(event, actor)
        return Token(**msgspec.structs.asdict(event)), secret

    def revoke(self, name_or_id: str, *, actor: str) -> Token:
        found = [t for t in self.all().values()
                 if name_or_id in (t.name, t.token_id) and not t.revoked]  # fmt: skip
        if not found:
            raise CreneauError("no_such_token", token=name_or_id)
        self._append(TokenRevoked(token_id=found[0].token_id), actor)
        return found[0]

    def authenticate(self, secret: str) -> Token | None:
        """The live token ``secret`` is, or None (unknown, malformed or revoked)."""
        parts = secret.split("_", 2)
        if len(parts) != 3 or parts[0] != PREFIX:
            return None
        token = self.all().get(parts[1])
        if token is None or token.revoked:
            return None
        return token if hmac.compare_digest(token.digest, _digest(secret)) else None

    def _append(self, event: TokenCreated | TokenRevoked, actor: str) -> None:
        import datetime as dt

        from creneau.scheduler._envelope import Metadata, NewEvent, format_time, new_event_id

        tag = "token.created" if isinstance(event, TokenCreated) else "token.revoked"
        meta = Metadata(actor=actor, recorded_at=format_time(dt.datetime.now(dt.UTC)),
                        correlation_id=str(new_event_id()), causation_id=None)  # fmt: skip
        new = NewEvent(event_id=new_event_id(), type=tag, schema_version=1,
                       payload=msgspec.json.encode(event), metadata=meta)  # fmt: skip
        self.all()
        self.store.append(TOKENS_STREAM, [new], self._version)
