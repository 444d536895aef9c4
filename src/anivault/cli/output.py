"""Everything the CLI shows: tables, summaries, warning lines, NDJSON. The only place that
formats for a terminal.

Untrusted text (file names, TMDB titles, plan entries, error messages carrying paths)
passes :func:`escape` before it reaches a terminal, a pipe or a table: control characters
(C0, DEL, C1), bidi overrides and isolates, zero-width characters and the BOM are shown
visibly (``\\x1b``, ``\\u202e``) and rich never reads markup in them. NDJSON keeps every
string exact: JSON escapes those same characters (``\\u001b``), so nothing raw reaches the
terminal either. Tables are rich on a TTY and tab-separated lines otherwise.
"""
from __future__ import annotations

import json
import re
import sys
from typing import Any, Callable, Iterable, Sequence, TextIO

from .json_lines import match_line

# C0 and DEL/C1 controls; bidi marks, embeddings, overrides and isolates; zero-width and
# invisible formatting characters; line/paragraph separators; the BOM; lone surrogates
# (the undecodable bytes of a non-UTF-8 name).
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e"
                    "\u2060-\u206f\u3164\ufeff\ufff9-\ufffb\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the original byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(value: Any) -> str:
    """``value`` as text that is safe to show: no character can act on the terminal."""
    text = "" if value is None else str(value)
    if text.isascii() and text.isprintable():  # the common case, without a regex scan: no C0, no DEL
        return text
    return UNSAFE.sub(_visible, text) if UNSAFE.search(text) else text


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_text(obj: Any) -> str:
    """One JSON document; strings exact (unsafe characters JSON-escaped, not changed)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)
    return UNSAFE.sub(_json_escape, text)


# UNSAFE characters a JSON encoder leaves raw (it escapes C0 itself; "\n" ends each NDJSON line).
_RAW_IN_JSON = re.compile("[\x7f-\x9f\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e"
                          "\u2060-\u206f\u3164\ufeff\ufff9-\ufffb]")


# UNSAFE characters a JSON encoder leaves raw in a str (the above, and lone surrogates).
_RAW_IN_JSON_TEXT = re.compile(_RAW_IN_JSON.pattern[:-1] + "\ud800-\udfff]")

BLOCK_CHARS = 1 << 16  # lines are written in blocks of about this many characters


def write_lines(texts: Iterable[str], out: TextIO | None = None) -> None:
    """Lines of text, each escaped, written in blocks (one write per ~64 KB, not per line)."""
    _write_blocks(texts, _escaped_lines, out or sys.stdout)


def _escaped_lines(lines: list[str]) -> str:
    """The lines, each escaped, a newline after each. A block of printable ASCII lines (no C0, DEL or
    newline in any: the common case) is checked in two C calls, not a call per line."""
    text = "\n".join(lines) + "\n"
    if text.isascii() and all(map(str.isprintable, lines)):
        return text
    return "\n".join([escape(line) for line in lines]) + "\n"


def write_json_lines(documents: Iterable[str], out: TextIO | None = None) -> None:
    """NDJSON from JSON documents (one line each, from a JSON encoder), with json_text's guarantee:
    strings exact, nothing unsafe raw. The check runs once a block: an ASCII block needs only DEL's."""
    _write_blocks(documents, _json_safe_lines, out or sys.stdout)


def json_safe(block: str) -> str:
    """JSON text from a JSON encoder (C0 escaped) with the characters it leaves raw JSON-escaped too."""
    if block.isascii():
        return block.replace("\x7f", "\\u007f") if "\x7f" in block else block
    return _RAW_IN_JSON_TEXT.sub(_json_escape, block)


def _json_safe_lines(documents: list[str]) -> str:
    return json_safe("\n".join(documents) + "\n")


def _write_blocks(lines: Iterable[str], finish: Callable[[list[str]], str], out: TextIO) -> None:
    """``finish(block)`` for each block of about BLOCK_CHARS characters of lines, written at once."""
    block: list[str] = []
    size = 0
    for text in lines:
        block.append(text)
        size += len(text)
        if size >= BLOCK_CHARS:
            out.write(finish(block))
            block.clear()
            size = 0
    if block:
        out.write(finish(block))


