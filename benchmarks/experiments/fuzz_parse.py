"""Fuzz job: the parser twins agree, and never raise, on many random names.

    python benchmarks/fuzz_parse.py [--examples 100000] [--seed 0]

Hypothesis drives it (the same strategies as tests/twins/test_parse_twins.py, which
runs a few thousand examples in CI); a failure prints the shrunk name and
exits 1. Needs the compiled twin built.
"""
from __future__ import annotations

import argparse
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from hypothesis import HealthCheck, given, seed, settings
    from hypothesis import strategies as st

    from anivault._speedups import twin

    compiled = twin("parse", "c").parse_name
    pure = twin("parse", "py").parse_name
    special = list("[]()【】（）★☆「」_.- +&,~#vVeEsSxXpP0123456789abcABCOVAEDNCOP第話期集화×〜–\u3000\t") + [
        "\ud800", "\udfff", "\x00", "\U0001f600", "Episode", "Season", "2nd", "1080p", "S01E02",
        "x264", "[Group]", " - ", "v2", "Vol.", ".mkv", ".en.ass", "(2019)", "ABCD1234", "of",
        "Dual Audio", "Movie", "Special", "NCOP1", "01-02", "1920x1080", "20230105"]
    names = st.one_of(
        st.lists(st.one_of(st.sampled_from(special), st.text(max_size=3)), max_size=40).map("".join),
        st.text(max_size=300))
    count = 0

    @seed(args.seed)
    @settings(max_examples=args.examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(names)
    def agree(name: str) -> None:
        nonlocal count
        count += 1
        a, b = compiled(name), pure(name)
        assert a == b and [type(x) for x in a] == [type(x) for x in b], f"{name!r}\n c:  {a}\n py: {b}"

    t0 = time.perf_counter()
    try:
        agree()
    except Exception as e:  # hypothesis re-raises the shrunk failure
        print(f"FAILED after {count:,} examples: {e}", file=sys.stderr)
        return 1
    print(f"{count:,} random names: compiled and pure twins identical, none raised "
          f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
