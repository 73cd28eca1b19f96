"""`shoplens benchmark` end to end on a tiny shop (not timed): the stages run, the table is
printed, and the event counts it reports are the lines of the files it generated and cut, with
the micro-batch exactly the 10 minutes after the history (counted here from the source files)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from conftest import run_command


def _lines(folder: Path) -> list[str]:
    return [
        line
        for path in sorted(folder.rglob("*.ndjson"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line
    ]


def _received_at(line: str) -> int | None:
    try:
        value = json.loads(line).get("received_at")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def test_benchmark_end_to_end_on_a_tiny_shop(tmp_path: Path) -> None:
    work = tmp_path / "bench"
    env = {
        **os.environ,
        "COLUMNS": "200",
        "NO_COLOR": "1",
        "SHOPLENS_PII_SALT": "test-salt",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    args = ("benchmark", "--events", "20k", "--history-events", "0", "--users", "1500")
    result = run_command("shoplens", *args, "--no-tests", "--work-dir", str(work), env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    (source,) = work.glob("source-u1500-d*-s7")
    events_source = source / "landing" / "events"
    generated = _lines(events_source)
    history = _lines(source / "cuts" / "history-20k" / "landing" / "events")
    batch = _lines(source / "cuts" / "batch" / "landing" / "events")

    # the batch: exactly the source's events received in the 10 minutes from 21:00 local
    # (13:00 UTC) of the last day; the history: those received before, at least 20k of them
    (result_file,) = (work / "results").glob("duckdb-20k-*.json")
    figures = json.loads(result_file.read_text())
    from datetime import datetime

    start = int(datetime.fromisoformat(figures["batch_start_at"]).timestamp() * 1000)
    assert datetime.fromisoformat(figures["batch_start_at"]).strftime("%H:%M") == "13:00"
    end = start + 600_000
    times = [_received_at(line) for line in generated]
    in_batch = sorted(
        line for line, t in zip(generated, times, strict=True) if t and start <= t < end
    )
    assert sorted(line for line in batch if _received_at(line) is not None) == in_batch
    assert len(in_batch) > 0
    history_times = [t for t in map(_received_at, history) if t is not None]
    assert max(history_times) < start
    first = min(history_times)
    assert len(history_times) == sum(1 for t in times if t and first <= t < start)
    assert len(history) >= 20_000

    # the printed table: one row per stage, with the counts of the files
    rows = {}
    for line in result.stdout.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) == 7:
            rows[(cells[0], cells[1])] = cells
    expected_events = {
        ("-", "generate"): len(generated),
        ("20k", "load history"): len(history),
        ("20k", "full build"): len(history),
        ("20k", "batch load"): len(batch),
        ("20k", "batch build"): len(batch),
        ("20k", "batch end to end"): len(batch),
    }
    for key, count in expected_events.items():
        assert key in rows, (key, result.stdout)
        wall, events, per_second, _, cpu = rows[key][2:7]
        assert float(wall) > 0
        assert cpu == "-" or float(cpu) > 0
        assert int(events.replace(",", "")) == count
        # The wall time is printed to 0.1 s, so the true time lies within 0.05 s of it: the
        # printed rate must fall between the rates at those two bounds (a fast stage's rate
        # moves a lot with the rounding), give or take the rate's own rounding.
        rate = int(per_second.replace(",", ""))
        low = count / (float(wall) + 0.05)
        high = count / max(float(wall) - 0.05, 1e-3)
        assert low - 1 <= rate <= high + 1, (key, rate, low, high)
    for key in expected_events:
        assert float(rows[key][5].replace(",", "")) > 10  # peak MiB of a Python process

    # the warehouse holds what was loaded: history then batch, each line loaded or rejected
    import duckdb

    with duckdb.connect(
        str(work / "runs" / "duckdb-20k" / "warehouse.duckdb"), read_only=True
    ) as con:
        raw = "shoplens_bench_20k_raw"
        loaded = con.execute(f"select count(*) from {raw}.events").fetchone()[0]
        rejected = con.execute(
            f"select count(*) from {raw}.rejected_rows where table_name = 'events'"
        ).fetchone()[0]
    assert loaded + rejected == len(history) + len(batch)

    # a second run reuses the generated shop and its cuts
    again = run_command("shoplens", *args, "--no-tests", "--work-dir", str(work), env=env)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "generate (cached)" in again.stdout

    # --from-full-build --rebuild: the saved warehouse (history loaded and built), the full build
    # run again over it (timed, not cached), then the same micro-batch on top
    rebuilt = run_command(
        "shoplens", *args, "--no-tests", "--work-dir", str(work), "--from-full-build",
        "--rebuild", env=env,
    )  # fmt: skip
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:] + rebuilt.stderr[-3000:]
    stages = [
        tuple(c.strip() for c in line.strip("│┃ ").split("│"))[:2]
        for line in rebuilt.stdout.splitlines()
        if line.count("│") >= 6
    ]
    assert ("20k", "load history (cached)") in stages
    assert ("20k", "full build") in stages and ("20k", "full build (cached)") not in stages
    with duckdb.connect(
        str(work / "runs" / "duckdb-20k" / "warehouse.duckdb"), read_only=True
    ) as con:
        loaded_again = con.execute(f"select count(*) from {raw}.events").fetchone()[0]
        staged = con.execute(
            "select count(*) from shoplens_bench_20k_staging.stg_mini_program__events"
        ).fetchone()[0]
    assert loaded_again == loaded
    assert 0 < staged <= loaded

    # --repeat 3: the micro-batch timed three times, each from the saved full build (so the
    # warehouse ends with the batch loaded once), and the median of the three runs reported
    for old in (work / "results").glob("*.json"):
        old.unlink()
    saved_target = work / "runs" / "duckdb-20k-full-build" / "run" / "target"
    saved_parse = saved_target / "partial_parse.msgpack"
    before_repeat = time.time()
    repeated = run_command(
        "shoplens", *args, "--no-tests", "--work-dir", str(work), "--from-full-build",
        "--repeat", "3", env=env,
    )  # fmt: skip
    assert repeated.returncode == 0, repeated.stdout[-3000:] + repeated.stderr[-3000:]
    (result_file,) = (work / "results").glob("duckdb-20k-*.json")
    figures = json.loads(result_file.read_text())
    runs = figures["batch_runs"]["20k"]
    assert len(runs) == 3 and all(t > 0 for t in runs)
    assert figures["batch_seconds"]["20k"] == sorted(runs)[1]
    batch_stages = [s for s in figures["stages"] if s["name"] in ("batch load", "batch build")]
    assert len(batch_stages) == 2
    assert sum(s["seconds"] for s in batch_stages) == sorted(runs)[1]
    assert "20k, 3 runs: " + " / ".join(f"{t:.1f}" for t in runs) + " s" in repeated.stdout
    # the saved partial-parse state was refreshed (untimed dbt parse) before the timed runs
    assert saved_parse.stat().st_ctime >= before_repeat
    with duckdb.connect(
        str(work / "runs" / "duckdb-20k" / "warehouse.duckdb"), read_only=True
    ) as con:
        assert con.execute(f"select count(*) from {raw}.events").fetchone()[0] == loaded


def test_benchmark_rejects_a_bad_size(tmp_path: Path) -> None:
    result = run_command(
        "shoplens", "benchmark", "--events", "lots", "--work-dir", str(tmp_path / "bench")
    )
    assert result.returncode == 2
    assert "bad event count 'lots'" in result.stderr
    assert "Traceback" not in result.stderr
    lone = run_command("shoplens", "benchmark", "--rebuild", "--work-dir", str(tmp_path / "b"))
    assert lone.returncode == 2
    assert "--rebuild needs --from-full-build" in lone.stderr
    assert "Traceback" not in lone.stderr
    on_postgres = run_command(
        "shoplens", "benchmark", "--target", "postgres", "--repeat", "2",
        "--work-dir", str(tmp_path / "p"),
    )  # fmt: skip
    assert on_postgres.returncode == 2
    assert "--repeat needs the DuckDB target" in on_postgres.stderr
    assert "Traceback" not in on_postgres.stderr
    assert not (tmp_path / "p").exists()  # refused before anything ran
