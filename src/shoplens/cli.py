"""The `shoplens` command line: generate, load, demo, summary, validate, bench, forget, purge."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shoplens.errors import ShoplensError

console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

DEFAULT_LANDING = Path("data/landing")


def _fail(message: str) -> None:
    console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    sys.exit(2)


class ShoplensGroup(click.Group):
    """Turns user-facing errors into one line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ShoplensError as exc:
            _fail(str(exc))


@click.group(cls=ShoplensGroup)
@click.version_option(package_name="shoplens")
def main() -> None:
    """Shoplens: an analytics warehouse for e-commerce mini programs (dbt + DuckDB / PostgreSQL)."""


def format_option(default: str | None, help: str | None = None) -> Callable[[Any], Any]:
    """The --format option (landing file format) shared by the commands."""
    from shoplens.contract import FILE_FORMATS

    return click.option(
        "--format",
        "file_format",
        type=click.Choice(FILE_FORMATS),
        default=default,
        show_default=default is not None,
        help=help,
    )


def target_option(help: str | None = None, loader: bool = False) -> Callable[[Any], Any]:
    """The --target option (the warehouse: a target of profiles.yml) shared by the commands:
    every target for the loader, the serving warehouses for the commands reading marts."""
    from shoplens.warehouse import SERVING_TARGETS, TARGETS

    return click.option(
        "--target",
        type=click.Choice(TARGETS if loader else SERVING_TARGETS),
        default="duckdb",
        show_default=True,
        help=help,
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,  # no progress noise in logs and CI
    )


def _parse_incident(value: str) -> Any:
    """START[,MINUTES[,SUCCESS_RATE]]; START is ISO-8601, Asia/Shanghai time without an offset."""
    from shoplens.generate import IncidentSpec

    parts = value.split(",")
    try:
        start = datetime.fromisoformat(parts[0])
        if start.tzinfo is None:
            from zoneinfo import ZoneInfo

            start = start.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
        minutes = int(parts[1]) if len(parts) > 1 else 20
        rate = float(parts[2]) if len(parts) > 2 else 0.4
    except ValueError as exc:
        raise ShoplensError(
            f"bad --incident {value!r}: expected START[,MINUTES[,SUCCESS_RATE]], "
            f"e.g. 2026-09-15T20:00,20,0.4 ({exc})"
        ) from None
    if minutes <= 0 or not 0 <= rate <= 1:
        raise ShoplensError(f"bad --incident {value!r}: MINUTES > 0 and 0 <= SUCCESS_RATE <= 1")
    from datetime import UTC

    return IncidentSpec(start=start.astimezone(UTC), minutes=minutes, success_rate=rate)


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_LANDING,
    show_default=True,
    help="Landing folder to write.",
)
@click.option("--users", type=click.IntRange(min=1), default=5000, show_default=True)
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True)
@click.option(
    "--start",
    "start_date",
    type=click.DateTime(["%Y-%m-%d"]),
    default="2026-09-01",
    show_default=True,
    help="First reporting day (Asia/Shanghai).",
)
@click.option("--seed", type=int, default=42, show_default=True)
@format_option("ndjson")
@click.option(
    "--promotion-day",
    type=int,
    default=10,
    show_default=True,
    help="0-based day with a promotion spike; -1 for none.",
)
@click.option(
    "--incident",
    "incidents",
    multiple=True,
    metavar="START[,MINUTES[,RATE]]",
    help="Inject a payment-gateway outage (repeatable), e.g. 2026-09-15T20:00,20,0.4.",
)
@click.option(
    "--purchase-multiplier",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Scale the share of sessions that go on to buy (more payments per 10 minutes).",
)
@click.option("--lost-rate", type=click.FloatRange(0, 1), default=0.02, show_default=True)
@click.option("--duplicate-rate", type=click.FloatRange(0, 1), default=0.005, show_default=True)
@click.option("--late-rate", type=click.FloatRange(0, 1), default=0.01, show_default=True)
@click.option("--skew-rate", type=click.FloatRange(0, 1), default=0.003, show_default=True)
@click.option("--malformed-rate", type=click.FloatRange(0, 1), default=0.0005, show_default=True)
@click.option("--unknown-event-rate", type=click.FloatRange(0, 1), default=0.001, show_default=True)
@click.option(
    "--missing-property-rate", type=click.FloatRange(0, 1), default=0.001, show_default=True
)
@click.option(
    "--consent-withdrawal-rate",
    type=click.FloatRange(0, 1),
    default=0.015,
    show_default=True,
    help="Share of consenting devices that withdraw analytics consent during the period.",
)
def generate(
    out_dir: Path,
    users: int,
    days: int,
    start_date: datetime,
    seed: int,
    file_format: str,
    promotion_day: int,
    incidents: tuple[str, ...],
    purchase_multiplier: float,
    lost_rate: float,
    duplicate_rate: float,
    late_rate: float,
    skew_rate: float,
    malformed_rate: float,
    unknown_event_rate: float,
    missing_property_rate: float,
    consent_withdrawal_rate: float,
) -> None:
    """Simulate a mini-program shop and write landing files (events and order-system tables)."""
    from shoplens.generate import GeneratorConfig
    from shoplens.generate import generate as run_generate

    config = GeneratorConfig(
        out_dir=out_dir,
        users=users,
        days=days,
        start_date=start_date.date(),
        seed=seed,
        file_format=file_format,
        promotion_day=None if promotion_day < 0 else promotion_day,
        incidents=tuple(_parse_incident(i) for i in incidents),
        purchase_multiplier=purchase_multiplier,
        lost_rate=lost_rate,
        duplicate_rate=duplicate_rate,
        late_rate=late_rate,
        skew_rate=skew_rate,
        malformed_rate=malformed_rate,
        unknown_event_rate=unknown_event_rate,
        missing_property_rate=missing_property_rate,
        consent_withdrawal_rate=consent_withdrawal_rate,
    )
    with _progress() as progress:
        task = progress.add_task("generating days", total=days)
        result = run_generate(
            config, progress=lambda done, total: progress.update(task, completed=done)
        )
    rate = result.events_written / result.seconds if result.seconds else 0
    out.print(
        f"wrote {result.events_written:,} event lines and {len(result.files):,} files to "
        f"{result.out_dir} in {result.seconds:.1f} s ({rate:,.0f} events/s); "
        f"ground truth: {result.out_dir / 'ground_truth.json'}"
    )


