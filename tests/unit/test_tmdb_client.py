"""The TMDB client against the local server: auth, rate, dedup, cache, faults, breaker, secrets."""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from email.utils import formatdate
from pathlib import Path

import pytest

from anivault.cache import TMDBCache
from anivault.errors import EXIT_CREDENTIALS, AniVaultError, CredentialsError
from anivault.ratelimit import SEND_JITTER_GUARD, RateLimiter
from anivault.tmdb import (USER_AGENT, CircuitBreaker, TMDBClient, TMDBUnavailable, full_jitter,
                           retry_after_seconds)
from anivault.testing import API_KEY, READ_TOKEN, TMDBServer


@pytest.fixture
def cache(tmp_path: Path):
    c = TMDBCache(tmp_path / "tmdb.sqlite")
    yield c
    c.close()


def client_for(server: TMDBServer, cache: TMDBCache | None = None, **kw) -> TMDBClient:
    kw.setdefault("api_key", server.api_key)
    kw.setdefault("limiter", RateLimiter(rate=kw.pop("rate", 500), concurrency=kw.pop("concurrency", 4)))
    kw.setdefault("backoff_base", 0.01)
    kw.setdefault("timeout", 2.0)
    return TMDBClient(base_url=server.url, cache=cache, **kw)


def _request_keys(server: TMDBServer) -> Counter:
    return Counter((r.path, tuple(sorted(r.params.items()))) for r in server.requests() if r.status == 200)


# ---------------------------------------------------------------- requests and auth


def test_v3_key_goes_in_the_query(tmdb_server: TMDBServer, cache: TMDBCache) -> None:
    with client_for(tmdb_server, cache) as client:
        page = client.search_tv("frieren")
    assert page["results"][0]["id"] == 209867
    (req,) = tmdb_server.requests()
    assert req.auth == "key" and req.path == "/3/search/tv"
    assert req.params["language"] == "en-US" and req.params["query"] == "frieren"


def test_v4_token_goes_in_the_header(tmdb_server: TMDBServer, cache: TMDBCache) -> None:
    with client_for(tmdb_server, cache, api_key=None, read_token=READ_TOKEN) as client:
        assert client.tv(37854)["name"] == "One Piece"
    (req,) = tmdb_server.requests()
    assert req.auth == "bearer" and "api_key" not in req.params
    assert req.params["append_to_response"] == "alternative_titles,episode_groups"


def test_every_endpoint(tmdb_server: TMDBServer, cache: TMDBCache) -> None:
    with client_for(tmdb_server, cache, language="ja-JP") as client:
        assert client.search_movie("akira", 1988)["results"][0]["id"] == 149
        assert client.movie(149)["title"] == "Akira"
        assert client.tv_season(37854, 1)["episodes"][0]["episode_number"] == 1
        group_id = client.tv(37854)["episode_groups"]["results"][0]["id"]
        assert client.episode_group(group_id)["type"] == 2
        assert client.tv(1) is None  # 404: a normal "not found", never retried, never cached
        assert client.tv(1) is None
    assert {r.params["language"] for r in tmdb_server.requests()} == {"ja-JP"}
    assert tmdb_server.count("/3/tv/1") == 2
    assert client.counters["not_found"] == 2 and client.counters["retries"] == 0


def test_user_agent_names_anivault() -> None:
    assert USER_AGENT.startswith("AniVault/")


def test_connections_are_reused(tmdb_server: TMDBServer, cache: TMDBCache) -> None:
    opened = []
    real = tmdb_server._httpd.get_request

    def counting():
        conn = real()
        opened.append(conn)
        return conn

    tmdb_server._httpd.get_request = counting
    with client_for(tmdb_server, cache, concurrency=1) as client:
        for tv_id in (37854, 46260, 31910, 1429, 209867):
            client.tv(tv_id)
    assert len(opened) == 1


def test_no_credentials_explains_how_to_set_one() -> None:
    with pytest.raises(AniVaultError) as info:
        TMDBClient(base_url="http://127.0.0.1:9/3")
    assert "TMDB_API_KEY" in info.value.hint and info.value.exit_code == 1


def test_offline_answers_from_the_cache_only(tmdb_server: TMDBServer, cache: TMDBCache) -> None:
    with client_for(tmdb_server, cache) as client:
        client.tv(37854)
    before = tmdb_server.count()
    with client_for(tmdb_server, cache, api_key=None, offline=True) as client:
        assert client.tv(37854)["id"] == 37854
        with pytest.raises(TMDBUnavailable, match="offline"):
            client.tv(46260)
    assert tmdb_server.count() == before


# ---------------------------------------------------------------- rate, dedup, second run


