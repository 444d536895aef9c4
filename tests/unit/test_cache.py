"""The persistent TMDB cache: TTLs, LRU index, size cap, priority deletion, corruption, processes."""
from __future__ import annotations

import multiprocessing
import os
import sqlite3
from pathlib import Path

import pytest

from anivault import cache as cache_mod
from anivault.cache import DAY, MISSING, TMDBCache, make_key


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "tmdb.sqlite"


@pytest.fixture
def twin_cache(lru_twin, monkeypatch: pytest.MonkeyPatch):
    """Make TMDBCache use the LRU twin of this test's backend."""
    monkeypatch.setattr(cache_mod, "LRUCache", lru_twin.LRUCache)
    return TMDBCache


def test_roundtrip_and_missing(twin_cache, db: Path, clock: Clock) -> None:
    with twin_cache(db, clock=clock) as c:
        key = make_key("search/tv", "frieren", "en-US")
        assert c.get(key) is MISSING
        c.put(key, "search/tv", {"results": [{"id": 1, "name": "Frieren"}]})
        c.put(make_key("tv", 404, "en-US"), "tv", None)  # a 404: cached "no result"
        assert c.get(key) == {"results": [{"id": 1, "name": "Frieren"}]}
        assert c.get(make_key("tv", 404, "en-US")) is None
        assert (c.hits, c.misses) == (2, 1)


def test_entries_survive_reopening(twin_cache, db: Path, clock: Clock) -> None:
    with twin_cache(db, clock=clock) as c:
        c.put("tv|1|en-US|", "tv", {"id": 1})
    with twin_cache(db, clock=clock) as c:
        assert c.get("tv|1|en-US|") == {"id": 1}


def test_keys_include_language_and_year() -> None:
    assert make_key("search/movie", "akira", "en-US", 1988) != make_key("search/movie", "akira", "ja-JP", 1988)
    assert make_key("search/movie", "akira", "en-US", 1988) != make_key("search/movie", "akira", "en-US")


@pytest.mark.parametrize("kind, value, days", [
    ("search/tv", {"results": [{"id": 1}]}, 7),
    ("tv", {"id": 1}, 30),
    ("search/tv", {"results": []}, 1),  # no result
    ("tv", None, 1),  # not found
])
def test_ttl_per_kind(db: Path, clock: Clock, kind: str, value, days: float) -> None:
    with TMDBCache(db, clock=clock) as c:
        c.put("k", kind, value)
        clock.now += days * DAY - 1
        assert c.get("k") == value
    with TMDBCache(db, clock=clock) as c:  # the same from SQLite, not only from memory
        assert c.get("k") == value
        clock.now += 1
        assert c.get("k") is MISSING
    with TMDBCache(db, clock=clock) as c:
        assert c.get("k") is MISSING


def test_ttl_is_configurable(db: Path, clock: Clock) -> None:
    with TMDBCache(db, clock=clock, ttl_days={"search": 2, "details": 30, "none": 1}) as c:
        c.put("k", "search/tv", {"results": [{"id": 1}]})
        clock.now += 2 * DAY
        assert c.get("k") is MISSING
    with TMDBCache(db, clock=clock, ttl_days={"search": 1, "details": 3, "none": 0.5}) as c:
        assert c.ttl["details"] == 3 * DAY


def test_memory_index_answers_without_sqlite(db: Path, clock: Clock) -> None:
    with TMDBCache(db, clock=clock) as c:
        c.put("k", "tv", {"id": 7})
        other = sqlite3.connect(db)
        other.execute("DELETE FROM entries")
        other.commit()
        other.close()
        assert c.get("k") == {"id": 7}  # served by the in-memory LRU + TTL index


def _fill(c: TMDBCache, n: int, kind: str = "tv", size: int = 400, prefix: str = "k") -> None:
    for i in range(n):
        c.put(f"{prefix}{i}", kind, {"id": i, "pad": "x" * (size + i % 300)})


def test_size_cap_holds_under_many_writes(db: Path) -> None:
    cap_mb = 1.0
    cap = int(cap_mb * 1024 * 1024)
    with TMDBCache(db, max_mb=cap_mb) as c:
        for round_ in range(6):
            _fill(c, 1500, kind=("tv", "search/tv")[round_ % 2], prefix=f"r{round_}-")
            stats = c.stats()
            assert stats["bytes_accounted"] <= cap
            assert os.path.getsize(db) <= cap * 1.05
            # The WAL beside it is bounded by the checkpoint interval (64 pages at this small cap).
            assert stats["bytes_on_disk"] <= cap * 1.05 + 64 * 4096 + 64 * 1024
        assert c.stats()["entries"] > 1000  # pruning keeps most of the cap in use
    assert os.path.getsize(db) <= cap * 1.05 and not os.path.exists(f"{db}-wal") or \
        os.path.getsize(f"{db}-wal") == 0


