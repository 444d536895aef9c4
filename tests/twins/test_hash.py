"""Path hashing twins: xxh3_64 of the UTF-8 (surrogateescape) path, stable everywhere."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from anivault._speedups import twin

from conftest import PURE_RUN
PATHS = ["", "a", "/anime/Cowboy Bebop/[SubsPlease] Cowboy Bebop - 01 (1080p).mkv",
         "C:\\Anime\\進撃の巨人\\第1話.mkv", "/x/\udcff\udcfe.mkv", "é" * 300, "/" * 4096]


@pytest.mark.parametrize("path", PATHS)
def test_path_hash_is_xxh3_64_of_the_utf8_bytes(hash_twin, path: str) -> None:
    expected = xxhash.xxh3_64_intdigest(path.encode("utf-8", "surrogateescape"))
    assert hash_twin.path_hash(path) == expected


def test_known_value_is_stable_across_versions(hash_twin) -> None:
    # Pinned: the index on disk depends on it never changing.
    assert hash_twin.path_hash("abc") == 0x78AF5F94892F3950
    assert hash_twin.path_hash("") == 0x2D06800538D394C2


def test_batch_form_matches_one_by_one(hash_twin) -> None:
    assert hash_twin.path_hashes(PATHS) == [hash_twin.path_hash(p) for p in PATHS]
    assert hash_twin.path_hashes(iter(PATHS)) == [hash_twin.path_hash(p) for p in PATHS]
    assert hash_twin.path_hashes([]) == []


def test_non_utf8_names_hash_their_bytes_on_disk(hash_twin) -> None:
    raw = b"/anime/\xff\xfe broken.mkv"
    assert hash_twin.path_hash(os.fsdecode(raw)) == xxhash.xxh3_64_intdigest(raw)


def test_hash_is_stable_across_processes(hash_twin) -> None:
    path = "/anime/Frieren/[SubsPlease] Sousou no Frieren - 05 (1080p).mkv"
    code = f"from anivault._speedups import twin; print(twin('hash', {hash_twin.__name__.rsplit('_', 1)[1]!r}).path_hash({path!r}))"
    for seed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert int(out.stdout) == hash_twin.path_hash(path)


def test_change_key_changes_with_size_or_mtime(hash_twin) -> None:
    key = hash_twin.change_key(1000, 1_700_000_000_000_000_000)
    assert key == hash_twin.change_key(1000, 1_700_000_000_000_000_000)
    assert key != hash_twin.change_key(1001, 1_700_000_000_000_000_000)
    assert key != hash_twin.change_key(1000, 1_700_000_000_000_000_001)
    assert hash_twin.change_key(1, 2) == xxhash.xxh3_64_intdigest((1).to_bytes(8, "little") + (2).to_bytes(8, "little"))


def test_change_key_takes_negative_mtimes_and_refuses_overflow(hash_twin) -> None:
    assert hash_twin.change_key(0, -1) == xxhash.xxh3_64_intdigest(b"\0" * 8 + b"\xff" * 8)
    with pytest.raises(OverflowError):
        hash_twin.change_key(1 << 63, 0)


def test_wrong_types_raise_type_error(hash_twin) -> None:
    with pytest.raises(TypeError):
        hash_twin.path_hash(b"/bytes/path")
    with pytest.raises(TypeError):
        hash_twin.path_hashes(["/ok", 3])


@pytest.mark.skipif(PURE_RUN, reason="this run forces the pure twins; the compiled run compares both")
@settings(max_examples=400, deadline=None)
@given(paths=st.lists(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("\udc80\udcff/\\ .")),
                      max_size=20),
       size=st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1),
       mtime=st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1))
def test_compiled_and_pure_twins_agree(paths: list[str], size: int, mtime: int) -> None:
    c, py = twin("hash", "c"), twin("hash", "py")
    assert c.path_hashes(paths) == py.path_hashes(paths)
    for p in paths:
        assert c.path_hash(p) == py.path_hash(p)
    assert c.change_key(size, mtime) == py.change_key(size, mtime)
