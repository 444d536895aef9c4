"""Politeness toward TMDB: a token bucket and a concurrency cap shared by every thread.

The bucket guarantees that in any window of T seconds at most
``burst + rate * T`` requests start, and (a sliding one-second log on top)
never more than ``rate`` in any one second: the burst only spends what the
last second left unused. A 429's Retry-After pauses the whole bucket (not
just the thread that saw it), because the limit is per IP.

The one-second log counts a slightly longer window (``SEND_JITTER_GUARD``):
a request reaches the server a little after it takes its token, and those
delays vary, so two starts exactly one second apart can arrive closer than
that. The guard keeps the server-side count within the rate at a cost of
under 5% of throughput.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import Callable, Iterator


_EPSILON = 1e-9
SEND_JITTER_GUARD = 0.05  # seconds added to the one-second window; see the module docstring


def default_burst(rate: float) -> float:
    """A small burst: a fifth of a second's worth, between 1 and 5 requests."""
    return max(1.0, min(5.0, rate / 5))


class TokenBucket:
    """``rate`` tokens per second, holding at most ``burst``; starts full."""

    def __init__(self, rate: float, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else default_burst(rate))
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1, got {self.burst}")
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._last = clock()
        self._not_before = 0.0
        self._per_second = max(1, int(self.rate))
        self._recent: deque[float] = deque(maxlen=self._per_second)  # the last starts, oldest first

    def _refill(self, now: float) -> None:
        if now > self._last:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now

    def try_acquire(self) -> float:
        """Take a token and return 0, or return the seconds to wait before trying again."""
        with self._lock:
            now = self._clock()
            if now < self._not_before:
                return self._not_before - now
            recent = self._recent
            window = 1.0 + SEND_JITTER_GUARD
            if len(recent) == self._per_second and now - recent[0] < window:
                # A full second's worth already started. (At least a microsecond: a wait
                # lost in float rounding would leave the caller spinning.)
                return max(recent[0] + window - now, 1e-6)
            self._refill(now)
            if self._tokens >= 1 - _EPSILON:  # float dust must not leave a waiter spinning
                self._tokens -= 1
                recent.append(now)
                return 0.0
            return (1 - self._tokens) / self.rate

    def acquire(self) -> float:
        """Block until a token is taken; the seconds spent waiting."""
        waited = 0.0
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return waited
            self._sleep(wait)
            waited += wait

    def pause_for(self, seconds: float) -> None:
        """Nobody starts a request for ``seconds`` (a server's Retry-After); then refill from empty."""
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            if until > self._not_before:
                self._not_before = until
                self._tokens = 0.0
                self._last = until


class RateLimiter:
    """A token bucket plus a cap on requests in flight, for all threads of a run."""

    def __init__(self, rate: float = 35.0, concurrency: int = 4, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self.bucket = TokenBucket(rate, burst, clock=clock, sleep=sleep)
        self.concurrency = int(concurrency)
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._waited = 0.0
        self._waited_lock = threading.Lock()

    @property
    def rate(self) -> float:
        return self.bucket.rate

    @property
    def waited_s(self) -> float:
        """Seconds threads spent waiting for tokens (throttling), summed."""
        return self._waited

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the ``concurrency`` slots and one token while a request runs."""
        with self._slots:
            waited = self.bucket.acquire()
            if waited:
                with self._waited_lock:
                    self._waited += waited
            yield

    def pause_for(self, seconds: float) -> None:
        self.bucket.pause_for(seconds)
