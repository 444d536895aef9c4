"""The compiled and pure parser twins return identical ParsedNames, for any input."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anivault._speedups import twin
from conftest import PURE_RUN

pytestmark = pytest.mark.skipif(
    PURE_RUN,
    reason="pure-only install: there is no compiled twin to compare")


@pytest.fixture(scope="module")
def twins():
    return twin("parse", "c").parse_name, twin("parse", "py").parse_name


# Characters the parser treats specially, so random names hit its branches.
SPECIAL = list("[]()【】（）★☆「」_.- +&,~#vVeEsSxXpP0123456789abcABCOVAEDNCOP第話期集화×〜–\u3000\t") + [
    "\ud800", "\udfff", "\x00", "\U0001f600", "Episode", "Season", "2nd", "1080p", "S01E02", "x264",
    "[Group]", " - ", "v2", "Vol.", ".mkv", ".en.ass", "(2019)", "ABCD1234", "of", "Dual Audio",
    # forms of the real-world rules (issue 10)
    "『", "』", "～", "//", "/", "·", "完", "集", "话", "全", "END", "Fin", "TV", "기", "０", "５",
    "劇場版", "NCED", "NCEDv3", "OVA", "Movie", "Staffel", "x", "第", "招募", "AI2160p", "1080p@60FPS",
    "29.10.2023", "02x03", "-E15", "S01xE02", "Harbor", "港の灯", "The"]

names = st.lists(st.one_of(st.sampled_from(SPECIAL), st.text(max_size=3)), max_size=30).map("".join)


def _same(c, py, name: str) -> None:
    a, b = c(name), py(name)
    assert a == b, f"{name!r}\n  c:  {a}\n  py: {b}"
    assert [type(x) for x in a] == [type(x) for x in b]


@settings(max_examples=3000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(names)
def test_twins_agree_on_random_names(twins, name):
    _same(*twins, name)


@settings(max_examples=500, deadline=None, database=None)
@given(st.text(max_size=200))
def test_twins_agree_on_arbitrary_text(twins, name):
    _same(*twins, name)


def test_twins_agree_on_the_peer_suites(twins, shared_dir):
    count = 0
    for path in sorted((shared_dir / "data" / "peer-suites").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            name = json.loads(line)["input"]
            _same(*twins, name)
            _same(*twins, name.rsplit("/", 1)[-1])
            count += 1
    for raw in ("anitomy-develop-test-data.json", "anitomy-master-test-data.json"):
        for record in json.loads((shared_dir / "data" / raw).read_text(encoding="utf-8")):
            _same(*twins, record.get("input") or record["file_name"])
            count += 1
    assert count > 1000


def test_twins_agree_on_long_names(twins):
    # Long names take the compiled twin's GIL-free path.
    for name in ("[G] " + "Title " * 100 + "- 05 [1080p].mkv", "[" * 300 + "x" + "]" * 300,
                 "★a★" * 200, "S01E01-" * 200, "a_b." * 500):
        _same(*twins, name)


def test_the_compiled_twins_enums_are_generated_from_the_tables():
    # _parse_enums.pxi is _build/parse_enums.py's rendering of _parse_tables.ENUMS.
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("parse_enums", root / "_build" / "parse_enums.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert generator.PXI.read_text(encoding="utf-8") == generator.render(), \
        "run python _build/parse_enums.py"


def test_parse_names_is_parse_many_in_both_twins(twins):
    from anivault._speedups import twin as load

    names = ["[G] Title - 05 [1080p].mkv", "Show/Season 2/05.mkv", "x" * 5000 + " - 07.mkv"]
    for backend in ("c", "py"):
        got = load("parse", backend).parse_names(names, lambda n: ("folders", n))
        assert got[1] == ("folders", names[1])
        assert got[0] == twins[0](names[0]) and got[2] == twins[1](names[2])
