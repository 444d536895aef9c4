"""The token bucket and concurrency cap, on a hand-moved clock (no sleeping)."""
from __future__ import annotations

import threading
import time

import pytest

from anivault.ratelimit import RateLimiter, SEND_JITTER_GUARD, TokenBucket, default_burst


class FakeTime:
    """A clock whose sleep() moves it, so waits are exact and instant."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_starts_with_a_small_burst_then_keeps_the_rate() -> None:
    t = FakeTime()
    bucket = TokenBucket(10, burst=3, clock=t.clock, sleep=t.sleep)
    starts = []
    for _ in range(103):
        bucket.acquire()
        starts.append(t.now)
    assert starts[:3] == [100.0, 100.0, 100.0]  # the burst
    assert starts[3] == pytest.approx(100.1)  # then one every 1/rate seconds
    # 100 more in ~10 s: the rate, sustained (each second's worth spread over 1 s + the guard)
    assert starts[-1] == pytest.approx(100 + 10 * (1 + SEND_JITTER_GUARD), abs=0.3)


def test_never_more_than_burst_plus_rate_times_window() -> None:
    t = FakeTime()
    rate, burst = 35.0, 5.0
    bucket = TokenBucket(rate, burst=burst, clock=t.clock, sleep=t.sleep)
    starts = []
    for i in range(300):
        bucket.acquire()
        starts.append(t.now)
        if i % 37 == 0:
            t.now += 0.5  # idle spells let the bucket refill, never beyond the burst
    for window in (0.1, 0.5, 1.0, 3.0):
        for i, s in enumerate(starts):
            n = sum(1 for x in starts[i:] if x - s < window)
            assert n <= burst + rate * window + 1e-9


def test_try_acquire_reports_the_wait() -> None:
    t = FakeTime()
    bucket = TokenBucket(4, burst=1, clock=t.clock, sleep=t.sleep)
    assert bucket.try_acquire() == 0.0
    assert bucket.try_acquire() == pytest.approx(0.25)
    t.now += 0.25
    assert bucket.try_acquire() == 0.0


def test_pause_for_holds_everyone_then_refills_from_empty() -> None:
    t = FakeTime()
    bucket = TokenBucket(10, burst=5, clock=t.clock, sleep=t.sleep)
    bucket.pause_for(2.0)
    bucket.acquire()
    assert t.now == pytest.approx(102.1)  # 2 s pause, then a token takes 1/rate to arrive
    bucket.pause_for(0.5)
    bucket.pause_for(0.1)  # a shorter pause does not shorten the longer one
    assert bucket.try_acquire() == pytest.approx(0.5)


def test_default_burst_is_small() -> None:
    assert default_burst(35) == 5
    assert default_burst(2) == 1
    assert default_burst(1000) == 5


@pytest.mark.parametrize("rate, burst", [(0, None), (-1, None), (10, 0.5)])
def test_bad_settings_are_refused(rate: float, burst: float | None) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)


def test_concurrency_cap_holds_across_threads() -> None:
    limiter = RateLimiter(rate=10_000, concurrency=3)
    inside = peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal inside, peak
        with limiter.slot():
            with lock:
                inside += 1
                peak = max(peak, inside)
            time.sleep(0.01)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert peak == 3


def test_rate_is_shared_by_threads() -> None:
    t = FakeTime()
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            t.now += seconds / 4  # four sleepers share the passing time
        time.sleep(0)

    limiter = RateLimiter(rate=50, concurrency=4, burst=1, clock=t.clock, sleep=sleep)
    starts: list[float] = []

    def work() -> None:
        for _ in range(25):
            with limiter.slot():
                with lock:
                    starts.append(t.now)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    starts.sort()
    assert len(starts) == 100
    for i, s in enumerate(starts):
        assert sum(1 for x in starts[i:] if x - s < 1.0) <= 1 + 50


def test_never_more_than_rate_in_any_second_even_after_idling() -> None:
    t = FakeTime()
    rate = 10.0
    bucket = TokenBucket(rate, burst=5, clock=t.clock, sleep=t.sleep)
    starts = []
    for i in range(200):
        bucket.acquire()
        starts.append(t.now)
        if i % 13 == 0:
            t.now += 0.4  # idle: the burst refills, but may only spend the second's leftovers
    for i, s in enumerate(starts):
        assert sum(1 for x in starts[i:] if x - s < 1.0) <= rate
    span = starts[-1] - starts[0]
    # The sustained rate stays close to the limit (a second's worth per 1 s + the guard).
    assert (len(starts) - 1) / span > 0.9 * rate / (1 + SEND_JITTER_GUARD)
