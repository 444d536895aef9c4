"""Parser speed: compiled twin vs pure twin vs anitopy, on one core.

    python benchmarks/bench_parse.py [--files 300000] [--repeat 5] [--seed 1]
    python benchmarks/bench_parse.py --parse-many [--files 300000] [--repeat 5]

The corpus is the file names of ``anivault demo --files N`` (the same
generator, kept in memory: no files are written). Each parser runs over the
whole corpus ``--repeat`` times in this process; the median rate is reported,
and the ratios between parsers come from the same run. Rates use this process's
CPU time (time.process_time), i.e. names per second of one core actually given
to it: on a shared machine wall-clock time also counts the time other
processes held the core. anitopy is timed on a
sample (it is ~100x slower) and skipped when not installed.

``--parse-many`` times the public batch API the way a caller uses it: one
``parse_many`` call over all the names with the results KEPT (a list of
--files ParsedNames, the collector on), beside the same names in batches of
1,000 whose results are dropped; compiled and pure twins (each in a child
process, so both import their own backend). Best of --repeat runs.
"""
from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from typing import Callable, Sequence


def demo_corpus(files: int, seed: int = 1) -> list[tuple[str, str]]:
    """(folder, file name) pairs exactly as ``anivault demo`` lays them out, in memory."""
    from anivault import demo

    rng = random.Random(seed)
    order = rng.sample(range(len(demo.TITLES)), len(demo.TITLES))
    out: list[tuple[str, str]] = []
    index = 0
    while len(out) < files:
        series = demo._Series(index, order, rng)
        index += 1
        base = os.path.join(rng.choice(demo.CATEGORIES), series.folder())
        budget = min(files - len(out), rng.randint(60, 140))
        for rel, _kind, _size in series.names(budget):
            folder, name = os.path.split(os.path.join(base, rel))
            out.append((folder, name))
    return out


def rate(parse: Callable[[str], object], names: Sequence[str], repeat: int) -> tuple[float, list[float]]:
    """(median names/s, all rates) of parse over names, repeat times."""
    rates = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()  # results are dropped at once; the collector only adds noise
        try:
            t0 = time.process_time()
            for n in names:
                parse(n)
            dt = time.process_time() - t0
        finally:
            gc.enable()
        rates.append(len(names) / dt)
    return statistics.median(rates), rates


def parse_many_rates(names: Sequence[str], repeat: int) -> tuple[float, float]:
    """(kept, dropped) names/s of anivault.parse.parse_many in this process's backend."""
    from anivault.parse import parse_many

    def kept() -> float:
        t0 = time.process_time()
        results = parse_many(names)  # the collector stays on: that is what a caller has
        dt = time.process_time() - t0
        assert len(results) == len(names)
        del results
        return len(names) / dt

    def dropped() -> float:
        t0 = time.process_time()
        for i in range(0, len(names), 1000):
            parse_many(names[i:i + 1000])
        return len(names) / (time.process_time() - t0)

    return max(kept() for _ in range(repeat)), max(dropped() for _ in range(repeat))


def _parse_many_child(files: int, seed: int, repeat: int) -> int:
    from anivault._speedups import BACKEND

    names = [name for _, name in demo_corpus(files, seed)]
    kept, dropped = parse_many_rates(names, repeat)
    print(f"{BACKEND}: parse_many over {len(names):,} names: kept {kept:,.0f} names/s, "
          f"dropped {dropped:,.0f} names/s (best of {repeat})", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=300_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--anitopy-sample", type=int, default=5_000)
    ap.add_argument("--parse-many", action="store_true", help="time parse_many: kept vs dropped")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.parse_many and args.child:
        return _parse_many_child(args.files, args.seed, args.repeat)
    if args.parse_many:
        import subprocess

        for backend, env in (("compiled", {}), ("pure", {"ANIVAULT_NO_EXTENSIONS": "1"})):
            files = args.files if backend == "compiled" else max(args.files // 5, 1)
            subprocess.run([sys.executable, __file__, "--parse-many", "--child", "--files",
                            str(files), "--seed", str(args.seed), "--repeat", str(args.repeat)],
                           env={**os.environ, **env}, check=True)
        return 0

    from anivault._speedups import twin
    from anivault.parse import parse_file

    corpus = demo_corpus(args.files, args.seed)
    names = [name for _, name in corpus]
    print(f"corpus: {len(names):,} file names from the demo generator (seed {args.seed}), "
          f"{sum(map(len, names)) / len(names):.0f} characters on average")
    results: dict[str, float] = {}
    try:
        compiled = twin("parse", "c").parse_name
    except ImportError:
        compiled = None
        print("compiled twin: not built (pip install -e . --no-build-isolation)")
    pure = twin("parse", "py").parse_name
    if compiled is not None:
        results["compiled parse_name"], rates = rate(compiled, names, args.repeat)
        print(f"compiled parse_name: {results['compiled parse_name']:>12,.0f} names/s  "
              f"(runs: {', '.join(f'{r:,.0f}' for r in rates)})")
    pure_names = names[: max(len(names) // 5, 1)]
    results["pure parse_name"], rates = rate(pure, pure_names, max(args.repeat // 2, 1))
    print(f"pure parse_name:     {results['pure parse_name']:>12,.0f} names/s  "
          f"(on {len(pure_names):,} names; runs: {', '.join(f'{r:,.0f}' for r in rates)})")
    # What the scanner calls: the file name plus its folder (folder parses cached).
    pairs = corpus
    t0 = time.process_time()
    for folder, name in pairs:
        parse_file(name, folder)
    results["parse_file (selected twin)"] = len(pairs) / (time.process_time() - t0)
    print(f"parse_file:          {results['parse_file (selected twin)']:>12,.0f} names/s  "
          f"(file name + cached folder context, selected backend)")
    try:
        import anitopy
    except ImportError:
        print("anitopy: not installed (pip install anitopy)")
    else:
        sample = random.Random(args.seed).sample(names, min(args.anitopy_sample, len(names)))

        def anitopy_parse(n: str) -> object:
            try:
                return anitopy.parse(n)
            except Exception:  # anitopy raises on some names; count the attempt all the same
                return None

        results["anitopy"], rates = rate(anitopy_parse, sample, 3)
        print(f"anitopy:             {results['anitopy']:>12,.0f} names/s  (on {len(sample):,} names)")
    if compiled is not None:
        print(f"\ncompiled / pure: {results['compiled parse_name'] / results['pure parse_name']:.1f}x")
        if "anitopy" in results:
            print(f"compiled / anitopy: {results['compiled parse_name'] / results['anitopy']:.0f}x, "
                  f"pure / anitopy: {results['pure parse_name'] / results['anitopy']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
