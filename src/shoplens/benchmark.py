"""`shoplens benchmark`: generate, load, full build, then a 10-minute micro-batch and its
incremental build, with wall time, events/s and peak memory per stage (docs/performance.md).

One simulated shop (`users` people, default sized for about 100k events in the 10 minutes after
21:00 local time, the evening peak) is generated once per (users, days, seed) into
`<work-dir>/source-*` and reused by every later run that needs no more days. The micro-batch is
the 10 minutes from 21:00 local on the source's last day; a history of H events is the H events
received just before it. Both are cut from the source with the replay's visibility rules
(shoplens.replay.write_window: events at received_at, payments at finished_at, orders as
pending at creation and final at their update, ...), so the batch is the same rows whatever the
history, and each cut is cached as well.

For each history (S events and S/10 by default) the benchmark starts an empty warehouse, loads
the history, runs the full build (`dbt build`: seeds, models and tests), loads the batch and
runs the monitoring cycle's incremental build (shoplens.monitor.DBT_SELECTION). Every stage runs
as its own process; its peak memory is that process's maximum resident set size (os.wait4). On
PostgreSQL the server's own memory is not included.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from shoplens.errors import ShoplensError

BATCH_MINUTES = 10
BATCH_START_LOCAL_HOUR = 21
DEFAULT_USERS = 1_600_000  # about 100k events in 21:00-21:10 of the last day (42k at 700k)
EVENTS_PER_PERSON_DAY = 4.0  # below the 4.8 measured over 6 days at 700k people (3.1-5.9 per day)
START_DATE = date(2026, 9, 1)
SCHEMA_PREFIX = "shoplens_bench"


def parse_count(value: str) -> int:
    """'1M', '10m', '20k', '1.5M' or a plain number -> int."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", str(value).replace("_", ""))
    if not match:
        raise ShoplensError(f"bad event count {value!r}: use e.g. 20k, 1M, 10M or 2500000")
    number = float(match.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    if number < 1:
        raise ShoplensError(f"bad event count {value!r}: must be at least 1")
    return int(number)


def human(count: int) -> str:
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if count >= size and count % (size // 10) == 0:
            return f"{count / size:g}{unit}"
    return str(count)


@dataclass
class Stage:
    history: str  # the history label (e.g. 30M), "" for the generation
    name: str
    seconds: float
    events: int
    peak_mib: float | None
    cached: bool = False
    cpu_seconds: float | None = None  # user + system CPU of the stage's process(es)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@dataclass
class BenchmarkResult:
    target: str
    users: int
    days: int
    seed: int
    batch_start_at: str  # UTC
    stages: list[Stage] = field(default_factory=list)
    batch_seconds: dict[str, float] = field(default_factory=dict)  # history label -> load+build
    # history label -> load+build of every run of the micro-batch (--repeat), in run order;
    # batch_seconds and the batch stages are the median run's
    batch_runs: dict[str, list[float]] = field(default_factory=dict)
    build_seconds: dict[str, float] = field(default_factory=dict)  # history label -> build
    history_events: dict[str, int] = field(default_factory=dict)
    batch_events: int = 0
    machine: dict[str, Any] = field(default_factory=dict)

    def ratio(self) -> float | None:
        """Micro-batch end to end at the larger history / at the smaller one."""
        if len(self.batch_seconds) < 2:
            return None
        by_size = sorted(self.batch_seconds, key=lambda label: self.history_events[label])
        small, large = self.batch_seconds[by_size[0]], self.batch_seconds[by_size[-1]]
        return large / small if small else None


# --- processes -------------------------------------------------------------------------------


def _bin(name: str) -> list[str]:
    exe = Path(sys.executable).parent / name
    if exe.exists():
        return [str(exe)]
    if name == "shoplens":
        return [sys.executable, "-m", "shoplens.cli"]
    raise ShoplensError(f"{name} not found next to {sys.executable}: run `make install` first")


def run_stage(cmd: list[str], env: dict[str, str], log: Path) -> tuple[float, float, float]:
    """Run one stage's process; (wall seconds, peak resident MiB, CPU seconds) of the process
    and the children it waited for. Its output goes to `log`; a failure raises with the log's
    tail. CPU seconds do not depend on what else the machine runs, wall seconds do."""
    log.parent.mkdir(parents=True, exist_ok=True)
    from shoplens.dbt import project_dir

    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"$ {' '.join(cmd)}\n")
        handle.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, env=env, cwd=project_dir(), stdout=handle, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
        raise ShoplensError(
            f"benchmark stage `{' '.join(cmd[:3])} …` exited {proc.returncode}: "
            f"{tail[0] if tail else ''} (full output in {log})"
        )
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime  # maxrss: kB


# --- the data --------------------------------------------------------------------------------


def batch_start(days: int) -> datetime:
    """21:00 local (Asia/Shanghai) on the last generated day, in UTC."""
    from shoplens.replay import REPORTING_TZ

    last = START_DATE + timedelta(days=days - 1)
    local = datetime(last.year, last.month, last.day, BATCH_START_LOCAL_HOUR, tzinfo=REPORTING_TZ)
    return local.astimezone(UTC)


def days_for(events: int, users: int) -> int:
    """Generated days: enough for `events` before 21:00 of the last day (with a margin)."""
    per_day = max(1.0, users * EVENTS_PER_PERSON_DAY)
    return max(2, int(events / per_day) + 2)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def events_before_batch(manifest: dict[str, Any]) -> int:
    end = int(batch_start(manifest["days"]).timestamp() * 1000)
    return sum(v for k, v in manifest["events_per_minute"].items() if int(k) < end)


def find_source(work_dir: Path, users: int, seed: int, events: int) -> Path | None:
    """A complete cached source of this shop with at least `events` events before its
    micro-batch (the one with the fewest days)."""
    best: tuple[int, Path] | None = None
    for folder in work_dir.glob(f"source-u{users}-d*-s{seed}"):
        manifest = _read_json(folder / "benchmark.json")
        fits = manifest and events_before_batch(manifest) >= events
        if fits and (best is None or manifest["days"] < best[0]):
            best = (manifest["days"], folder)
    return best[1] if best else None


def events_per_minute(landing: Path) -> dict[int, int]:
    """Event lines per minute of received_at (ms of the minute -> count), malformed lines without
    a received_at left out: where to cut a history of H events."""
    import duckdb

    pattern = str(landing / "events" / "*" / "*.ndjson")
    with duckdb.connect() as con:
        rows = con.execute(
            "select received_at // 60000 * 60000 as minute, count(*) from read_json(?, "
            "format = 'newline_delimited', ignore_errors = true, "
            "columns = {'received_at': 'BIGINT'}) where received_at is not null group by 1",
            [pattern],
        ).fetchall()
    return {int(minute): int(count) for minute, count in rows}


def ensure_source(
    work_dir: Path, users: int, seed: int, events: int, env: dict[str, str], log: Path
) -> tuple[Path, dict[str, Any], Stage]:
    """The generated shop with at least `events` events before the micro-batch: cached, or
    generated now (days sized by days_for)."""
    cached = find_source(work_dir, users, seed, events)
    if cached is not None:
        manifest = _read_json(cached / "benchmark.json") or {}
        gen = manifest["generate"]
        stage = Stage(
            "",
            "generate",
            gen["seconds"],
            gen["events"],
            gen["peak_mib"],
            cached=True,
            cpu_seconds=gen.get("cpu"),
        )
        return cached, manifest, stage
    days = days_for(events, users)
    folder = work_dir / f"source-u{users}-d{days}-s{seed}"
    shutil.rmtree(folder, ignore_errors=True)
    cmd = [
        *_bin("shoplens"),
        "generate",
        "--users",
        str(users),
        "--days",
        str(days),
        "--seed",
        str(seed),
        "--start",
        START_DATE.isoformat(),
        "--out",
        str(folder / "landing"),
    ]
    seconds, peak, cpu = run_stage(cmd, env, log)
    truth = _read_json(folder / "landing" / "ground_truth.json") or {}
    events = int(truth.get("events", {}).get("lines_written", 0))
    per_minute = events_per_minute(folder / "landing")
    manifest = {
        "users": users,
        "days": days,
        "seed": seed,
        "generate": {"seconds": seconds, "events": events, "peak_mib": peak, "cpu": cpu},
        "events_per_minute": {str(k): v for k, v in sorted(per_minute.items())},
    }
    _write_json(folder / "benchmark.json", manifest)
    return folder, manifest, Stage("", "generate", seconds, events, peak, cpu_seconds=cpu)


def history_start(manifest: dict[str, Any], end_ms: int, events: int) -> int:
    """The minute from which the events received before `end_ms` number at least `events`."""
    counts = sorted(
        ((int(k), v) for k, v in manifest["events_per_minute"].items() if int(k) < end_ms),
        reverse=True,
    )
    total = 0
    for minute, count in counts:
        total += count
        if total >= events:
            return minute
    raise ShoplensError(
        f"the generated shop has only {total:,} events before the micro-batch, fewer than the "
        f"{events:,} asked for: give more --users or fewer --events"
    )


def ensure_cut(source: Path, name: str, start: int | None, end: int, products: bool) -> Path:
    """A cached cut of the source (rows visible in [start, end)); its rows per table."""
    from shoplens.replay import write_window

    folder = source / "cuts" / name
    done = folder / "rows.json"
    if _read_json(done) is not None:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    rows = write_window(source / "landing", folder / "landing", start, end, products)
    _write_json(done, rows)
    return folder


# --- the warehouse ---------------------------------------------------------------------------


def warehouse_env(target: str, run_dir: Path, label: str) -> dict[str, str]:
    env = dict(os.environ)
    schema = f"{SCHEMA_PREFIX}_{label.lower()}"
    env["SHOPLENS_SCHEMA"] = schema
    env["SHOPLENS_RAW_SCHEMA"] = f"{schema}_raw"
    env["SHOPLENS_DUCKDB_PATH"] = str(run_dir / "warehouse.duckdb")
    env.setdefault("SHOPLENS_PII_SALT", "shoplens-benchmark-salt")
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")  # no network calls timed
    return env


def reset_warehouse(target: str, run_dir: Path, env: dict[str, str]) -> None:
    """An empty warehouse: a new DuckDB file, or on PostgreSQL this run's schemas dropped (only
    the benchmark's own: <SCHEMA_PREFIX>_<history>, its _raw and layer schemas)."""
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    if target != "postgres":
        return
    from shoplens.warehouse import postgres_connect

    schema = env["SHOPLENS_SCHEMA"]
    con = postgres_connect()
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(
                "select nspname from pg_namespace where nspname = %s or nspname like %s",
                (schema, schema.replace("_", r"\_") + r"\_%"),
            )
            for (name,) in cur.fetchall():
                cur.execute(f'drop schema "{name}" cascade')
    finally:
        con.close()


def dbt_cmd(args: list[str], target: str, run_dir: Path) -> list[str]:
    from shoplens.dbt import project_dir

    root = str(project_dir())
    return [
        *_bin("dbt"),
        *args,
        "--target",
        target,
        "--project-dir",
        root,
        "--profiles-dir",
        root,
        "--target-path",
        str(run_dir / "target"),
        "--log-path",
        str(run_dir / "logs"),
    ]


# The history's order-system rows: when each arrived (shoplens.replay's visibility rules).
BACKDATED_ORDER_SYSTEM_TABLES = {
    "consents": "changed_at",
    "orders": "coalesce(updated_at, created_at)",
    "payments": "coalesce(finished_at, created_at)",
    "refunds": "refunded_at",
    "users": "registered_at",
}


def backdate_history(target: str) -> None:
    """Make the loaded history look as if it had been loaded as it arrived: raw events'
    _loaded_at := received_at, the order system's rows' := when they arrived (it is the load
    time of one big batch otherwise). Without this
    the micro-batch, loaded minutes after the history, would fall within the staging
    look-back of the history's batch (staging_lookback_minutes, 60) and re-read the whole
    history — a state that a warehouse fed every 10 minutes is never in."""
    from shoplens.warehouse import connect, raw_schema

    as_timestamp = {
        "duckdb": "make_timestamp(received_at_ms * 1000)",
        "postgres": "to_timestamp(received_at_ms / 1000.0) at time zone 'UTC'",
    }[target]
    raw = raw_schema()
    warehouse = connect(target)
    try:
        warehouse.query(
            f"update {raw}.events set _loaded_at = {as_timestamp} where received_at_ms is not null"
        )
        # The order system's rows too, at the time each became visible (the cut's rules), so
        # the incremental models' look-back (by _loaded_at) does not take the whole history's
        # consents and orders for new ones.
        for table, arrived in BACKDATED_ORDER_SYSTEM_TABLES.items():
            warehouse.query(f"update {raw}.{table} set _loaded_at = {arrived}")
        warehouse.query(
            f"update {raw}.order_items set _loaded_at = orders.arrived_at from ("
            f"select order_id, max(coalesce(updated_at, created_at)) as arrived_at "
            f"from {raw}.orders group by order_id) as orders "
            f"where order_items.order_id = orders.order_id"
        )
    finally:
        warehouse.close()


def _restore_full_build(saved: Path, run_dir: Path) -> None:
    shutil.rmtree(run_dir, ignore_errors=True)
    shutil.copytree(saved / "run", run_dir)


def _refresh_parse(run_dir: Path, saved: Path, target: str, env: dict[str, str], log: Path) -> None:
    """Not timed: `dbt parse` in a restored warehouse's run folder, and its target/ saved back,
    so the micro-batch's dbt finds a partial-parse state of the project as it is now, as in a
    cycle after a cycle. The saved one is of the project at its full build: after a change of
    dbt_project.yml (its vars) dbt would parse every file again inside the timed build."""
    run_stage(dbt_cmd(["parse"], target, run_dir), env, log)
    shutil.rmtree(saved / "run" / "target", ignore_errors=True)
    shutil.copytree(run_dir / "target", saved / "run" / "target")


def _save_full_build(run_dir: Path, saved: Path, stages: list[Stage]) -> None:
    """Keep a copy of the DuckDB warehouse right after its full build (and its dbt target/ for
    partial parsing), so `--from-full-build` can time the micro-batch again without reloading
    and rebuilding the history. Valid only while the models are unchanged."""
    shutil.rmtree(saved, ignore_errors=True)
    shutil.copytree(run_dir, saved / "run", ignore=shutil.ignore_patterns("logs"))
    _write_json(saved / "stages.json", {"stages": [asdict(s) for s in stages]})


# --- the run ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"cores": os.cpu_count(), "python": platform.python_version()}
    try:
        text = Path("/proc/cpuinfo").read_text()
        model = re.search(r"model name\s*:\s*(.+)", text)
        info["cpu"] = model.group(1).strip() if model else platform.processor()
        mem = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text())
        info["memory_gib"] = round(int(mem.group(1)) / 1024 / 1024, 1) if mem else None
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    from importlib.metadata import version

    for package in ("dbt-core", "dbt-duckdb", "duckdb", "dbt-postgres"):
        try:
            info[package] = version(package)
        except Exception:  # a missing package is just not reported
            info[package] = None
    return info