def json_bytes(ndjson: bytes) -> bytes:
    """UTF-8 NDJSON made by another encoder (the scan's render twin), with json_text's guarantee:
    strings exact, nothing unsafe raw. An ASCII block costs one check; others a decode and a
    search (~25 ns a character), which is why the scan applies it on a terminal only."""
    if ndjson.isascii():
        return ndjson.replace(b"\x7f", b"\\u007f") if b"\x7f" in ndjson else ndjson
    text = ndjson.decode("utf-8", "surrogateescape")
    if not _RAW_IN_JSON.search(text):
        return ndjson
    return _RAW_IN_JSON.sub(_json_escape, text).encode("utf-8", "surrogateescape")


def write_ndjson(chunks: Iterable[bytes], tick: Callable[[], None] = lambda: None) -> None:
    """NDJSON made elsewhere (the scan's render twin), written to stdout in ~256 KB blocks.

    On a terminal, characters the twin leaves raw (C1, bidi) are JSON-escaped too (json_bytes);
    piped, the blocks go out untouched: valid JSON, exact strings, at full speed."""
    sys.stdout.flush()
    out = getattr(sys.stdout, "buffer", None) or _TextAsBytes(sys.stdout)
    safe = json_bytes if is_tty(sys.stdout) else (lambda block: block)
    block: list[bytes] = []
    size = 0
    for chunk in chunks:
        block.append(chunk)
        size += len(chunk)
        if size >= 1 << 18:
            out.write(safe(b"".join(block)))
            block.clear()
            size = 0
            tick()
    out.write(safe(b"".join(block)))
    out.flush()


class _TextAsBytes:
    """A text stream without a binary buffer (e.g. one a caller swapped in), written as bytes."""

    def __init__(self, text: Any) -> None:
        self.text = text

    def write(self, data: bytes) -> None:
        self.text.write(data.decode("utf-8", "surrogateescape"))

    def flush(self) -> None:
        self.text.flush()


def json_line(obj: Any, out: TextIO | None = None) -> None:
    """One NDJSON line."""
    (out or sys.stdout).write(json_text(obj) + "\n")


def is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def line(text: str = "", out: TextIO | None = None) -> None:
    """One line of (escaped) text."""
    (out or sys.stdout).write(escape(text) + "\n")


def error_line(message: str) -> None:
    line(f"anivault: error: {message}", sys.stderr)


def warning_line(message: str) -> None:
    line(f"anivault: warning: {message}", sys.stderr)


def note_line(message: str) -> None:
    line(f"anivault: {message}", sys.stderr)


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None,
          out: TextIO | None = None) -> None:
    """A rich table on a TTY; tab-separated lines with a header otherwise. Every cell escaped."""
    out = out or sys.stdout
    if is_tty(out):
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        t = Table(title=Text(escape(title)) if title else None)
        for c in columns:
            t.add_column(Text(escape(c)))
        for r in rows:
            t.add_row(*(Text(escape(v)) for v in r))
        Console(file=out, markup=False, highlight=False, emoji=False).print(t)
        return
    out.write("\t".join(escape(c) for c in columns) + "\n")
    for r in rows:
        out.write("\t".join(escape(v) for v in r) + "\n")


def human_bytes(n: float) -> str:
    from ..monitor import human_bytes as human  # the monitor loads when a command runs

    return human(n)


def _cell(value: Any) -> Any:
    return "" if value is None else value


# ---------------------------------------------------------------- shared rows


def resource_rows(snapshot: dict[str, Any] | None) -> list[tuple[str, str]]:
    """Time, the bottleneck and peak RSS: rows every summary table ends with."""
    from ..monitor import kernel_peak_rss

    if not snapshot:
        return [("peak RSS", human_bytes(kernel_peak_rss()))]
    rows = [("time", f"{snapshot['elapsed_s']:.2f} s"),
            ("bottleneck", snapshot["bottleneck"]["sentence"])]
    peak = snapshot.get("resources", {}).get("peak_rss") or kernel_peak_rss()
    return rows + [("peak RSS", human_bytes(peak))]