@main.command()
@click.argument("landing", type=click.Path(path_type=Path), default=DEFAULT_LANDING)
@target_option(help="Warehouse to load into (same settings as profiles.yml).", loader=True)
@click.option(
    "--table", default=None, help="Load only this raw table (required for a single file)."
)
@format_option(None, help="Accept only files of this format (default: by file name).")
@click.option("--verbose", "-v", is_flag=True, help="Print a line per file, not only per table.")
def load(
    landing: Path, target: str, table: str | None, file_format: str | None, verbose: bool
) -> None:
    """Append landing files to the raw tables; malformed rows go to raw.rejected_rows."""
    batch = run_load(landing, target, table=table, file_format=file_format, verbose=verbose)
    if not batch.files:
        out.print(f"no landing files found under {landing}")


def run_load(
    landing: Path,
    target: str,
    table: str | None = None,
    file_format: str | None = None,
    verbose: bool = False,
) -> Any:
    from shoplens import load as loader
    from shoplens.warehouse import connect

    files = loader.discover(landing, table=table, file_format=file_format)
    if not files:
        return loader.BatchResult("", datetime.now(), [])
    warehouse = connect(target)
    try:
        with _progress() as progress:
            task = progress.add_task(f"loading into {target}", total=len(files))

            def on_file(result: Any) -> None:
                progress.advance(task)
                if verbose:
                    _print_counts(str(result.file.path), [result])

            batch = loader.load(warehouse, files, on_file=on_file)
    finally:
        warehouse.close()
    for name in dict.fromkeys(f.file.table for f in batch.files):
        _print_counts(name, [f for f in batch.files if f.file.table == name])
    skipped = f", {batch.files_skipped} already loaded and skipped" if batch.files_skipped else ""
    out.print(
        f"batch {batch.batch_id}: read {batch.rows_read:,} = loaded {batch.rows_loaded:,} "
        f"+ rejected {batch.rows_rejected:,} ({len(batch.files)} file(s){skipped})",
        highlight=False,
    )
    return batch