def test_configured_rate_is_never_exceeded_at_the_server(tmdb_server: TMDBServer, cache: TMDBCache) -> None:
    rate = 200.0
    limiter = RateLimiter(rate=rate, concurrency=8)
    with client_for(tmdb_server, cache, limiter=limiter) as client, ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: client.tv_season(37854, i % 22 + 1000 * (i // 22)), range(260)))
    burst = limiter.bucket.burst
    assert tmdb_server.count() == 260
    # The client starts at most `rate` in any 1 s + guard, so arrival jitter below the guard
    # cannot push the server's count past the rate; over a short window the burst applies.
    assert tmdb_server.max_in_window(1.0) <= rate
    assert tmdb_server.max_in_window(0.25) <= burst + rate * (0.25 + SEND_JITTER_GUARD)
    times = sorted(r.t for r in tmdb_server.requests())
    sustained = (len(times) - burst) / (times[-1] - times[0])
    assert sustained <= rate * 1.05


def test_no_request_is_made_twice_for_the_same_key(tmdb_server: TMDBServer, cache: TMDBCache) -> None:
    tmdb_server.latency = 0.02  # so concurrent askers overlap in flight
    queries = ["naruto", "one piece", "bleach", "frieren", "monster"] * 20
    with client_for(tmdb_server, cache, concurrency=4) as client, ThreadPoolExecutor(16) as pool:
        results = list(pool.map(client.search_tv, queries))
        list(pool.map(client.tv, [37854, 46260, 37854, 46260] * 10))
    assert all(r["results"] for r in results)
    counts = _request_keys(tmdb_server)
    assert set(counts.values()) == {1} and len(counts) == 7
    assert client.counters["coalesced"] > 0 or client.counters["cache_hits"] > 0


def test_second_run_makes_zero_requests(tmdb_server: TMDBServer, tmp_path: Path) -> None:
    path = tmp_path / "tmdb.sqlite"

    def run() -> TMDBClient:
        with TMDBCache(path) as cache, client_for(tmdb_server, cache) as client:
            client.search_tv("one piece")
            client.tv(37854)
            client.search_tv("no such show anywhere")  # an empty result list is cached too
            client.search_movie("akira", 1988)
            return client

    first = run()
    n = tmdb_server.count()
    assert n == 4 and first.counters["requests"] == 4
    second = run()
    assert tmdb_server.count() == n
    assert second.summary()["hit_rate"] == 1.0 and second.counters["requests"] == 0


# ---------------------------------------------------------------- faults


@pytest.mark.parametrize("storm", [
    ["429"] * 6,  # no Retry-After: exponential backoff with full jitter
    ["429:0.05"] * 4,  # Retry-After in seconds
    ["429-date:1", "429"],  # Retry-After as an HTTP-date
])
def test_429_storms_end_in_success(tmdb_server: TMDBServer, cache: TMDBCache, storm: list[str]) -> None:
    tmdb_server.faults.extend(storm)
    with client_for(tmdb_server, cache) as client:
        assert client.search_tv("frieren")["results"][0]["id"] == 209867
    statuses = [r.status for r in tmdb_server.requests()]
    assert statuses == [429] * len(storm) + [200]
    assert client.counters["rate_limited"] == len(storm)
    assert not client.breaker.is_open  # 429 is politeness, not failure


def test_retry_after_pauses_every_thread(tmdb_server: TMDBServer, cache: TMDBCache) -> None:
    with client_for(tmdb_server, cache, concurrency=4) as client:
        client.tv(31910)  # the HTTP client is made on the first request: before the timed part
        tmdb_server.faults.append("429:0.4")
        first = threading.Thread(target=client.tv, args=(37854,))
        first.start()
        time.sleep(0.1)  # the 429 has arrived; this thread must wait out the same pause
        client.tv(46260)
        first.join()
    reqs = tmdb_server.requests()[1:]
    assert [r.status for r in reqs] == [429, 200, 200]
    assert all(r.t >= reqs[0].t + 0.38 for r in reqs[1:])


def test_many_concurrent_429s_all_end_in_success(tmdb_server: TMDBServer, cache: TMDBCache) -> None:
    tmdb_server.limit = 30  # the server's own limit, lower than the client's rate
    with client_for(tmdb_server, cache, rate=200, concurrency=8) as client, ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: client.tv_season(37854, n), range(1, 61)))
    assert sum(r is not None for r in results) == 21  # One Piece has seasons 1..21; the rest are 404s
    assert client.counters["rate_limited"] > 0
    assert sum(1 for r in tmdb_server.requests() if r.status != 429) == 60