def time_and_peak(elapsed: float) -> str:
    from ..monitor import kernel_peak_rss

    return f"{elapsed:.2f} s, peak RSS {human_bytes(kernel_peak_rss())}"


def episode_ranges(episodes: Iterable[int]) -> str:
    """{1,2,3,5} -> "1-3, 5"."""
    spans: list[list[int]] = []
    for e in sorted(episodes):
        if spans and spans[-1][1] == e - 1:
            spans[-1][1] = e
        else:
            spans.append([e, e])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def render_run_report(report: dict[str, Any]) -> None:
    """The diagnostics footer (--report): the bottleneck, each stage, memory."""
    from ..monitor import format_report

    resources = report.get("resources", {})
    for text in format_report(report["bottleneck"]):
        note_line(text)
    memory = f"peak RSS {human_bytes(resources.get('peak_rss', 0))}"
    if "traced_peak_bytes" in resources:
        memory += f", traced peak {human_bytes(resources['traced_peak_bytes'])}"
    if "leak" in resources:
        memory += f"; {resources['leak']['sentence']}"
    note_line(f"memory: {memory}")


# ---------------------------------------------------------------- scan / parse / demo


def render_scan_summary(s: Any, out: TextIO) -> None:
    """A ScanSummary as a table, with the process's peak RSS."""
    from ..monitor import kernel_peak_rss

    kind = {k: s.by_kind.get(k, 0) for k in ("video", "subtitle", "other")}
    lookups = s.index_hits + s.index_misses
    index = ("off (--no-cache)" if s.index is None else
             f"{s.index_hits:,} hits, {s.index_misses:,} misses"
             + (f" ({s.index_hits / lookups:.0%} reused)" if lookups else ""))
    skipped = ", ".join(f"{n:,} {why}" for why, n in sorted(s.skipped.items())) or "none"
    rows = [
        ("files", f"{s.files:,} ({kind['video']:,} video, {kind['subtitle']:,} subtitle, {kind['other']:,} other)"),
        ("size", human_bytes(s.bytes)),
        ("series", f"{s.series:,}"),
        ("folders", f"{s.directories:,}"),
        ("skipped", skipped),
        ("warnings", f"{s.warning_count:,}"),
        ("index", index),
        ("time", f"{s.seconds:.2f} s ({round(s.paths_per_min):,} paths/min)"),
        ("peak RSS", human_bytes(kernel_peak_rss())),
    ]
    table(["scan", ""], rows, title="Scan summary", out=out)


def render_series_table(series: dict[tuple[str, Any], list[Any]]) -> None:
    """Series found while scanning: (title, season) -> [episodes, videos, subtitles]."""
    rows = [(title, _cell(season), episode_ranges(eps), videos, subs)
            for (title, season), (eps, videos, subs) in
            sorted(series.items(), key=lambda kv: (kv[0][0].casefold(), kv[0][1] or 0))]
    table(["title", "season", "episodes", "videos", "subtitles"], rows, title="Series")


def render_parse(names: Sequence[str], results: Sequence[Any], as_json: bool) -> None:
    if as_json:
        for name, r in zip(names, results):
            json_line({"input": name, **r.to_dict()})
    elif len(results) == 1:
        fields = results[0].to_dict()
        table(["field", "value"], [(k, ", ".join(v) if isinstance(v, list) else v)
                                   for k, v in fields.items() if v not in (None, [])])
    else:
        columns = ["input", "title", "season", "episode", "kind", "group", "resolution", "ext"]
        table(columns, [[n] + [_cell(getattr(r, c)) for c in columns[1:]] for n, r in zip(names, results)])


def render_demo(summary: Any, directory: str, as_json: bool) -> None:
    if as_json:
        json_line(summary.to_dict())
        return
    kinds = summary.by_kind
    line(f"created {summary.files:,} files ({kinds['video']:,} video, {kinds['subtitle']:,} subtitle, "
         f"{kinds['other']:,} other) of {summary.series:,} series in {summary.directories:,} folders "
         f"under {summary.root}")
    note_line(f"next: anivault scan {directory}")


