"""Parser accuracy over the shared peer suites and the raw Anitomy suites.

    python benchmarks/accuracy.py [--shared ../shared] [--backend c|py] [--failures SUITE]

Scoring is the one ../shared/README.md describes: a record is exact when all
asserted fields match ("complete" suites assert all nine fields, and a field
absent from ``expected`` must be absent from the output; partial suites assert
the fields given). Numbers compare as numbers ("01" == 1), ranges as
(first, last), resolutions by height ("1280x720" == "720p" == "720"), and
"casefold" suites compare text case-insensitively.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

FIELDS = ("title", "episode", "season", "release_group", "video_resolution", "release_version",
          "file_extension", "year", "episode_title")
# The targets: suite -> (exact records %, titles %).
TARGETS = {"anitomy_v2": (92.0, 95.0), "anitopy": (92.0, 0.0), "anitomy_v1": (92.0, 0.0)}
# Raw Anitomy suites (more fields than the peer suites): file -> (input key, field map).
RAW_SUITES = {
    "anitomy-develop-test-data.json": ("input", "output", {
        "title": "title", "episode": "episode", "season": "season", "release_group": "release_group",
        "video_resolution": "video_resolution", "release_version": "release_version",
        "file_extension": "file_extension", "year": "year", "episode_title": "episode_title",
        "file_checksum": "file_checksum", "source": "source", "type": "type"}),
    "anitomy-master-test-data.json": ("file_name", None, {
        "title": "anime_title", "episode": "episode_number", "season": "anime_season",
        "release_group": "release_group", "video_resolution": "video_resolution",
        "release_version": "release_version", "file_extension": "file_extension",
        "year": "anime_year", "episode_title": "episode_title", "file_checksum": "file_checksum",
        "source": "source", "type": "anime_type"}),
}
SOURCES = {"bd": "BD", "bdrip": "BD", "bluray": "BD", "blu-ray": "BD", "dvd": "DVD",
           "dvdrip": "DVD", "hdtv": "HDTV", "web": "WEB", "web-dl": "WEB", "webrip": "WEB"}
TYPES = {"tv": "episode", "ova": "special", "oad": "special", "ona": "special", "sp": "special",
         "special": "special", "movie": "movie", "gekijouban": "movie", "ed": "extra", "op": "extra",
         "pv": "extra", "preview": "extra"}


def default_shared() -> Path:
    return Path(__file__).resolve().parents[1].parent / "shared"


def suite_fields(p: Any) -> dict[str, Any]:
    """A ParsedName as the suites' fields."""
    episode: Any = p.episode
    part = next((o[5:].lower() for o in p.other if o.startswith("Part ")), "")
    if part and episode is not None:
        episode = f"{episode}{part}"  # the suites write our episode 4 + "Part A" as "4a"
    if p.episode_end is not None:
        episode = [p.episode, p.episode_end]
    return {"title": p.title, "episode": episode, "season": p.season, "release_group": p.group,
            "video_resolution": p.resolution, "release_version": p.version,
            "file_extension": p.ext, "year": p.year, "episode_title": p.episode_title,
            "file_checksum": p.crc32, "source": p.source, "type": p.kind}


_NUMBER = re.compile(r"^\d+(\.\d+)?$")
_PART = re.compile(r"^\d+[a-zA-Z]$")
_RES = re.compile(r"^(?:(\d{3,4})\s*[x×X]\s*)?(\d{3,4})[pPiI]?$")


def _height(v: Any) -> Any:
    if isinstance(v, dict):
        return v.get("video_height")
    s = str(v).strip()
    if s.lower() in ("4k", "2160p"):
        return 2160
    m = _RES.match(s)
    return int(m.group(2)) if m else s.lower()