def _print_counts(name: str, results: list[Any]) -> None:
    """One line: read = loaded + rejected over `results`, with the rejection reasons."""
    new = [r for r in results if not r.skipped_batch]
    if not new:
        batches = ", ".join(sorted({r.skipped_batch for r in results}))
        out.print(f"  {name}: already loaded (batch {batches}), skipped", highlight=False)
        return
    reasons: Counter[str] = sum((r.rejection_reasons for r in new), Counter())
    read = sum(r.rows_read for r in new)
    loaded = sum(r.rows_loaded for r in new)
    rejected = sum(r.rows_rejected for r in new)
    files = f"{len(new)} file(s), " if len(results) > 1 else ""
    line = f"  {name}: {files}read {read:,} = loaded {loaded:,} + rejected {rejected:,}"
    if reasons:
        line += "  [" + "; ".join(f"{n:,} × {r}" for r, n in sorted(reasons.items())) + "]"
    out.print(line, highlight=False)


@main.command()
@target_option()
def summary(target: str) -> None:
    """Print a short summary of the warehouse: load accounting, staged rows, plan quality."""
    from shoplens.summary import print_summary

    print_summary(target, out)


@main.command()
@target_option()
@click.option(
    "--docs-dir",
    "docs_dirs",
    type=click.Path(path_type=Path, file_okay=False),
    multiple=True,
    help="Folder for the Data Docs (repeatable)  [default: artifacts/gx_data_docs/<target>]",
)
def validate(target: str, docs_dirs: tuple[Path, ...]) -> None:
    """Great Expectations checkpoint over the public marts (expectations/marts.yml)."""
    from rich.table import Table

    from shoplens.expectations import default_docs_dir, validate_marts

    report = validate_marts(target, docs_dirs or [default_docs_dir(target)])
    table = Table("mart", "expectations", "failed", title=f"{report.schema} ({target})")
    for mart in report.marts:
        failed = f"[bold red]{mart.failed}[/]" if mart.failed else "0"
        table.add_row(mart.mart, str(mart.expectations), failed)
    out.print(table)
    for failure in report.failures:
        out.print(f"FAILED {failure.mart}: {failure.expectation}: {failure.detail}", markup=False)
    out.print(f"Data Docs: {report.docs_index}", highlight=False)
    if not report.success:
        failed_marts = len({f.mart for f in report.failures})
        raise ShoplensError(
            f"{len(report.failures)} of {report.expectations} expectations failed on "
            f"{failed_marts} mart(s) in {report.schema} ({target}): see above and the Data Docs"
        )
    out.print(
        f"all {report.expectations} expectations passed on {len(report.marts)} marts",
        highlight=False,
    )


@main.group()
def metrics() -> None:
    """The semantic layer: the metric catalog and the consistency check of the marts."""


TARGET_PATH_OPTION = click.option(
    "--target-path",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("target"),
    show_default=True,
    help="dbt's target folder holding manifest.json and semantic_manifest.json.",
)


@metrics.command("check")
@target_option()
@TARGET_PATH_OPTION
def metrics_check(target: str, target_path: Path) -> None:
    """Compare every mart column that reports a metric with the semantic layer's answer.

    Reads the marts `dbt build` made (its manifest in --target-path) and runs each saved query of
    the semantic layer; counts must match exactly, money to the fen, rates to 1e-9.
    """
    from rich.table import Table

    from shoplens.consistency import check_consistency

    results = check_consistency(target, target_path)
    per_mart: dict[str, list[Any]] = {}
    for result in results:
        per_mart.setdefault(result.check.mart, []).append(result)
    table = Table("mart", "columns checked", "rows compared", "disagreeing", title=target)
    for mart, checks in sorted(per_mart.items()):
        bad = sum(not r.ok for r in checks)
        table.add_row(
            mart,
            str(len(checks)),
            f"{sum(r.rows for r in checks):,}",
            f"[bold red]{bad}[/]" if bad else "0",
        )
    out.print(table)
    for result in results:
        if result.mismatches:
            out.print(f"DISAGREES {result.describe()}", markup=False, highlight=False)
        elif result.empty:
            label = "EMPTY (allowed)" if result.ok else "EMPTY"
            out.print(f"{label} {result.describe()}", markup=False, highlight=False)
    failures = [r for r in results if not r.ok]
    if failures:
        raise ShoplensError(
            f"{len(failures)} of {len(results)} mart columns fail the check "
            f"({', '.join(sorted({f'{r.check.metric} in {r.check.mart}' for r in failures}))})"
        )
    empty = sum(r.empty for r in results)
    out.print(
        f"all {len(results)} mart columns agree with the semantic layer "
        f"({sum(r.rows for r in results):,} rows"
        + (f"; {empty} with nothing to compare, allowed" if empty else "")
        + ")",
        highlight=False,
    )


