"""Failed sign-ins, slowed and then locked, per user name and per client address.

After `slow_after` failures within `window_seconds`, each further try waits (1 s, 2 s, 4 s, ...
after the last failure) before it is checked; after `lock_after`, the name or address is locked
for `lock_seconds`, even with the right password. A try made while waiting is refused at once
(429 and Retry-After) without being checked, so it does not count either. Per name, so a
password is not guessed from many addresses; per address, so one address does not try many names.

Kept in memory: a restart forgets it (restarts are not the guesser's to make). Memory stays
bounded: at most `max_keys` names and addresses, the least recently failing forgotten first.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class SignInThrottle:
    def __init__(
        self,
        *,
        slow_after: int = 3,
        lock_after: int = 10,
        window_seconds: float = 900.0,
        lock_seconds: float = 900.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.slow_after, self.lock_after = slow_after, lock_after
        self.window_seconds, self.lock_seconds = window_seconds, lock_seconds
        self._max_keys, self._clock = max_keys, clock
        self._failures: dict[str, list[float]] = {}
        self._locked_until: dict[str, float] = {}

    def seconds_to_wait(self, *keys: str) -> float:
        """How long before a sign-in for these keys (user name, address) is checked; 0: now."""
        return max((self._wait(key) for key in keys), default=0.0)

    def record_failure(self, *keys: str) -> None:
        now = self._clock()
        for key in keys:
            recent = self._recent(key)
            recent.append(now)
            self._failures.pop(key, None)
            if len(recent) >= self.lock_after:  # locked; once the lock ends, counting starts again
                self._locked_until[key] = now + self.lock_seconds
            else:
                self._failures[key] = recent  # most recently failing last, so eviction takes the oldest
        while len(self._failures) > self._max_keys:
            del self._failures[next(iter(self._failures))]
        while len(self._locked_until) > self._max_keys:
            del self._locked_until[next(iter(self._locked_until))]

    def forget(self, key: str) -> None:
        """A user signed in: their name's failures no longer count (the address's still do)."""
        self._failures.pop(key, None)

    def _wait(self, key: str) -> float:
        now = self._clock()
        until = self._locked_until.get(key)
        if until is not None:
            if until > now:
                return until - now
            del self._locked_until[key]
        recent = self._recent(key)
        if len(recent) < self.slow_after:
            return 0.0
        pause = float(2 ** (len(recent) - self.slow_after))
        return max(recent[-1] + pause - now, 0.0)

    def _recent(self, key: str) -> list[float]:
        recent = self._failures.get(key, [])
        horizon = self._clock() - self.window_seconds
        kept = [t for t in recent if t > horizon]
        if kept:
            self._failures[key] = kept
        else:
            self._failures.pop(key, None)
        return kept


def user_key(name: str) -> str:
    return f"user:{name.strip().lower()}"


def address_key(client: str) -> str:
    return f"address:{client}"
