"""Who a call acts as: its bearer token's user, or the anonymous user if the server has one."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from stigmer import tokens
from stigmer.client import Client
from stigmer.errors import StigmerError
from stigmer.tokens import Unauthenticated

log = logging.getLogger("stigmer.server")

# How often a token's last use is written to the store: a write per call would
# cost an fsync per call.
TOUCH_SECONDS = 60.0


class Authenticator:
    """Checks ``authorization: Bearer <token>`` on every call, against the store.

    A token seen before is not hashed again while its stored record is unchanged
    (``tokens.Checked``); the record is read on every call, so a revoked token is
    refused at its next call.
    """

    def __init__(
        self,
        client: Client,
        anonymous_user: str | None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.anonymous_user = anonymous_user
        self._clock = clock
        self._checked = tokens.Checked()
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()

    def user(self, metadata: Sequence[tuple[str, str | bytes]], *, on_loop: bool = False) -> str:
        """The user the call acts as; Unauthenticated without a valid token.

        ``on_loop``: the caller is the event loop, which must not wait for the
        fsync of recording the token's use; a thread of its own records it.
        """
        header = _authorization(metadata)
        if header is None:
            if self.anonymous_user is not None:
                return self.anonymous_user
            raise Unauthenticated(
                "unauthenticated: the call has no token; send authorization: Bearer <token> "
                "(stigmer iam token create USER makes one)"
            )
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("unauthenticated: the authorization header is not Bearer <token>")
        with self.client.store.read() as reader:
            info = self._checked.verify(reader, token, now=self._clock())
        if self._due(info.id):
            if on_loop:
                threading.Thread(target=self._touch, args=(info.id,), daemon=True).start()
            else:
                self.client.token_used(info.id)
        return info.user

    def _due(self, token_id: str) -> bool:
        now = time.monotonic()
        if now - self._touched.get(token_id, -TOUCH_SECONDS) < TOUCH_SECONDS:
            return False  # most calls: read without the lock, which only guards the update
        with self._lock:
            if now - self._touched.get(token_id, -TOUCH_SECONDS) < TOUCH_SECONDS:
                return False
            self._touched[token_id] = now
            return True

    def _touch(self, token_id: str) -> None:
        try:
            self.client.token_used(token_id)
        except StigmerError as e:  # revoked meanwhile, or the store is closing: not the call's
            log.warning("could not record the use of token %s: %s", token_id, e)


def _authorization(metadata: Sequence[tuple[str, str | bytes]]) -> str | None:
    for key, value in metadata:
        if key == "authorization":
            return str(value)
    return None
