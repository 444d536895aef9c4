"""The LRU + TTL index: one suite run against both twins, plus a model-based test."""
from __future__ import annotations

import pytest
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from anivault._speedups import twin
from conftest import BACKENDS


class Clock:
    """A clock tests move by hand, so TTLs expire without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_get_put_and_default(lru_twin, clock) -> None:
    lru = lru_twin.LRUCache(3, clock=clock)
    assert lru.get("a") is None
    assert lru.get("a", "dflt") == "dflt"
    lru.put("a", 1)
    assert lru.get("a") == 1
    assert "a" in lru and "b" not in lru
    assert len(lru) == 1


def test_least_recently_used_is_evicted(lru_twin, clock) -> None:
    lru = lru_twin.LRUCache(3, clock=clock)
    for k in "abc":
        lru.put(k, k.upper())
    lru.get("a")  # a is now the most recent: b is the oldest
    lru.put("d", "D")
    assert lru.keys() == ["c", "a", "d"]
    assert lru.get("b") is None
    assert lru.stats["evictions"] == 1


def test_put_existing_key_replaces_and_refreshes(lru_twin, clock) -> None:
    lru = lru_twin.LRUCache(2, clock=clock)
    lru.put("a", 1)
    lru.put("b", 2)
    lru.put("a", 3)
    assert lru.keys() == ["b", "a"]
    assert lru.get("a") == 3 and len(lru) == 2


def test_ttl_expires_entries_lazily(lru_twin, clock) -> None:
    lru = lru_twin.LRUCache(10, ttl=60, clock=clock)
    lru.put("a", 1)
    lru.put("b", 2, ttl=5)
    lru.put("c", 3, ttl=float("inf"))
    clock.now += 5
    assert "b" not in lru
    assert lru.get("b") is None
    assert lru.get("a") == 1
    clock.now += 55
    assert lru.get("a") is None
    assert lru.get("c") == 3
    assert lru.stats["expirations"] == 2


def test_zero_ttl_is_already_expired(lru_twin, clock) -> None:
    lru = lru_twin.LRUCache(2, clock=clock)
    lru.put("a", 1, ttl=0)
    assert lru.get("a") is None


def test_purge_expired_and_counts(lru_twin, clock) -> None:
    lru = lru_twin.LRUCache(10, clock=clock)
    for i in range(6):
        lru.put(i, i, ttl=i)  # 0..5 seconds
    clock.now += 3
    assert lru.purge_expired() == 4  # ttl 0, 1, 2, 3
    assert lru.keys() == [4, 5]


def test_pop(lru_twin, clock) -> None:
    lru = lru_twin.LRUCache(4, clock=clock)
    lru.put("a", 1)
    lru.put("b", 2, ttl=1)
    assert lru.pop("a") == 1
    assert lru.pop("a", "gone") == "gone"
    clock.now += 1
    assert lru.pop("b", "expired") == "expired"
    assert len(lru) == 0


def test_stats_and_clear(lru_twin, clock) -> None:
    lru = lru_twin.LRUCache(2, clock=clock)
    lru.put("a", 1)
    lru.get("a")
    lru.get("x")
    assert lru.stats == {"hits": 1, "misses": 1, "evictions": 0, "expirations": 0,
                         "size": 1, "capacity": 2}
    lru.clear()
    assert len(lru) == 0 and lru.keys() == [] and lru.get("a") is None
    lru.put("b", 2)  # usable after clear
    assert lru.keys() == ["b"]


def test_none_values_and_mixed_keys(lru_twin, clock) -> None:
    lru = lru_twin.LRUCache(4, clock=clock)
    lru.put(("search/tv", "frieren", "en-US", None), None)
    assert ("search/tv", "frieren", "en-US", None) in lru
    assert lru.get(("search/tv", "frieren", "en-US", None), "missing") is None
    lru.put(7, "seven")
    assert lru.get(7) == "seven"


def test_bad_arguments(lru_twin) -> None:
    with pytest.raises(ValueError):
        lru_twin.LRUCache(0)
    lru = lru_twin.LRUCache(2)
    with pytest.raises(TypeError):
        lru.put(["unhashable"], 1)
    assert lru.capacity == 2


def test_default_clock_is_monotonic_time(lru_twin) -> None:
    lru = lru_twin.LRUCache(2, ttl=3600)
    lru.put("a", 1)
    assert lru.get("a") == 1


# ---------------------------------------------------------------- model-based


class _Model:
    """The obvious reference: a list in recency order and a dict of (value, expires)."""

    def __init__(self, capacity: int, clock: Clock) -> None:
        self.capacity, self.clock = capacity, clock
        self.order: list[int] = []
        self.data: dict[int, tuple[int, float]] = {}

    def _live(self, key: int) -> bool:
        return self.data[key][1] > self.clock.now

    def get(self, key: int):
        if key not in self.data:
            return None
        if not self._live(key):
            self._remove(key)
            return None
        self.order.remove(key)
        self.order.append(key)
        return self.data[key][0]

    def put(self, key: int, value: int, ttl: float) -> None:
        if key in self.data:
            self.order.remove(key)
        self.data[key] = (value, self.clock.now + ttl)
        self.order.append(key)
        if len(self.order) > self.capacity:
            self._remove(self.order[0])

    def pop(self, key: int):
        if key not in self.data:
            return None
        live = self._live(key)
        value = self.data[key][0]
        self._remove(key)
        return value if live else None

    def purge(self) -> int:
        dead = [k for k in self.order if not self._live(k)]
        for k in dead:
            self._remove(k)
        return len(dead)

    def _remove(self, key: int) -> None:
        self.order.remove(key)
        del self.data[key]


keys = st.integers(0, 12)


def _machine(backend: str) -> type:
    class LRUMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.clock = Clock()
            self.lru = None
            self.model = None

        @precondition(lambda self: self.lru is None)
        @rule(capacity=st.integers(1, 8))
        def create(self, capacity: int) -> None:
            self.lru = twin("lru", backend).LRUCache(capacity, clock=self.clock)
            self.model = _Model(capacity, self.clock)

        @precondition(lambda self: self.lru is not None)
        @rule(key=keys, value=st.integers(), ttl=st.sampled_from([0, 1, 2, 5, 30]))
        def put(self, key: int, value: int, ttl: float) -> None:
            self.lru.put(key, value, ttl=ttl)
            self.model.put(key, value, ttl)

        @precondition(lambda self: self.lru is not None)
        @rule(key=keys)
        def get(self, key: int) -> None:
            assert self.lru.get(key) == self.model.get(key)

        @precondition(lambda self: self.lru is not None)
        @rule(key=keys)
        def pop(self, key: int) -> None:
            assert self.lru.pop(key) == self.model.pop(key)

        @precondition(lambda self: self.lru is not None)
        @rule(key=keys)
        def contains(self, key: int) -> None:
            assert (key in self.lru) == (key in self.model.data and self.model._live(key))

        @precondition(lambda self: self.lru is not None)
        @rule(seconds=st.sampled_from([0.5, 1, 3, 10]))
        def advance(self, seconds: float) -> None:
            self.clock.now += seconds

        @precondition(lambda self: self.lru is not None)
        @rule()
        def purge(self) -> None:
            assert self.lru.purge_expired() == self.model.purge()

        @invariant()
        def same_order(self) -> None:
            if self.lru is not None:
                assert self.lru.keys() == self.model.order
                assert len(self.lru) == len(self.model.order) <= self.model.capacity

    LRUMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
    return LRUMachine


for _backend in BACKENDS:
    globals()[f"TestLRUStateMachine_{_backend}"] = _machine(_backend).TestCase