# ---------------------------------------------------------------- match / cache


def _tmdb_dict(match: Any) -> dict[str, Any] | None:
    if match is None:
        return None
    return {k: v for k, v in match.to_dict().items() if k != "reason"} | (
        {"note": match.reason} if match.reason else {})


def match_window_writer(out: TextIO | None = None) -> Callable[[Sequence[tuple[Any, Any, Any]]], None]:
    """A writer of one NDJSON line per file, a window of ``(record, match, reason)`` at a time as the
    windows are matched (json_text's lines, encoded per field). It writes to the stream that is stdout
    now, so a live line entered later cannot take the lines over."""
    out = out or sys.stdout

    def write(files: Sequence[tuple[Any, Any, Any]]) -> None:
        if files:
            out.write(json_safe("".join([match_line(rec, match, why) for rec, match, why in files])))
    return write


def render_match_series(series: Sequence[Any]) -> None:
    """The matched and unmatched series (tables)."""
    found = sorted((s for s in series if s.matched), key=lambda s: (s.tmdb_title or "").casefold())
    table(["title", "TMDB id", "year", "confidence", "files", "seasons"],
          [(s.tmdb_title + (" (pinned)" if s.pin else ""), f"{s.media_type}/{s.id}", s.tmdb_year,
            f"{s.confidence:.2f}", s.files, episode_ranges(s.seasons)) for s in found], title="Matched series")
    missed = sorted((s for s in series if not s.matched), key=lambda s: s.title.casefold())
    if missed:
        table(["title", "year", "files", "reason"], [(s.title, s.year, s.files, s.reason) for s in missed],
              title="Unmatched")


def render_match_summary(summary: Any, snapshot: dict[str, Any], as_json: bool) -> None:
    """The summary: one JSON object (and the table on a terminal's stderr), or the table."""
    if as_json:
        json_line({"summary": {**summary.to_dict(), "metrics": snapshot}})
        if is_tty(sys.stderr):
            _match_summary_table(summary, snapshot, sys.stderr)
    else:
        _match_summary_table(summary, snapshot, sys.stdout)


def _match_summary_table(s: Any, snapshot: dict[str, Any], out: TextIO) -> None:
    rows = [
        ("files", f"{s.files:,} ({s.candidates:,} with a parsed name)"),
        ("matched", f"{s.matched:,} files, {s.series_matched:,} of {s.series:,} series"),
        ("unmatched", f"{s.unmatched:,} files"),
        ("requests", f"{s.requests:,} ({s.retries:,} retries, {s.rate_limited:,} rate-limited)"),
        ("cache", f"{s.cache_hits:,} hits, {s.cache_misses:,} misses"
                  + (f" ({s.hit_rate:.1%} hit rate)" if s.hit_rate is not None else "")),
    ]
    if s.cache_only:
        rows.append(("mode", "cache-only (offline, or TMDB kept failing)"))
    table(["match", ""], rows + resource_rows(snapshot), title="Match summary", out=out)


def render_cache_warm(summary: Any, snapshot: dict[str, Any], as_json: bool) -> None:
    if as_json:
        json_line({"summary": {**summary.to_dict(), "metrics": snapshot}})
        return
    rate = summary.hit_rate
    line(f"{summary.series_matched:,} of {summary.series:,} series cached with {summary.requests:,} requests "
         f"({summary.cache_hits:,} already cached" + (f", {rate:.1%} hit rate" if rate is not None else "") + ")")