@metrics.command("catalog")
@click.option(
    "--check", "check_only", is_flag=True, help="Fail if the committed catalog is out of date."
)
def metrics_catalog(check_only: bool) -> None:
    """Write the metric catalog (docs/metric_catalog.md and the dbt docs overview page).

    Runs `dbt parse` into a temporary folder first (your target/ is left alone), so the catalog
    follows the semantic layer's YAML as it is now.
    """
    import tempfile

    from shoplens.catalog import stale_files, write_catalog
    from shoplens.consistency import load_manifest
    from shoplens.dbt import project_dir, run_dbt

    root = project_dir()
    with tempfile.TemporaryDirectory(prefix="shoplens-catalog-") as tmp:
        run_dbt(
            ["parse", "--quiet", "--target-path", f"{tmp}/target", "--log-path", f"{tmp}/logs"],
            target="duckdb",
        )
        manifest = load_manifest(Path(tmp) / "target")
    if check_only:
        stale = stale_files(manifest, root)
        if stale:
            raise ShoplensError(
                f"the metric catalog is out of date ({', '.join(map(str, stale))}): "
                "run `shoplens metrics catalog` and commit the result"
            )
        out.print("the metric catalog is up to date", highlight=False)
        return
    changed = write_catalog(manifest, root)
    out.print(
        f"wrote {', '.join(map(str, changed))}" if changed else "the catalog was up to date",
        highlight=False,
    )


@main.command()
@click.option("--users", type=click.IntRange(min=1), default=5000, show_default=True)
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@target_option()
@click.option(
    "--landing", type=click.Path(path_type=Path), default=DEFAULT_LANDING, show_default=True
)
@click.option(
    "--fresh/--keep",
    default=True,
    show_default=True,
    help="Start from an empty landing folder and warehouse (DuckDB) first.",
)
def demo(users: int, days: int, seed: int, target: str, landing: Path, fresh: bool) -> None:
    """The main job end to end: generate demo data, load it, `dbt build`, print a summary."""
    from shoplens.dbt import run_dbt
    from shoplens.generate import GeneratorConfig
    from shoplens.generate import generate as run_generate
    from shoplens.summary import print_summary
    from shoplens.warehouse import duckdb_path

    if fresh:
        import shutil

        shutil.rmtree(landing, ignore_errors=True)
        if target == "duckdb":
            duckdb_path().unlink(missing_ok=True)
    start = date.today() - timedelta(days=days)
    out.rule(f"1/4 generate {days} days for {users:,} users from {start}")
    config = GeneratorConfig(out_dir=landing, users=users, days=days, start_date=start, seed=seed)
    with _progress() as progress:
        task = progress.add_task("generating days", total=days)
        result = run_generate(
            config, progress=lambda done, total: progress.update(task, completed=done)
        )
    out.print(f"wrote {result.events_written:,} event lines in {result.seconds:.1f} s")
    out.rule(f"2/4 load into {target}")
    run_load(landing, target)
    out.rule(f"3/4 dbt build --target {target}")
    run_dbt(["build"], target=target)
    out.rule("4/4 summary")
    print_summary(target, out)


@main.command()
@click.argument("kind", type=click.Choice(["daily", "weekly"]))
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="Reporting day (weekly: any day of the ISO week).",
)
@target_option()
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="HTML file to write  [default: artifacts/reports/<kind>-<first day>.html]",
)
def report(kind: str, day: datetime, target: str, out_path: Path | None) -> None:
    """Write the daily or weekly report: one self-contained HTML file (日報 / 週報)."""
    from shoplens.report import write_report

    path = write_report(kind, day.date(), target, out_path)
    out.print(f"wrote {path}", highlight=False)


@main.command()
@target_option()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8050, show_default=True)
@click.option(
    "--refresh",
    type=click.IntRange(min=1),
    default=60,
    show_default=True,
    help="Seconds between the page's reloads.",
)
def board(target: str, host: str, port: int, refresh: int) -> None:
    """Serve the real-time board (實時看板) over the monitoring marts until Ctrl-C."""
    from shoplens.board import serve

    serve(target, host, port, refresh, on_ready=lambda url: out.print(f"board at {url}"))


@main.group()
def bench() -> None:
    """Benchmarks that print figures (no pass/fail)."""