def run(
    events: int,
    history_events: int | None,
    target: str,
    work_dir: Path,
    users: int = DEFAULT_USERS,
    seed: int = 7,
    tests: bool = True,
    report: Any = None,
    from_full_build: bool = False,
    rebuild: bool = False,
    repeat: int = 1,
) -> BenchmarkResult:
    """The whole benchmark; `report(text)` is told each stage as it finishes. With
    `from_full_build`, start from the warehouse saved after an earlier run's full build; with
    `rebuild` too, run the full build again on it (`--full-refresh`: every model rebuilt from
    the same raw tables, after a model change) before timing the micro-batch. With `repeat` N
    (DuckDB), the micro-batch is timed N times, each from the saved full build, and the median
    run (by batch end to end) is reported: on a virtual machine one run can be seconds off."""
    if repeat < 1:
        raise ShoplensError("--repeat must be 1 or more")
    if repeat > 1 and target != "duckdb":
        raise ShoplensError(
            "--repeat needs the DuckDB target: each run starts from the warehouse saved after "
            "the full build, which is kept for DuckDB only"
        )
    say = report or (lambda text: None)
    work_dir = work_dir.resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    histories = [events] + ([history_events] if history_events else [])
    log = work_dir / "logs" / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{target}.log"
    source, manifest, gen = ensure_source(
        work_dir, users, seed, max(histories), dict(os.environ), log
    )
    days = manifest["days"]
    say(f"generate: {gen.events:,} event lines ({'cached' if gen.cached else 'generated'})")
    start = batch_start(days)
    start_ms = int(start.timestamp() * 1000)
    end_ms = start_ms + BATCH_MINUTES * 60_000
    result = BenchmarkResult(target, users, days, seed, start.isoformat(), [gen])
    result.machine = machine()
    batch = ensure_cut(source, "batch", start_ms, end_ms, products=False)
    result.batch_events = (_read_json(batch / "rows.json") or {}).get("events", 0)
    from shoplens.monitor import DBT_SELECTION

    # First every history's warehouse up to its full build, then the micro-batch on each in
    # turn (--repeat: the runs alternate between the histories, so a machine that slows down
    # for a while slows both sides of the ratio alike).
    prepared: list[tuple[str, Path, dict[str, str], Path]] = []
    for size in histories:
        label = human(size)
        cut = ensure_cut(
            source, f"history-{label}", history_start(manifest, start_ms, size), start_ms, True
        )
        n_events = (_read_json(cut / "rows.json") or {}).get("events", 0)
        result.history_events[label] = n_events
        run_dir = work_dir / "runs" / f"{target}-{label}"
        env = warehouse_env(target, run_dir, label)
        saved = work_dir / "runs" / f"{target}-{label}-full-build"
        figures = _read_json(saved / "stages.json") if from_full_build else None
        steps: list[tuple[str, list[str], int]] = []
        build = ["build", "--exclude-resource-type", "test", "unit_test"]
        backdate = [sys.executable, "-m", "shoplens.benchmark", "backdate", target]
        if figures is not None:
            # the warehouse right after its full build, saved by an earlier run (DuckDB)
            _restore_full_build(saved, run_dir)
            for stage in figures["stages"]:
                if not rebuild or stage["name"] == "load history":
                    result.stages.append(Stage(**{**stage, "cached": True}))
            if rebuild:
                # backdating again is idempotent and follows the current backdating rules
                build = [*build, "--full-refresh"]
                steps += [
                    ("backdate history", backdate, n_events),
                    ("full build", dbt_cmd(build, target, run_dir), n_events),
                ]
            else:
                _refresh_parse(run_dir, saved, target, env, log)
        else:
            reset_warehouse(target, run_dir, env)
            load = [*_bin("shoplens"), "load", str(cut / "landing"), "--target", target]
            steps += [
                ("load history", load, n_events),
                ("backdate history", backdate, n_events),
                ("full build", dbt_cmd(build, target, run_dir), n_events),
            ]
        if tests and (figures is None or rebuild):
            steps.append(("tests", dbt_cmd(["test"], target, run_dir), n_events))
        for name, cmd, count in steps:
            result.stages.append(_timed_stage(label, name, cmd, count, env, log, say))
        if target == "duckdb" and (figures is None or rebuild):
            _save_full_build(run_dir, saved, [s for s in result.stages if s.history == label])
        prepared.append((label, run_dir, env, saved))

    batch_load = [*_bin("shoplens"), "load", str(batch / "landing"), "--target", target]
    runs: dict[str, list[list[Stage]]] = {label: [] for label, *_ in prepared}
    for run_number in range(repeat):
        for label, run_dir, env, saved in prepared:
            if run_number:
                # each run of the micro-batch starts from the same full build
                _restore_full_build(saved, run_dir)
            settle(run_dir if target == "duckdb" else None, work_dir / "runs")
            batch_steps = [
                ("batch load", batch_load, result.batch_events),
                ("batch build", dbt_cmd(DBT_SELECTION, target, run_dir), result.batch_events),
            ]
            runs[label].append(
                [
                    _timed_stage(label, name, cmd, count, env, log, say)
                    for name, cmd, count in batch_steps
                ]
            )
    for label, mine in runs.items():
        totals = [run[0].seconds + run[1].seconds for run in mine]
        # the median run (of an even count, the lower of the middle two)
        median = sorted(range(repeat), key=lambda i: totals[i])[(repeat - 1) // 2]
        result.stages.extend(mine[median])
        result.batch_runs[label] = totals
        result.build_seconds[label] = mine[median][1].seconds
        result.batch_seconds[label] = totals[median]
    results = work_dir / "results"
    results.mkdir(exist_ok=True)
    data = asdict(result)
    data["ratio"] = result.ratio()
    _write_json(results / f"{target}-{human(events)}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json", data)
    return result


def _timed_stage(
    label: str,
    name: str,
    cmd: list[str],
    count: int,
    env: dict[str, str],
    log: Path,
    say: Any,
) -> Stage:
    seconds, peak, cpu = run_stage(cmd, env, log)
    say(f"{label} {name}: {seconds:.1f} s, {peak:,.0f} MiB")
    return Stage(label, name, seconds, count, peak, cpu_seconds=cpu)


def settle(run_dir: Path | None, runs: Path | None = None) -> None:
    """Before the micro-batch (not timed): flush what the full build and the copies of the
    warehouse wrote, drop every other file under `runs` (the saved full builds, the other
    history's warehouse) from the OS page cache, and read the DuckDB file once, so the batch
    runs as the cycle of a warehouse fed every 10 minutes does: its file in the page cache, no
    gigabytes of the previous stage still being written back, and no other copies of a
    warehouse (which a real deployment does not have) in the memory the build allocates."""
    os.sync()
    if run_dir is None:
        return
    if runs is not None and hasattr(os, "posix_fadvise"):
        for path in runs.rglob("*"):
            if path.is_file() and run_dir not in path.parents:
                with open(path, "rb") as f:
                    os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    with open(run_dir / "warehouse.duckdb", "rb") as f:
        while f.read(16 << 20):
            pass


def parse_count_or_zero(value: str) -> int:
    return 0 if str(value).strip() == "0" else parse_count(value)


if __name__ == "__main__":  # the benchmark's own stage: python -m shoplens.benchmark backdate T
    if sys.argv[1:2] == ["backdate"] and len(sys.argv) == 3:
        backdate_history(sys.argv[2])
    else:
        raise SystemExit("usage: python -m shoplens.benchmark backdate duckdb|postgres")
