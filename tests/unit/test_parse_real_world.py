"""Issue 10's real-world categories, on names written for these tests, on both twins."""
from __future__ import annotations

import pytest

from anivault.models import ParsedName


def check(parse_twin, name: str, **expected) -> ParsedName:
    got = parse_twin.parse_name(name)
    wrong = {k: (v, getattr(got, k)) for k, v in expected.items() if getattr(got, k) != v}
    assert not wrong, f"{name!r}: field: (expected, got) {wrong}"
    return got


# ---------------------------------------------------------------- 1. titles are series titles


@pytest.mark.parametrize("name, fields", [
    ("[Grp] Harbor Lights OVA - The Lost Letter [720p].mkv",
     dict(title="Harbor Lights", kind="special", extra_type="OVA", episode_title="The Lost Letter")),
    ("[Grp] Harbor Lights NCOP [BDRip 1080p].mkv", dict(title="Harbor Lights", kind="extra",
                                                        extra_type="NCOP")),
    ("[Grp] Harbor Lights NCED2 [1080p].mkv", dict(title="Harbor Lights", kind="extra",
                                                   extra_type="NCED", episode=2)),
    ("[Grp] Harbor Lights - NCED1v2 [1080p].mkv", dict(title="Harbor Lights", extra_type="NCED",
                                                      version=2)),
    ("[Grp] Harbor Lights PV3 [1080p].mkv", dict(title="Harbor Lights", extra_type="PV")),
    ("[Grp] Harbor Lights - CM02 [1080p].mkv", dict(title="Harbor Lights", extra_type="CM")),
    ("[Grp] Harbor Lights Menu01 [1080p].mkv", dict(title="Harbor Lights", extra_type="Menu")),
    ("Harbor_Lights_OAD_-_01_[DVD].mkv", dict(title="Harbor Lights", kind="special",
                                              extra_type="OAD", episode=1)),
    ("[Grp] Harbor Lights - Recap [720p].mkv", dict(title="Harbor Lights", extra_type="Recap")),
    ("[Grp] Gekijouban Harbor Lights [1080p].mkv", dict(title="Harbor Lights", kind="movie",
                                                        extra_type="Movie")),
    ("[Grp] 劇場版 港の灯 [1080p].mkv", dict(title="港の灯", kind="movie", extra_type="Movie")),
    ("[Grp] Harbor Lights Movie [1080p].mkv", dict(title="Harbor Lights", kind="movie")),
    ("[Grp] Harbor Lights - 05 [1080p].mkv", dict(title="Harbor Lights", kind="episode",
                                                  extra_type=None)),
])
def test_type_words_leave_the_title(parse_twin, name, fields):
    check(parse_twin, name, **fields)


def test_type_word_inside_a_longer_title_stays(parse_twin):
    # "Special" followed by more title words is part of the name, not the type of the file.
    check(parse_twin, "[Grp] Harbor Lights - Special Short Stories - 01 [720p].mkv",
          title="Harbor Lights - Special Short Stories", episode=1)
    check(parse_twin, "[Grp] Harbor Lights Movie 2 The Far Shore [720p].mkv",
          title="Harbor Lights Movie 2 The Far Shore")


# ---------------------------------------------------------------- issue 13: bounded work


@pytest.mark.parametrize("name", [
    "a" * 1_000_000, "[G] " + "x " * 500_000 + "- 05.mkv", "[" * 1_000_000, "a." * 500_000,
    "1" * 1_000_000, "★" * 1_000_000, "[Grp] Harbor Lights - 05 [1080p]" + "_" * 1_000_000 + ".mkv",
])
def test_a_huge_name_parses_only_its_tail(parse_twin, name):
    got = parse_twin.parse_name(name)
    assert got == parse_twin.parse_name(name[-1024:])


def test_the_tail_keeps_the_episode_and_extension(parse_twin):
    check(parse_twin, "x" * 5000 + " [Grp] Harbor Lights - 05 [1080p].mkv", episode=5, ext="mkv",
          resolution="1080p")