@bench.command("generate")
@click.option("--events", type=click.IntRange(min=10_000), default=2_000_000, show_default=True)
@format_option("ndjson")
@click.option("--seed", type=int, default=1, show_default=True)
def bench_generate(events: int, file_format: str, seed: int) -> None:
    """Generator throughput in events/s (run under `taskset -c 0` for the one-core figure)."""
    from shoplens.generate import benchmark

    figures = benchmark(events_target=events, seed=seed, file_format=file_format)
    out.print(
        f"generator ({figures['format']}): {figures['events']:,} events in "
        f"{figures['seconds']:.2f} s = {figures['events_per_second']:,.0f} events/s",
        highlight=False,
    )


# --- privacy (issue 8): `shoplens forget` and `shoplens purge` ---------------------------------


def _print_deletion(deletion: Any) -> None:
    from rich.table import Table

    table = Table(
        "table", "rows deleted", "rows redacted", title=f"{deletion.kind} ({deletion.target})"
    )
    for name, (deleted, redacted) in deletion.per_table().items():
        table.add_row(name, f"{deleted:,}", f"{redacted:,}")
    if table.row_count:
        out.print(table)


@main.command()
@click.option("--user-id", default=None, help="Erase this member: their devices, orders, phone.")
@click.option("--anonymous-id", default=None, help="Erase this device (openid / device id) only.")
@click.option("--request-id", default=None, help="Your reference for the audit (a ticket number).")
@click.option("--dry-run", is_flag=True, help="Count what would be erased; change nothing.")
@target_option()
def forget(
    user_id: str | None,
    anonymous_id: str | None,
    request_id: str | None,
    dry_run: bool,
    target: str,
) -> None:
    """Erase one person from every raw and derived table, rebuild what derived from them, and
    record an audit row without personal data (raw schema, table deletions)."""
    from shoplens.privacy import forget as run_forget

    deletion = run_forget(target, user_id, anonymous_id, request_id, dry_run)
    _print_deletion(deletion)
    what = "would delete" if dry_run else "deleted"
    totals = (
        f"{what} {deletion.raw_rows:,} raw and {deletion.derived_rows:,} derived rows, "
        f"redacted {deletion.redacted_rows:,}"
    )
    if dry_run:
        out.print(f"dry run: {totals}; nothing changed", highlight=False)
    elif not (deletion.raw_rows or deletion.derived_rows or deletion.redacted_rows):
        out.print(
            f"nothing to erase: no rows of this {deletion.identifier_kind} "
            f"(audit row {deletion.deletion_id} with zero counts)",
            highlight=False,
        )
    else:
        out.print(
            f"erasure {deletion.deletion_id}: {totals}; the models derived from them are rebuilt",
            highlight=False,
        )