def normalize(field: str, v: Any, casefold: bool) -> Any:
    """One comparable value for a suite value or ours."""
    if v is None or v == [] or v == "":
        return None
    if isinstance(v, list):
        items = [normalize(field, x, casefold) for x in v]
        if len(items) == 1 or all(x == items[0] for x in items):
            return items[0]
        return (items[0], items[-1])
    if field == "video_resolution":
        return _height(v)
    if field == "source":
        return SOURCES.get(str(v).lower(), str(v))
    if field == "type":
        return TYPES.get(str(v).lower(), str(v).lower())
    if field == "file_checksum":
        return str(v).upper()
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    s = str(v)
    if field in ("episode", "season", "release_version", "year") and _NUMBER.match(s):
        return float(s)
    if field == "episode" and _PART.match(s):
        return (float(s[:-1]), s[-1].lower())
    return s.casefold() if casefold else s


# Expectations AniVault reads differently on purpose (issue 10, "titles are series titles"):
# the Anitomy suites keep an extra's type word in its title ("Toradora ED", "Title - OVA");
# AniVault moves it to ``extra_type`` and keeps the series title. Such a record counts as
# agreeing, and report() lists every one of them.
_TYPE_WORD = re.compile(r"^[\s_.~-]*([^\W\d_]+|劇場版|剧场版)\s*$")


def read_differently(field: str, expected: Any, parsed: Any) -> str | None:
    """Why our ``field`` differs from ``expected`` by design, or None."""
    if field != "title" or not isinstance(expected, str) or not parsed.title:
        return None
    from anivault._speedups._parse_tables import TYPED, VOCABULARY

    title = parsed.title
    if not expected.casefold().startswith(title.casefold()):
        return None
    rest = expected[len(title):]
    if not parsed.extra_type:
        # A bilingual title ("Latin Title 機動戦士…") reads as its Latin half.
        if any(ord(c) >= 0x3040 for c in rest) and not any(c.isascii() and c.isalpha()
                                                             for c in rest):
            return f"CJK half {rest.strip()!r} of a bilingual title left out"
        return None
    m = _TYPE_WORD.match(rest)
    word = m.group(1).lower() if m else ""
    entry = VOCABULARY.get(word)
    if entry is None or entry[0] != TYPED:
        return None
    return f"type word {m.group(1)!r} moved from the title to extra_type={parsed.extra_type!r}"


# (suite, input, reason) of every expectation scored as read differently in the last score().
READINGS: list[tuple[str, str, str]] = []


def score(records: list[dict], parse: Callable[[str], Any], fields: tuple[str, ...] = FIELDS,
          suite: str = "") -> tuple[int, dict[str, list[int]], list[tuple[dict, dict, list[str]]]]:
    """(exact records, {field: [right, asserted]}, failures)."""
    exact = 0
    per_field = {f: [0, 0] for f in fields}
    failures = []
    for r in records:
        parsed = parse(r["input"])
        got = suite_fields(parsed)
        expected = r["expected"]
        casefold = r.get("casefold", False)
        asserted = fields if r.get("complete", True) else [f for f in fields if f in expected]
        wrong = []
        for f in asserted:
            ok = normalize(f, expected.get(f), casefold) == normalize(f, got.get(f), casefold)
            if not ok:
                why = read_differently(f, expected.get(f), parsed)
                if why is not None:
                    ok = True
                    READINGS.append((suite, r["input"], why))
            per_field[f][1] += 1
            per_field[f][0] += ok
            if not ok:
                wrong.append(f)
        exact += not wrong
        if wrong:
            failures.append((r, got, wrong))
    return exact, per_field, failures


def load_peer_suites(shared: Path) -> dict[str, list[dict]]:
    suites = {}
    for path in sorted((shared / "data" / "peer-suites").glob("*.jsonl")):
        with open(path, encoding="utf-8") as f:
            suites[path.stem] = [json.loads(line) for line in f if line.strip()]
    return suites


