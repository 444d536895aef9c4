"""In-memory LRU + TTL index, pure-Python twin of _lru_c.pyx (same behaviour).

Entries carry their own expiry, so one index holds searches (7 days) and
details (30 days) side by side. Expired entries are dropped lazily when
touched, or all at once by ``purge_expired``. The clock is injectable so
tests move time instead of sleeping.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Callable, Hashable

_FOREVER = float("inf")


class LRUCache:
    """At most ``capacity`` entries; the least recently used one leaves first.

    ``ttl`` is the default lifetime in seconds (None: entries never expire);
    ``put(..., ttl=...)`` overrides it per entry.
    """

    def __init__(self, capacity: int, ttl: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if capacity < 1:
            raise ValueError(f"LRUCache capacity must be at least 1, got {capacity}")
        self._capacity = int(capacity)
        self._ttl = _FOREVER if ttl is None else float(ttl)
        self._clock = clock
        # key -> [value, expires]; order: least recently used first.
        self._entries: OrderedDict[Hashable, list[Any]] = OrderedDict()
        self._hits = self._misses = self._evictions = self._expirations = 0

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The live value (now the most recently used), or ``default``."""
        entry = self._entries.get(key)
        if entry is None:
            self._misses += 1
            return default
        if entry[1] != _FOREVER and entry[1] <= self._clock():
            del self._entries[key]
            self._expirations += 1
            self._misses += 1
            return default
        self._entries.move_to_end(key)
        self._hits += 1
        return entry[0]

    def put(self, key: Hashable, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` as the most recently used entry, evicting the LRU one when full."""
        lifetime = self._ttl if ttl is None else float(ttl)
        expires = _FOREVER if lifetime == _FOREVER else self._clock() + lifetime
        entries = self._entries
        if key in entries:
            entries[key] = [value, expires]
            entries.move_to_end(key)
            return
        entries[key] = [value, expires]
        if len(entries) > self._capacity:
            entries.popitem(last=False)
            self._evictions += 1

    def pop(self, key: Hashable, default: Any = None) -> Any:
        """Remove ``key``; its live value, or ``default`` (also when it had expired)."""
        entry = self._entries.pop(key, None)
        if entry is None:
            return default
        if entry[1] != _FOREVER and entry[1] <= self._clock():
            self._expirations += 1
            return default
        return entry[0]

    def __contains__(self, key: Hashable) -> bool:
        """Live membership; does not count as a use."""
        entry = self._entries.get(key)
        return entry is not None and (entry[1] == _FOREVER or entry[1] > self._clock())

    def __len__(self) -> int:
        """Entries held, including expired ones not yet dropped."""
        return len(self._entries)

    def purge_expired(self) -> int:
        """Drop every expired entry; how many went."""
        now = self._clock()
        dead = [k for k, e in self._entries.items() if e[1] != _FOREVER and e[1] <= now]
        for k in dead:
            del self._entries[k]
        self._expirations += len(dead)
        return len(dead)

    def clear(self) -> None:
        self._entries.clear()

    def keys(self) -> list[Hashable]:
        """Held keys, least recently used first."""
        return list(self._entries)

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def stats(self) -> dict[str, int]:
        return {"hits": self._hits, "misses": self._misses, "evictions": self._evictions,
                "expirations": self._expirations, "size": len(self._entries),
                "capacity": self._capacity}