def render_cache_stats(stats: dict[str, Any], as_json: bool) -> None:
    if as_json:
        json_line(stats)
        return
    table(["kind", "entries", "bytes", "expired", "hits"],
          [(k, f"{v['entries']:,}", human_bytes(v["bytes"]), f"{v['expired']:,}", f"{v['hits']:,}")
           for k, v in stats["by_kind"].items()], title=f"TMDB cache {stats['path']}")

    def rate(r: dict[str, Any] | None) -> str:
        if not r or r["hit_rate"] is None:
            return "n/a"
        return f"{r['hit_rate']:.1%} ({r['hits']:,} hits, {r['misses']:,} misses, {r['requests']:,} requests)"

    table(["cache", ""], [
        ("entries", f"{stats['entries']:,}"),
        ("on disk", f"{human_bytes(stats['bytes_on_disk'])} (cap {human_bytes(stats['max_bytes'])})"),
        ("hit rate, last run", rate(stats["last_run"])),
        ("hit rate, lifetime", rate(stats["lifetime"]) + f" over {stats['lifetime']['runs']:,} runs"),
    ])


def render_cache_prune(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        json_line(result)
    else:
        line(f"removed {result['removed']:,} entries ({result['expired']:,} expired, "
             f"{human_bytes(result['bytes'])}); {human_bytes(result['bytes_on_disk'])} on disk")


def render_cache_clear(removed: int, path: Any) -> None:
    line(f"cleared {removed:,} entries from {path}")


# ---------------------------------------------------------------- organize / run / undo / history


def render_plan(plan: Any, as_json: bool, fmt: str) -> None:
    """The plan: NDJSON entries, or a tree (default) / table of where each file goes and what stays
    (plan_output.py)."""
    from .plan_output import render_plan as render

    render(plan, as_json, fmt)


_MATCHING = {"tmdb": "TMDB", "cache": "TMDB cache only (no credentials)"}


def render_organize_summary(summary: Any, report: Any, snapshot: dict[str, Any], as_json: bool) -> None:
    """The plan's summary and, after --apply, what was done: one JSON object or a table (plan_output.py)."""
    from .plan_output import render_organize_summary as render

    render(summary, report, snapshot, as_json)


def render_resume(report: Any, snapshot: dict[str, Any], elapsed: float, as_json: bool) -> None:
    if as_json:
        json_line({"summary": {"apply": report.to_dict(), "metrics": snapshot}})
        return
    line(f"resumed {report.op}: {report.done:,} of {report.planned:,} files done, {report.failed_count:,} failed "
         f"(undo with `anivault undo {report.op}`); {time_and_peak(elapsed)}")


def render_undo(report: Any, snapshot: dict[str, Any], elapsed: float, as_json: bool) -> None:
    if as_json:
        json_line({"summary": {**report.to_dict(), "metrics": snapshot}})
        return
    line(f"undid {report.op}: {report.undone:,} files put back, {report.already:,} had nothing to undo, "
         f"{report.kept_count:,} left alone, {report.removed_dirs:,} folders removed"
         + (f"; settled {report.settled:,} interrupted steps first" if report.settled else "")
         + f"; {time_and_peak(elapsed)}")


HISTORY_COLUMNS = ["op", "started", "action", "dest", "planned", "done", "failed", "undone", "status"]


def render_history(rows: Sequence[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        for row in rows:
            json_line(row)
        return
    table(HISTORY_COLUMNS, [[row[c] for c in HISTORY_COLUMNS] for row in rows], title="Operations")


# ---------------------------------------------------------------- bench / config


def render_bench(result: dict[str, Any], changes: Sequence[Any], threshold: float, as_json: bool) -> list[str]:
    """The bench result; returns the not-like-for-like notes (the caller warns with them)."""
    from ..bench import report

    if as_json:
        json_line(result)
    else:
        cfg = result["config"]
        line(f"anivault {result['anivault']} (backend: {result['backend']}) bench: {cfg['files']:,} files, "
             f"{cfg['repeat']} repeats, {result['platform']}, {result['cpus']} CPUs")
        table(report.VARIANT_COLUMNS, report.variant_rows(result))
        for text in report.ratio_lines(result):
            line(text)
    notes = list(result.get("compare", {}).get("notes", []))
    if not as_json and "compare" in result:
        for text in report.verdict_lines(changes, threshold):
            line(text)
    return notes


def render_settings(values: dict[str, Any], as_json: bool) -> None:
    if as_json:
        json_line(values)
    else:
        table(["key", "value"], sorted(values.items()))


# ---------------------------------------------------------------- verify, import, watch (issue 15)


def render_verify_result(result: Any, as_json: bool) -> None:
    """One file: every file as NDJSON; on a terminal only the ones that failed (the summary counts all)."""
    if as_json:
        json_line({k: v for k, v in result.to_dict().items() if k != "mtime_ns"})
    elif result.status == "mismatch":
        line(f"mismatch: {result.path}: the name says {result.expected}, the file is {result.actual}")
    elif result.status == "error":
        line(f"unreadable: {result.path}: {result.error}")


def render_verify_summary(counts: dict[str, int], total_bytes: int, elapsed: float, cached: int,
                          as_json: bool) -> None:
    rate = total_bytes / 1e6 / elapsed if elapsed > 0 else 0.0
    if as_json:
        json_line({"summary": {**counts, "bytes": total_bytes, "cached": cached, "elapsed_s": round(elapsed, 3),
                               "mb_per_s": round(rate, 1)}})
        return
    rows = [("checked", f"{counts['ok'] + counts['mismatch']:,} files with a CRC32 tag "
                        f"({cached:,} answered by the cache)"),
            ("ok", f"{counts['ok']:,}"), ("mismatch", f"{counts['mismatch']:,}"),
            ("unreadable", f"{counts['error']:,}"), ("no tag", f"{counts['no-tag']:,}"),
            ("read", f"{human_bytes(total_bytes)} at {rate:,.0f} MB/s in {elapsed:.2f} s")]
    table(["verify", ""], rows, title="Summary")


def render_import(report: Any, snapshot: dict[str, Any], as_json: bool) -> None:
    if as_json:
        json_line({"import": {**report.to_dict(), "metrics": snapshot}})
        return
    rows = [("sources", ", ".join(report.sources)), ("action", report.action)]
    if report.skipped:
        rows.append(("skipped", report.skipped))
    if report.waited >= 1:
        rows.append(("waited", f"{report.waited:.1f} s for another run on this library"))
    if report.plan is not None:
        summary = report.plan.summary()
        stays = ", ".join(f"{n:,} {s}" for s, n in summary.statuses.items() if s != "todo") or "none"
        rows += [("planned", f"{summary.todo:,} files into {summary.dest}"), ("not filed", stays),
                 ("matching", _MATCHING.get(summary.matching, "offline (parsed names only)"))]
    applied = report.applied
    if applied is not None:
        rows += [("filed", f"{applied.done:,} of {applied.planned:,} ({human_bytes(applied.bytes)})"),
                 ("failed", f"{len(applied.failed):,}")]
        if applied.generated:
            rows.append(("NFOs", f"{applied.generated:,} written"))
        if applied.done:
            rows.append(("undo", f"anivault undo {applied.op}"))
    table(["import", ""], rows + resource_rows(snapshot), title="Summary")


def render_watch_event(event: dict[str, Any]) -> None:
    """One NDJSON line per event, flushed: a service log is read while it is written."""
    json_line(event)
    sys.stdout.flush()


# ---------------------------------------------------------------- pins


def render_pins(pins: Sequence[Any], as_json: bool) -> None:
    if as_json:
        for pin in pins:
            json_line(pin.to_dict())
        return
    if not pins:
        line("no pins (`anivault pin PATH|TITLE --tmdb ID` adds one)")
        return
    table(["pinned", "kind", "TMDB", "season", "offset", "order"],
          [(p.target, "path" if p.is_path else "title", f"{'movie' if p.movie else 'tv'}/{p.tmdb_id}",
            "" if p.season is None else p.season, f"{p.offset:+d}" if p.offset else "", p.order or "")
           for p in pins], title="Pins")


def render_pin_change(verb: str, pin: Any, replaced: Any, as_json: bool) -> None:
    if as_json:
        json_line({verb: pin.to_dict(), "replaced": replaced.to_dict() if replaced else None})
        return
    line(f"{verb} {pin.target!r}: {pin.describe()}" + (f" (was {replaced.describe()})" if replaced else ""))