@main.command("benchmark")
@click.option(
    "--events", default="1M", show_default=True, help="History size S: 1M, 10M, 50M or any N."
)
@click.option(
    "--history-events",
    default=None,
    help="The smaller history H for the H vs 10H ratio  [default: S/10; 0 for none]",
)
@target_option()
@click.option(
    "--work-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("data/bench"),
    show_default=True,
    help="Cached generated data, cuts, warehouses, logs and results.",
)
@click.option(
    "--users",
    type=click.IntRange(min=100),
    default=None,
    help="People in the simulated shop  [default: 1,600,000: about 100k events in the batch]",
)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option(
    "--tests/--no-tests",
    default=True,
    show_default=True,
    help="Also time `dbt test` after the full build.",
)
@click.option(
    "--from-full-build",
    is_flag=True,
    help="DuckDB: start the micro-batch from the warehouse saved after an earlier run's full "
    "build (skips loading and building the history; only while the models are unchanged).",
)
@click.option(
    "--rebuild",
    is_flag=True,
    help="With --from-full-build: run the full build again on the saved warehouse "
    "(--full-refresh over the same raw tables: after a model change) and time it.",
)
@click.option(
    "--repeat",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="DuckDB: time the micro-batch N times, each from the saved full build, and report the "
    "median run (a virtual machine's runs can differ by seconds).",
)
def benchmark_command(
    events: str,
    history_events: str | None,
    target: str,
    work_dir: Path,
    users: int | None,
    seed: int,
    tests: bool,
    from_full_build: bool,
    rebuild: bool,
    repeat: int,
) -> None:
    """Generate S events, load them, full build, then a 10-minute micro-batch and the monitoring
    cycle's incremental build: wall time, events/s and peak memory per stage (at S and S/10)."""
    from rich.table import Table

    from shoplens import benchmark as bench_mod

    size = bench_mod.parse_count(events)
    small = size // 10 if history_events is None else bench_mod.parse_count_or_zero(history_events)
    if small and small >= size:
        raise ShoplensError("--history-events must be smaller than --events")
    if rebuild and not from_full_build:
        raise ShoplensError("--rebuild needs --from-full-build (it rebuilds a saved warehouse)")
    result = bench_mod.run(
        size,
        small or None,
        target,
        work_dir,
        users=users or bench_mod.DEFAULT_USERS,
        seed=seed,
        tests=tests,
        report=lambda text: console.print(text, highlight=False),
        from_full_build=from_full_build,
        rebuild=rebuild,
        repeat=repeat,
    )
    table = Table(
        title=f"shoplens benchmark on {target}: {result.users:,} people, micro-batch "
        f"{result.batch_start_at} + {bench_mod.BATCH_MINUTES} min ({result.batch_events:,} events)"
    )
    for column in ("history", "stage", "wall s", "events", "events/s", "peak MiB", "CPU s"):
        table.add_column(column, justify="left" if column in ("history", "stage") else "right")
    for stage in result.stages:
        table.add_row(
            stage.history or "-",
            stage.name + (" (cached)" if stage.cached else ""),
            f"{stage.seconds:.1f}",
            f"{stage.events:,}",
            f"{stage.events_per_second:,.0f}",
            "-" if stage.peak_mib is None else f"{stage.peak_mib:,.0f}",
            "-" if stage.cpu_seconds is None else f"{stage.cpu_seconds:.1f}",
        )
    for label, seconds in result.batch_seconds.items():
        peaks = [
            s.peak_mib
            for s in result.stages
            if s.history == label and s.name in ("batch load", "batch build") and s.peak_mib
        ]
        cpus = [
            s.cpu_seconds
            for s in result.stages
            if s.history == label
            and s.name in ("batch load", "batch build")
            and s.cpu_seconds is not None
        ]
        table.add_row(
            label,
            "batch end to end",
            f"{seconds:.1f}",
            f"{result.batch_events:,}",
            f"{result.batch_events / seconds:,.0f}" if seconds else "-",
            f"{max(peaks):,.0f}" if peaks else "-",
            f"{sum(cpus):.1f}" if len(cpus) == 2 else "-",
        )
    out.print(table)
    for label, totals in result.batch_runs.items():
        if len(totals) > 1:
            out.print(
                f"micro-batch end to end at history {label}, {len(totals)} runs: "
                f"{' / '.join(f'{t:.1f}' for t in totals)} s (the table shows the median run, "
                f"{result.batch_seconds[label]:.1f} s)",
                highlight=False,
            )
    ratio = result.ratio()
    if ratio is not None:
        labels = sorted(result.batch_seconds, key=lambda label: result.history_events[label])
        out.print(
            f"micro-batch end to end at history {labels[-1]} / at {labels[0]}: {ratio:.2f}×",
            highlight=False,
        )


@main.command()
@click.option(
    "--older-than-days",
    type=int,
    default=None,
    help="Retention period  [default: SHOPLENS_RAW_RETENTION_DAYS or 400]",
)
@click.option("--dry-run", is_flag=True, help="Count what would be purged; change nothing.")
@target_option()
def purge(older_than_days: int | None, dry_run: bool, target: str) -> None:
    """Delete raw events received (and rejected rows loaded) before the retention period, in bulk;
    the marts keep their history (staging keeps every staged event)."""
    from shoplens.privacy import purge as run_purge

    deletion = run_purge(target, older_than_days, dry_run)
    _print_deletion(deletion)
    what = "would purge" if dry_run else "purged"
    line = (
        f"{what} {deletion.raw_rows:,} raw rows older than {deletion.older_than_days} days "
        f"(before {deletion.cutoff_at:%Y-%m-%d %H:%M} UTC)"
    )
    if deletion.kept_unstaged:
        line += (
            f"; kept {deletion.kept_unstaged:,} older events not staged yet (run dbt build, "
            "then purge again)"
        )
    out.print(line if dry_run else f"purge {deletion.deletion_id}: {line}", highlight=False)


# --- monitoring (issue 6): `shoplens monitor` and `shoplens replay` ---------------------------