def test_priority_deletion_expired_then_searches_then_lru(db: Path, clock: Clock) -> None:
    with TMDBCache(db, clock=clock, max_mb=64) as c:
        _fill(c, 10, kind="tv", prefix="old-detail-")
        clock.now += 10
        _fill(c, 10, kind="search/tv", prefix="search-")
        clock.now += 10
        _fill(c, 10, kind="tv", prefix="new-detail-")
        c.put("expiring", "tv", None)  # a 1-day "not found"
        clock.now += 10
        for i in range(10):
            assert c.get(f"old-detail-{i}") is not MISSING  # now the most recently used details
        clock.now += DAY
        c.flush()
        c._disk_scale = lambda: 1.0  # caps below are in accounted bytes, not file bytes
        sizes = dict(c._conn.execute("SELECT key, size FROM entries").fetchall())

        def keep(cap: float) -> set[str]:
            c.prune(max_bytes=int(cap / cache_mod.PRUNE_TO))  # prunes down to PRUNE_TO of the cap
            return {k for (k,) in c._conn.execute("SELECT key FROM entries")}

        def size_of(prefix: str) -> int:
            return sum(v for k, v in sizes.items() if k.startswith(prefix))

        total = sum(sizes.values())
        c.prune(max_bytes=total * 2)  # under the cap: only the expired go
        left = {k for (k,) in c._conn.execute("SELECT key FROM entries")}
        assert "expiring" not in left and len(left) == 30
        left = keep(total - size_of("expiring") - size_of("search-") // 2)
        assert sum(k.startswith("search-") for k in left) < 10
        assert sum(k.startswith("search-") for k in left) > 0
        assert sum("detail" in k for k in left) == 20  # no detail goes while a search is left
        left = keep(size_of("old-detail-") + size_of("new-detail-") // 2)
        assert not any(k.startswith("search-") for k in left)
        assert sum(k.startswith("old-detail-") for k in left) == 10  # the recently read ones stay
        assert 0 < sum(k.startswith("new-detail-") for k in left) < 10
        assert "new-detail-0" not in left and "new-detail-9" in left  # least recently used first


def test_clear_and_stats(db: Path, clock: Clock) -> None:
    with TMDBCache(db, clock=clock) as c:
        _fill(c, 5, kind="tv")
        _fill(c, 3, kind="search/movie", prefix="s")
        c.get("k1")
        c.get("nope")
        c.record_run(requests=8)
        stats = c.stats()
        assert stats["entries"] == 8
        assert stats["by_kind"]["tv"]["entries"] == 5 and stats["by_kind"]["search/movie"]["entries"] == 3
        assert stats["last_run"]["hit_rate"] == 0.5 and stats["last_run"]["requests"] == 8
        assert stats["lifetime"]["runs"] == 1
        assert stats["bytes_on_disk"] > 0
        assert c.clear() == 8
        assert c.get("k1") is MISSING and c.stats()["entries"] == 0


@pytest.mark.parametrize("damage", ["garbage", "zeros", "bad-pages"])
def test_corrupt_file_is_moved_aside_and_recreated(db: Path, damage: str) -> None:
    with TMDBCache(db) as c:
        _fill(c, 300)
    data = db.read_bytes()
    if damage == "garbage":
        db.write_bytes(b"this is not a database" * 200)
    elif damage == "zeros":
        db.write_bytes(b"\0" * len(data))
    else:  # a valid header, then the pages scrambled
        db.write_bytes(data[:100] + bytes((b * 7 + 13) & 0xFF for b in data[100:]))
    with TMDBCache(db) as c:
        assert c.get("k1") is MISSING
        c.put("k1", "tv", {"id": 1})
        assert c.get("k1") == {"id": 1}
        assert c.warnings and "moved to" in c.warnings[0]
    aside = [p for p in db.parent.iterdir() if ".corrupt-" in p.name]
    assert aside, "the damaged file is kept for inspection"
    with TMDBCache(db) as c:
        assert c.get("k1") == {"id": 1} and not c.warnings


def test_corruption_found_mid_run_is_recovered(db: Path) -> None:
    c = TMDBCache(db)
    _fill(c, 200)
    c._memory.clear()
    c._conn.close()
    c._conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)

    def broken(*args):
        raise sqlite3.DatabaseError("database disk image is malformed")

    class Broken:
        execute = executemany = staticmethod(broken)

        def close(self) -> None:
            pass

    c._conn = Broken()
    assert c.get("k3") is MISSING  # recovered: a fresh file, the run goes on
    c.put("k3", "tv", {"id": 3})
    assert c.get("k3") == {"id": 3}
    assert any("moved to" in w for w in c.warnings)
    c.close()


def _writer(path: str, worker: int, n: int) -> None:
    with TMDBCache(path) as c:
        for i in range(n):
            c.put(f"w{worker}-{i}", "tv", {"worker": worker, "i": i})
            if i % 10 == 0:
                c.get(f"w{(worker + 1) % 4}-{i // 2}")


def _run_writers(path: Path, per_worker: int) -> None:
    """Four spawned processes each put ``per_worker`` entries into the cache at ``path``."""
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), w, per_worker)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0


def test_concurrent_processes_share_the_file(db: Path) -> None:
    TMDBCache(db).close()  # created once; the processes then race on it
    _run_writers(db, 150)
    with TMDBCache(db) as c:
        assert c.stats()["entries"] == 600
        assert all(c.get(f"w{w}-149") == {"worker": w, "i": 149} for w in range(4))
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_concurrent_first_open_creates_schema_once(tmp_path: Path) -> None:
    path = tmp_path / "fresh.sqlite"
    _run_writers(path, 20)
    with TMDBCache(path) as c:
        assert c.stats()["entries"] == 80
        assert c._conn.execute("PRAGMA user_version").fetchone()[0] == cache_mod.SCHEMA_VERSION


def test_threads_share_one_cache(db: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with TMDBCache(db) as c:
        def work(i: int) -> None:
            c.put(f"t{i}", "tv", {"i": i})
            assert c.get(f"t{i}") == {"i": i}

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(work, range(400)))
        assert c.stats()["entries"] == 400


def test_default_location_is_the_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "here"))
    with TMDBCache() as c:
        assert c.path == tmp_path / "here" / "anivault" / "tmdb.sqlite"