def test_retry_after_parsing() -> None:
    now = 1_700_000_000.0
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("0.5") == 0.5
    assert retry_after_seconds(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30, abs=1)
    assert retry_after_seconds(formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_full_jitter_stays_within_the_exponential_envelope() -> None:
    for attempt in range(10):
        for _ in range(50):
            assert 0 <= full_jitter(attempt, 0.5, 30) <= min(30, 0.5 * 2 ** attempt)


@pytest.mark.parametrize("fault", ["500", "502", "503", "504", "timeout", "malformed"])
def test_transient_faults_are_retried(tmdb_server: TMDBServer, cache: TMDBCache, fault: str) -> None:
    tmdb_server.timeout_delay = 0.6
    tmdb_server.faults.extend([fault, fault])
    with client_for(tmdb_server, cache, timeout=0.3) as client:
        assert client.tv(37854)["id"] == 37854
    assert client.counters["retries"] == 2 and client.counters["failures"] == 2
    assert tmdb_server.count() == 3


def test_retries_are_bounded(tmdb_server: TMDBServer, cache: TMDBCache) -> None:
    tmdb_server.always = "502"
    with client_for(tmdb_server, cache, max_retries=3, breaker=CircuitBreaker(threshold=100)) as client:
        with pytest.raises(TMDBUnavailable, match="HTTP 502"):
            client.tv(37854)
    assert tmdb_server.count() == 4
    with TMDBCache(cache.path) as fresh:
        assert fresh.stats()["entries"] == 0  # failures are never cached


def test_connection_errors_are_retried_then_reported(cache: TMDBCache) -> None:
    client = TMDBClient(api_key="k", base_url="http://127.0.0.1:9/3", cache=cache, max_retries=2,
                        backoff_base=0.01, timeout=0.5)
    with client, pytest.raises(TMDBUnavailable, match="connection error"):
        client.tv(1)
    assert client.counters["requests"] == 3


@pytest.mark.parametrize("code, word", [(7, "invalid"), (10, "suspended")])
def test_rejected_key_stops_with_exit_5(tmdb_server: TMDBServer, cache: TMDBCache, code: int, word: str) -> None:
    with client_for(tmdb_server, cache, api_key="wrong-key") as client:
        if code == 10:
            tmdb_server.api_key = "wrong-key"
            tmdb_server.faults.append("401")
            from anivault.testing import server as srv

            original = srv._error
            srv._error = lambda status, c, m, h=None: original(status, 10 if status == 401 else c, m, h)
            try:
                with pytest.raises(CredentialsError) as info:
                    client.tv(1)
            finally:
                srv._error = original
        else:
            with pytest.raises(CredentialsError) as info:
                client.tv(1)
        with pytest.raises(CredentialsError):
            client.tv(2)  # once rejected, nothing more is sent
    assert info.value.exit_code == EXIT_CREDENTIALS
    assert "TMDB rejected the API key" in info.value.message and word in info.value.message
    assert tmdb_server.count() == 1


# ---------------------------------------------------------------- circuit breaker


def test_breaker_switches_to_cache_only_and_probes(tmdb_server: TMDBServer, cache: TMDBCache) -> None:
    warnings: list[str] = []
    breaker = CircuitBreaker(threshold=3, probe_interval=0.3)
    with client_for(tmdb_server, cache, breaker=breaker, max_retries=5, warn=warnings.append) as client:
        client.tv(37854)  # cached while TMDB works
        tmdb_server.always = "500"
        with pytest.raises(TMDBUnavailable):
            client.tv(46260)
        assert breaker.is_open and any("cache-only" in w for w in warnings)
        failing = tmdb_server.count()
        assert failing == 1 + 3  # the breaker cut the retries short
        assert client.tv(37854)["id"] == 37854  # the cache still answers
        with pytest.raises(TMDBUnavailable, match="cache-only"):
            client.tv(31910)
        assert tmdb_server.count() == failing  # no request while open
        time.sleep(0.35)
        with pytest.raises(TMDBUnavailable):
            client.tv(31910)  # a timed probe went out, failed: still open
        assert tmdb_server.count() == failing + 1 and breaker.probes == 1
        tmdb_server.always = None
        time.sleep(0.35)
        assert client.tv(31910)["id"] == 31910  # the next probe works: closed again
        assert not breaker.is_open and any("again" in w for w in warnings)
        assert client.summary()["breaker_trips"] == 1


def test_breaker_state_machine_with_a_clock() -> None:
    now = [0.0]
    b = CircuitBreaker(threshold=2, probe_interval=10, clock=lambda: now[0])
    assert b.allow()
    assert not b.failure() and b.failure()  # the second consecutive failure opens it
    assert not b.allow()
    now[0] = 10
    assert b.allow() and not b.allow()  # one probe at a time
    b.failure()
    now[0] = 15
    assert not b.allow()
    now[0] = 20
    assert b.allow()
    assert b.success() and b.allow() and not b.is_open


# ---------------------------------------------------------------- secrets


def test_key_never_reaches_logs_errors_or_cache(tmdb_server: TMDBServer, tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "tmdb.sqlite"
    tmdb_server.faults.extend(["500", "429:0.01", "malformed"])
    with TMDBCache(path) as cache, client_for(tmdb_server, cache) as client:
        client.search_tv("frieren")
        client.tv(209867)
        client.tv(5)
        tmdb_server.always = "502"
        with pytest.raises(TMDBUnavailable) as info:
            client.tv(6)
    assert API_KEY not in str(info.value)
    assert "HTTP Request" in caplog.text  # httpx did log its request lines...
    assert API_KEY not in caplog.text  # ...redacted
    for f in tmp_path.iterdir():
        assert API_KEY.encode() not in f.read_bytes(), f


def test_client_is_thread_safe_under_load(tmdb_server: TMDBServer, cache: TMDBCache) -> None:
    ids = [s for s in (37854, 46260, 31910, 30984, 1429, 209867, 13916, 31911)]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            client.tv(ids[i % len(ids)])
            client.search_tv(["naruto", "bleach", "one piece"][i % 3])
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    with client_for(tmdb_server, cache, concurrency=4) as client:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    assert tmdb_server.count() == len(ids) + 3