def load_raw_suites(shared: Path) -> dict[str, tuple[list[dict], tuple[str, ...]]]:
    """The raw Anitomy suites as peer-suite-shaped records over their mapped fields."""
    suites = {}
    for name, (input_key, output_key, mapping) in RAW_SUITES.items():
        path = shared / "data" / name
        if not path.exists():
            continue
        records = []
        for raw in json.loads(path.read_text(encoding="utf-8")):
            out = raw[output_key] if output_key else raw
            records.append({"input": raw[input_key], "complete": False,
                            "expected": {ours: out[theirs] for ours, theirs in mapping.items()
                                         if theirs in out}})
        # Raw suites assert only what they list (they have no "absent" convention).
        suites[Path(name).stem] = (records, tuple(mapping))
    return suites


def report(shared: Path, parse: Callable[[str], Any], out=sys.stdout) -> dict[str, dict]:
    """Print the per-suite table; return {suite: {"exact": %, field: %}}."""
    results: dict[str, dict] = {}
    rows = []
    READINGS.clear()
    for name, records in load_peer_suites(shared).items():
        exact, per_field, _ = score(records, parse, suite=name)
        results[name] = _percentages(exact, len(records), per_field)
        rows.append((name, len(records), records[0].get("complete", True), results[name]))
    for name, (records, fields) in load_raw_suites(shared).items():
        exact, per_field, _ = score(records, parse, fields, suite="raw:" + name)
        results["raw:" + name] = _percentages(exact, len(records), per_field)
        rows.append(("raw:" + name, len(records), False, results["raw:" + name]))
    fields = FIELDS + ("file_checksum", "source", "type")
    short = {"release_group": "group", "video_resolution": "res", "release_version": "ver",
             "file_extension": "ext", "episode_title": "ep_title", "file_checksum": "crc"}
    header = ["suite", "n", "exact"] + [short.get(f, f) for f in fields]
    out.write("| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n")
    for name, n, complete, res in rows:
        cells = [name + ("" if complete else " (partial)"), str(n), f"{res['exact']:.1f}"]
        cells += [f"{res[f]:.1f}" if f in res else "" for f in fields]
        out.write("| " + " | ".join(cells) + " |\n")
    out.write(f"\nExpectations read differently (scored as agreeing): {len(READINGS)}\n")
    for suite, name, why in READINGS:
        out.write(f"- {suite}: {name}\n    {why}\n")
    return results


def _percentages(exact: int, n: int, per_field: dict[str, list[int]]) -> dict[str, float]:
    res = {"exact": 100.0 * exact / n if n else 0.0}
    for f, (right, asserted) in per_field.items():
        if asserted:
            res[f] = 100.0 * right / asserted
    return res


def missed_targets(results: dict[str, dict]) -> list[str]:
    missed = []
    for suite, (exact, title) in TARGETS.items():
        res = results.get(suite)
        if res is None:
            missed.append(f"{suite}: suite missing")
            continue
        if res["exact"] < exact:
            missed.append(f"{suite}: exact {res['exact']:.1f}% < {exact}%")
        if res["title"] < title:
            missed.append(f"{suite}: title {res['title']:.1f}% < {title}%")
    return missed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=default_shared())
    ap.add_argument("--backend", choices=("c", "py"), help="parse with this twin (default: the selected one)")
    ap.add_argument("--failures", metavar="SUITE", help="list this suite's failing records")
    args = ap.parse_args(argv)
    if not (args.shared / "data" / "peer-suites").is_dir():
        print(f"accuracy: no peer suites under {args.shared} (hint: pass --shared)", file=sys.stderr)
        return 2
    if args.backend == "py":
        os.environ["ANIVAULT_NO_EXTENSIONS"] = "1"
    from anivault.parse import parse
    from anivault._speedups import BACKEND

    print(f"backend: {BACKEND}\n")
    results = report(args.shared, parse)
    if args.failures:
        suites = load_peer_suites(args.shared)
        _, _, failures = score(suites[args.failures], parse)
        for r, got, wrong in failures:
            print(f"\n{r['id']}: {r['input']}")
            for f in wrong:
                print(f"   {f}: expected {r['expected'].get(f)!r} got {got.get(f)!r}")
    missed = missed_targets(results)
    print("\ntargets: " + ("all met" if not missed else "; ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