def _monitor_logging() -> None:
    import logging

    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
        force=True,
    )


def _monitor_config(
    target: str, landing: Path | None, report_url: str | None, attempts: int, backoff: float
) -> Any:
    from shoplens.monitor import MonitorConfig

    return MonitorConfig(
        target=target,
        landing=landing,
        report_url=report_url,
        attempts=attempts,
        backoff_seconds=backoff,
    )


ATTEMPTS_OPTION = click.option(
    "--attempts",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Tries per channel and notification.",
)
BACKOFF_OPTION = click.option(
    "--backoff",
    type=click.FloatRange(min=0),
    default=2.0,
    show_default=True,
    help="Seconds before the first retry (doubling after each).",
)


@main.command()
@target_option()
@click.option(
    "--landing",
    type=click.Path(path_type=Path),
    default=None,
    help="Load new files from this landing folder first (default: no load).",
)
@click.option("--every", default=None, help="Run a cycle every interval (e.g. 5m) until Ctrl-C.")
@click.option("--report-url", default=None, help="Report link in messages (?date=YYYY-MM-DD).")
@ATTEMPTS_OPTION
@BACKOFF_OPTION
def monitor(
    target: str,
    landing: Path | None,
    every: str | None,
    report_url: str | None,
    attempts: int,
    backoff: float,
) -> None:
    """Load new data, build the monitoring marts, notify each new incident once (and recoveries).

    One cycle by default (for cron or CI; exit code 2 with one line on an error); with --every,
    a loop in which an error is logged and the next cycle still runs.
    """
    from shoplens.monitor import parse_every, run_cycle, run_forever

    _monitor_logging()
    config = _monitor_config(target, landing, report_url, attempts, backoff)
    if every is None:
        result = run_cycle(config)
        out.print(result.summary(), highlight=False)
        return
    seconds = parse_every(every)
    import signal

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)  # also when started in the background with SIGINT ignored
    signal.signal(signal.SIGTERM, stop)  # a service manager's stop: the same clean exit
    try:
        run_forever(config, seconds)
    except KeyboardInterrupt:
        console.print("monitor stopped", highlight=False)


@main.command()
@click.argument("source", type=click.Path(path_type=Path, file_okay=False))
@click.option("--to", "landing", type=click.Path(path_type=Path), required=True)
@click.option("--from", "start", required=True, help="Simulated start (ISO; local time if naive).")
@click.option("--until", "until", required=True, help="Simulated end (ISO; local if naive).")
@click.option("--step", default="10m", show_default=True, help="Simulated time per step.")
@click.option(
    "--history/--no-history",
    default=True,
    show_default=True,
    help="First write everything before --from in one go.",
)
@click.option(
    "--monitor", "with_monitor", is_flag=True, help="Run a monitor cycle after each step."
)
@target_option()
@click.option("--report-url", default=None, help="Report link in messages (with --monitor).")
@ATTEMPTS_OPTION
@BACKOFF_OPTION
def replay(
    source: Path,
    landing: Path,
    start: str,
    until: str,
    step: str,
    history: bool,
    with_monitor: bool,
    target: str,
    report_url: str | None,
    attempts: int,
    backoff: float,
) -> None:
    """Feed a generated landing folder SOURCE into --to in simulated time (rows at their
    collector time), optionally with a monitor cycle after each step."""
    from shoplens.monitor import parse_every, run_cycle
    from shoplens.replay import Replay, parse_moment, steps

    if with_monitor:
        _monitor_logging()
    begin, end = parse_moment(start), parse_moment(until)
    if end <= begin:
        raise ShoplensError("--until must be after --from")
    feed = Replay(source, landing)
    config = _monitor_config(target, landing, report_url, attempts, backoff)
    if history:
        rows = feed.write_until(begin, f"history-{begin:%Y%m%dT%H%M}")
        out.print(f"history before {begin:%Y-%m-%d %H:%M} UTC: {rows:,} rows", highlight=False)
    else:
        feed.skip_until(begin)
    at = begin
    for step_end in steps(begin, end, parse_every(step)):
        rows = feed.write_until(step_end, f"{at:%Y%m%dT%H%M%S}")
        line = f"step {at:%Y-%m-%d %H:%M}–{step_end:%H:%M} UTC: {rows:,} rows"
        if with_monitor:
            line += "; " + run_cycle(config).summary()
        out.print(line, highlight=False)
        at = step_end


if __name__ == "__main__":
    main()
