"""Bearer tokens of the API server: made, checked, listed and revoked.

A token reads ``stg_<id>.<secret>``. Only the id (which ``iam token list``
shows) and a salted SHA-256 of the secret are stored, in the store's meta
values (``token/<id>``, and ``tokens``, the ids in order); the secret is
printed once and never kept. The secret is 32 random bytes, so a fast hash
is enough: there is nothing to guess a password from. The id in the token
finds its record in one read, so checking costs the same with many tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stigmer.errors import NotFound, StigmerError, UsageError

if TYPE_CHECKING:
    from stigmer.store import Reader, WriteTxn

PREFIX = "stg_"
INDEX_KEY = "tokens"
_TOKEN = re.compile(r"stg_([0-9a-f]{16})\.([A-Za-z0-9_-]{20,100})")
_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class Unauthenticated(StigmerError):
    """A call carried no token, or one that is unknown, revoked or expired."""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What ``iam token list`` shows of a token: never its secret."""

    id: str
    user: str
    created: float
    expires: float | None  # None: never
    last_used: float | None
    revoked: bool = False


def parse_ttl(text: str) -> int:
    """Seconds from ``30s``, ``15m``, ``12h`` or ``90d``; a UsageError otherwise."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or int(match[1]) == 0:
        raise UsageError(f'--ttl "{text}" is not a duration such as 30m, 12h or 90d')
    return int(match[1]) * _UNITS[match[2]]


def _key(token_id: str) -> str:
    return f"token/{token_id}"


def _used_key(token_id: str) -> str:
    return f"token-used/{token_id}"


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def _ids(reader: Reader) -> list[str]:
    raw = reader.get_meta(INDEX_KEY)
    return list(json.loads(raw)) if raw else []


def create(txn: WriteTxn, user: str, *, now: float, ttl: int | None) -> str:
    """Records a new token for ``user``; returns its text, which nothing keeps."""
    token_id, secret, salt = secrets.token_hex(8), secrets.token_urlsafe(32), secrets.token_hex(16)
    record = {
        "user": user,
        "salt": salt,
        "hash": _digest(salt, secret),
        "created": now,
        "expires": now + ttl if ttl is not None else None,
        "revoked": False,
    }
    txn.set_meta(_key(token_id), json.dumps(record, sort_keys=True))
    txn.set_meta(INDEX_KEY, json.dumps([*_ids(txn), token_id]))
    return f"{PREFIX}{token_id}.{secret}"


def _record(reader: Reader, token_id: str) -> dict[str, object] | None:
    raw = reader.get_meta(_key(token_id))
    return dict(json.loads(raw)) if raw else None


def _info(reader: Reader, token_id: str, record: dict[str, object]) -> TokenInfo:
    used = reader.get_meta(_used_key(token_id))
    expires = record["expires"]
    return TokenInfo(
        id=token_id,
        user=str(record["user"]),
        created=float(str(record["created"])),
        expires=float(str(expires)) if expires is not None else None,
        last_used=float(used) if used else None,
        revoked=bool(record["revoked"]),
    )


def tokens(reader: Reader, *, user: str | None = None) -> list[TokenInfo]:
    """The tokens not revoked (of one user), oldest first."""
    found = []
    for token_id in _ids(reader):
        record = _record(reader, token_id)
        if record is not None and not record["revoked"]:
            info = _info(reader, token_id, record)
            if user is None or info.user == user:
                found.append(info)
    return found


def revoke(txn: WriteTxn, token_id: str) -> None:
    """Revokes a token by id: every later call with it is refused. NotFound if unknown."""
    record = _record(txn, token_id)
    if record is None or record["revoked"]:
        raise NotFound(f'token "{token_id}" not found (iam token list shows the ids)')
    record["revoked"] = True
    txn.set_meta(_key(token_id), json.dumps(record, sort_keys=True))
    txn.set_meta(INDEX_KEY, json.dumps([i for i in _ids(txn) if i != token_id]))


def verify(reader: Reader, text: str, *, now: float) -> TokenInfo:
    """The token's record if ``text`` is a valid token now; Unauthenticated otherwise.

    The message never repeats the token: it may be a secret pasted wrongly.
    """
    match = _TOKEN.fullmatch(text.strip())
    record = _record(reader, match[1]) if match else None
    if match is None or record is None:
        raise Unauthenticated("unauthenticated: the token is not valid")
    if not hmac.compare_digest(str(record["hash"]), _digest(str(record["salt"]), match[2])):
        raise Unauthenticated("unauthenticated: the token is not valid")
    info = _info(reader, match[1], record)
    if info.revoked:
        raise Unauthenticated(f"unauthenticated: token {info.id} was revoked")
    return _unexpired(info, now)


def _unexpired(info: TokenInfo, now: float) -> TokenInfo:
    """``info``, unless its token has expired by ``now``."""
    if info.expires is not None and info.expires <= now:
        raise Unauthenticated(f"unauthenticated: token {info.id} has expired")
    return info


class Checked:
    """Tokens verified before, each with the stored record it was verified against.

    A token seen again is taken without hashing while its record is unchanged; its
    record is still read on every call, and revoking a token rewrites it, so a
    revoked token is refused at its next call. Expiry is checked on every call.
    """

    LIMIT = 10_000  # tokens remembered; past it, all are forgotten and checked afresh

    def __init__(self) -> None:
        # token text -> (its record's meta key, the record verified against, the answer)
        self._seen: dict[str, tuple[str, str, TokenInfo]] = {}

    def verify(self, reader: Reader, text: str, *, now: float) -> TokenInfo:
        """``verify``'s answer, from memory when the token's record has not changed."""
        seen = self._seen.get(text)
        if seen is not None and reader.get_meta(seen[0]) == seen[1]:
            return _unexpired(seen[2], now)
        match = _TOKEN.fullmatch(text.strip())
        raw = reader.get_meta(_key(match[1])) if match else None
        info = verify(reader, text, now=now)
        if len(self._seen) >= self.LIMIT:
            self._seen.clear()
        if match and raw is not None:
            self._seen[text] = (_key(match[1]), raw, info)
        return info


def touch(txn: WriteTxn, token_id: str, *, now: float) -> None:
    """Records when a token was last used (the server does so at most once a minute)."""
    if _record(txn, token_id) is None:
        raise NotFound(f'token "{token_id}" not found')
    txn.set_meta(_used_key(token_id), repr(now))
