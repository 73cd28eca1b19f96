"""The command line as a user runs it: the main job end to end, the benchmark, argument errors."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from conftest import run_command


def shoplens(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SHOPLENS_DUCKDB_PATH": str(tmp_path / "demo.duckdb"),
        "SHOPLENS_SCHEMA": "demo",
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    return run_command("shoplens", *args, env=env)


def test_demo_runs_the_main_job_end_to_end(tmp_path: Path) -> None:
    result = shoplens(
        tmp_path, "demo", "--users", "150", "--days", "3", "--landing", str(tmp_path / "landing")
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    out = result.stdout
    for step in ("1/4 generate", "2/4 load into duckdb", "3/4 dbt build", "4/4 summary"):
        assert step in out
    accounting = re.search(
        r"event rows read = staged \+ duplicates \+ rejected\s*│\s*"
        r"([\d,]+) = ([\d,]+) \+ ([\d,]+) \+ ([\d,]+)\s+✓",
        out,
    )
    assert accounting, out[-3000:]
    read, staged, duplicates, rejected = (int(g.replace(",", "")) for g in accounting.groups())
    assert read == staged + duplicates + rejected > 0
    assert (tmp_path / "demo.duckdb").is_file()


def test_bench_generate_prints_events_per_second(tmp_path: Path) -> None:
    result = shoplens(tmp_path, "bench", "generate", "--events", "20000")
    assert result.returncode == 0, result.stderr
    match = re.search(
        r"generator \(ndjson\): ([\d,]+) events in [\d.]+ s = ([\d,]+) events/s", result.stdout
    )
    assert match, result.stdout
    assert int(match.group(1).replace(",", "")) >= 10_000


def test_bad_generate_arguments_are_one_line_errors(tmp_path: Path) -> None:
    result = shoplens(tmp_path, "generate", "--out", str(tmp_path / "x"), "--incident", "noon")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: bad --incident 'noon'")
    assert "Traceback" not in result.stderr
    result = shoplens(tmp_path, "generate", "--days", "0")
    assert result.returncode == 2 and "Invalid value for '--days'" in result.stderr
