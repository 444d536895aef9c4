"""The diagnostics footer is opt-in (--report or the `report` setting); summaries stay.
Metrics knows no monitor: observers subscribe to it."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from anivault.monitor import Metrics, RunMonitor

sys.path.insert(0, str(Path(__file__).parent))
from test_terminal_escaping import run_on_pty  # noqa: E402


def test_metrics_has_no_monitor_and_observers_subscribe(tmp_path: Path) -> None:
    metrics = Metrics()
    assert not hasattr(metrics, "monitor") and not hasattr(metrics, "events")
    seen: list[tuple[str, str, dict]] = []
    metrics.subscribe(lambda phase, event, fields: seen.append((phase, event, fields)))
    metrics.warning("careful")
    assert seen == [("run", "warning", {"message": "careful"})]
    run = RunMonitor(metrics, events_path=tmp_path / "e.ndjson", interval=10).start("t")
    assert "resources" in metrics.snapshot()  # a section the monitor added
    run.finish()
    events = [json.loads(line)["event"] for line in (tmp_path / "e.ndjson").read_text().splitlines()]
    assert events[0] == "start" and events[-1] == "complete" and "warning" not in events


@pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals are POSIX")
@pytest.mark.parametrize("args, extra_env, footer", [
    (["scan"], {}, False),
    (["--report", "scan"], {}, True),
    (["scan"], {"ANIVAULT_REPORT": "true"}, True),
    (["--report", "parse", "Frieren - 01.mkv"], {}, True),
    (["parse", "Frieren - 01.mkv"], {}, False),
])
def test_footer_only_on_request_and_the_summary_stays(args, extra_env, footer, tmp_path: Path) -> None:
    (tmp_path / "Frieren - 01.mkv").write_bytes(b"x")
    args = args + ([str(tmp_path)] if "scan" in args else [])
    code, text = run_on_pty(args, {**os.environ, "COLUMNS": "200", **extra_env})
    assert code == 0, text
    assert ("anivault: bottleneck:" in text and "anivault: memory:" in text) is footer
    if "scan" in args:
        assert "Scan summary" in text and "peak RSS" in text
