"""The Great Expectations checkpoint over the public marts (`shoplens validate`).

One suite definition, `expectations/marts.yml`, for both engines: per public mart, its keys
(never null), rates (in [0, 1]), money (never negative), daily row counts (one row per reporting
date) and distribution bounds on the core daily metrics. Each mart becomes one expectation suite
and one validation definition; one checkpoint runs them all and writes its Data Docs into a
folder (by default the git-ignored `artifacts/gx_data_docs/<target>/`).

GX has no DuckDB datasource: DuckDB marts are read into pandas DataFrames through a read-only
duckdb connection and validated through a pandas datasource. A checkpoint passes its batch
parameters (where a dataframe asset gets its dataframe) to every validation definition alike,
so each DataFrame is handed over as a parquet file in a temporary folder, which the pandas
datasource reads back. PostgreSQL marts are validated in the database through GX's SQL
datasource. Its connection URL carries no password: libpq reads PGPASSWORD from the
environment, so the secret appears in no configuration, error message or Data Docs page.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from shoplens.dbt import project_dir, schema_name
from shoplens.errors import ShoplensError

SUITE_FILE = Path("expectations") / "marts.yml"
DOCS_ROOT = Path("artifacts") / "gx_data_docs"
STATS = ("min", "max", "mean", "median")
_MART_FIELDS = {"keys", "rates", "money", "signed_money", "daily", "bounds"}


@dataclass(frozen=True)
class Bound:
    """A statistic of a column within [min_value, max_value] (None: unbounded on that side)."""

    column: str
    stat: str
    min_value: float | None = None
    max_value: float | None = None


@dataclass(frozen=True)
class MartSpec:
    name: str
    keys: tuple[str, ...]
    rates: tuple[str, ...] = ()
    money: tuple[str, ...] = ()
    signed_money: tuple[str, ...] = ()
    daily: str | None = None
    bounds: tuple[Bound, ...] = ()


@dataclass(frozen=True)
class SuiteSpec:
    reporting_dates_mart: str
    reporting_dates_column: str
    marts: tuple[MartSpec, ...]


@dataclass(frozen=True)
class Failure:
    mart: str
    expectation: str  # e.g. expect_column_values_to_be_between(column=ctr, min_value=0, ...)
    detail: str  # what was observed


@dataclass(frozen=True)
class MartResult:
    mart: str
    expectations: int
    failed: int


@dataclass
class ValidationReport:
    target: str
    schema: str
    docs_index: Path
    marts: list[MartResult] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.failures

    @property
    def expectations(self) -> int:
        return sum(m.expectations for m in self.marts)


def suite_file() -> Path:
    return project_dir() / SUITE_FILE


def default_docs_dir(target: str) -> Path:
    return project_dir() / DOCS_ROOT / target


def _names(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ShoplensError(f"{where}: expected a list of column names, got {value!r}")
    return tuple(value)


def _bound(raw: Any, where: str) -> Bound:
    if not isinstance(raw, dict) or set(raw) - {"column", "stat", "min_value", "max_value"}:
        raise ShoplensError(f"{where}: expected {{column, stat, min_value, max_value}}: {raw!r}")
    if raw.get("stat") not in STATS or not isinstance(raw.get("column"), str):
        raise ShoplensError(f"{where}: needs a column and a stat ({', '.join(STATS)}): {raw!r}")
    if raw.get("min_value") is None and raw.get("max_value") is None:
        raise ShoplensError(f"{where}: give min_value, max_value or both: {raw!r}")
    return Bound(raw["column"], raw["stat"], raw.get("min_value"), raw.get("max_value"))


def load_suite_spec(path: Path | None = None) -> SuiteSpec:
    """Read and check the suite definition (a mistake in it is a one-line ShoplensError)."""
    path = path or suite_file()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ShoplensError(f"cannot read the expectation suite {path}: {exc}") from None
    try:
        reference = raw["reporting_dates"]
        marts = raw["marts"]
        specs = []
        for name, entry in marts.items():
            where = f"{path}: {name}"
            unknown = set(entry) - _MART_FIELDS
            if unknown:
                raise ShoplensError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
            if not entry.get("keys"):
                raise ShoplensError(f"{where}: every mart needs its keys")
            specs.append(
                MartSpec(
                    name=name,
                    keys=_names(entry.get("keys"), where),
                    rates=_names(entry.get("rates"), where),
                    money=_names(entry.get("money"), where),
                    signed_money=_names(entry.get("signed_money"), where),
                    daily=entry.get("daily"),
                    bounds=tuple(_bound(b, where) for b in entry.get("bounds") or ()),
                )
            )
        spec = SuiteSpec(reference["mart"], reference["column"], tuple(specs))
    except (KeyError, TypeError, AttributeError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
        raise ShoplensError(f"{path}: not a suite definition ({problem})") from None
    if spec.reporting_dates_mart not in {m.name for m in spec.marts}:
        raise ShoplensError(f"{path}: reporting_dates names {spec.reporting_dates_mart}, no mart")
    return spec


def build_expectations(mart: MartSpec, reporting_days: int) -> list[Any]:
    """The GX expectations of one mart; `reporting_days` sets the daily marts' row count."""
    import great_expectations.expectations as gxe

    stat_expectations: dict[str, Callable[..., Any]] = {
        "min": gxe.ExpectColumnMinToBeBetween,
        "max": gxe.ExpectColumnMaxToBeBetween,
        "mean": gxe.ExpectColumnMeanToBeBetween,
        "median": gxe.ExpectColumnMedianToBeBetween,
    }
    expectations: list[Any] = [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in mart.keys]
    expectations += [
        gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=1) for c in mart.rates
    ]
    expectations += [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in mart.money]
    if mart.daily:
        expectations += [
            gxe.ExpectColumnValuesToBeUnique(column=mart.daily),
            gxe.ExpectTableRowCountToEqual(value=reporting_days),
        ]
    for bound in mart.bounds:
        expectations.append(
            stat_expectations[bound.stat](
                column=bound.column, min_value=bound.min_value, max_value=bound.max_value
            )
        )
    return expectations


# --- the two engines --------------------------------------------------------------------------


class _Marts:
    """A read-only view of one marts schema: list tables, run a query, add a GX datasource."""

    target: str
    schema: str

    def query(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def tables(self) -> set[str]:
        rows = self.query(
            f"select table_name from information_schema.tables where table_schema = '{self.schema}'"
        )
        return {name for (name,) in rows}

    def add_assets(self, context: Any, marts: Sequence[str]) -> dict[str, Any]:
        """One whole-table batch definition per mart, by mart name."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _DuckDBMarts(_Marts):
    target = "duckdb"

    def __init__(self, schema: str, workdir: Path) -> None:
        import duckdb

        from shoplens.warehouse import existing_duckdb_path

        self.schema = schema
        self.workdir = workdir
        path = existing_duckdb_path()
        try:
            self.con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as exc:
            raise ShoplensError(f"cannot open DuckDB file {path} read-only: {exc}") from None

    def query(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def add_assets(self, context: Any, marts: Sequence[str]) -> dict[str, Any]:
        datasource = context.data_sources.add_pandas(name=f"{self.target}_marts")
        batches = {}
        for mart in marts:
            frame = self.con.execute(f'select * from "{self.schema}"."{mart}"').df()
            path = self.workdir / f"{mart}.parquet"
            frame.to_parquet(path, index=False)
            asset = datasource.add_parquet_asset(name=mart, path=path)
            batches[mart] = asset.add_batch_definition_whole_dataframe(name=mart)
        return batches

    def close(self) -> None:
        self.con.close()


class _PostgresMarts(_Marts):
    target = "postgres"

    def __init__(self, schema: str) -> None:
        from shoplens.warehouse import postgres_connect, postgres_settings

        self.schema = schema
        self.settings = postgres_settings()
        self.con = postgres_connect()  # a one-line error without the password
        self.con.autocommit = True

    def query(self, sql: str) -> list[tuple]:
        with self.con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    def connection_url(self) -> str:
        """SQLAlchemy URL without the password: libpq takes PGPASSWORD from the environment."""
        s = self.settings
        return (
            f"postgresql+psycopg2://{quote(s['user'], safe='')}@{s['host']}:{s['port']}/"
            f"{quote(s['dbname'], safe='')}"
        )

    def add_assets(self, context: Any, marts: Sequence[str]) -> dict[str, Any]:
        datasource = context.data_sources.add_postgres(
            name=f"{self.target}_marts", connection_string=self.connection_url()
        )
        batches = {}
        for mart in marts:
            asset = datasource.add_table_asset(name=mart, table_name=mart, schema_name=self.schema)
            batches[mart] = asset.add_batch_definition_whole_table(name=mart)
        return batches

    def close(self) -> None:
        self.con.close()


@contextmanager
def _open_marts(target: str, schema: str) -> Iterator[_Marts]:
    from shoplens.warehouse import SERVING_TARGETS as TARGETS
    from shoplens.warehouse import database_errors

    if target not in TARGETS:
        raise ShoplensError(f"unknown target {target!r}: choose one of {', '.join(TARGETS)}")
    with tempfile.TemporaryDirectory(prefix="shoplens-gx-") as workdir:
        marts: _Marts = (
            _DuckDBMarts(schema, Path(workdir)) if target == "duckdb" else _PostgresMarts(schema)
        )
        try:
            with database_errors(target, f"reading the marts in {schema}"):
                yield marts
        finally:
            marts.close()


# --- the checkpoint ---------------------------------------------------------------------------


def _context(docs_dirs: Sequence[Path]) -> Any:
    """An ephemeral GX context (nothing written but Data Docs), quiet: no analytics, no bars."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites = {
        f"shoplens_{i}": {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(folder.resolve()),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
        for i, folder in enumerate(docs_dirs)
    }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites=sites,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(project_config=config, mode="ephemeral")


def _reporting_days(marts: _Marts, spec: SuiteSpec) -> int:
    first, last = marts.query(
        f"select min({spec.reporting_dates_column}), max({spec.reporting_dates_column}) "
        f'from "{marts.schema}"."{spec.reporting_dates_mart}"'
    )[0]
    if first is None:
        raise ShoplensError(
            f"{marts.schema}.{spec.reporting_dates_mart} has no rows: no reporting dates to check"
        )
    first, last = (d.date() if isinstance(d, datetime) else d for d in (first, last))
    return (last - first).days + 1


def describe(expectation_type: str, kwargs: dict[str, Any]) -> str:
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k != "batch_id" and v is not None)
    return f"{expectation_type}({args})"


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _detail(result: Any) -> str:
    info = result.exception_info or {}
    if info.get("raised_exception"):
        message = str(info.get("exception_message") or "error").strip().splitlines()
        return f"could not be evaluated: {message[0] if message else 'error'}"
    observed = result.result or {}
    if observed.get("unexpected_count"):
        examples = ", ".join(_short(v) for v in observed.get("partial_unexpected_list", [])[:5])
        return (
            f"{observed['unexpected_count']} of {observed.get('element_count', '?')} rows "
            f"unexpected, e.g. {examples}"
        )
    if "observed_value" in observed:
        return f"observed {_short(observed['observed_value'])}"
    return "failed"


def validate_marts(
    target: str,
    docs_dir: Path | Sequence[Path],
    schema: str | None = None,
    spec: SuiteSpec | None = None,
) -> ValidationReport:
    """Run the checkpoint over the public marts of `target` and write its Data Docs.

    docs_dir: the folder (or folders) for the Data Docs; schema: the marts schema (default
    `<SHOPLENS_SCHEMA>_marts`). Failed expectations are returned, not raised; a warehouse that
    cannot be read (no file, no server, marts not built) raises ShoplensError.
    """
    import great_expectations as gx

    spec = spec or load_suite_spec()
    schema = schema or schema_name("marts")
    docs_dirs = [docs_dir] if isinstance(docs_dir, Path) else list(docs_dir)
    names = [m.name for m in spec.marts]
    with _open_marts(target, schema) as marts:
        present = marts.tables()
        missing = [name for name in names if name not in present]
        if missing:
            shown = ", ".join(missing[:5]) + (", …" if len(missing) > 5 else "")
            raise ShoplensError(
                f"{len(missing)} of {len(names)} public marts not found in {schema} on {target}: "
                f"{shown} (build them with `dbt build --target {target}`)"
            )
        days = _reporting_days(marts, spec)
        context = _context(docs_dirs)
        batches = marts.add_assets(context, names)
        definitions = []
        for mart in spec.marts:
            suite = context.suites.add(gx.ExpectationSuite(name=mart.name))
            for expectation in build_expectations(mart, days):
                suite.add_expectation(expectation)
            definitions.append(
                context.validation_definitions.add(
                    gx.ValidationDefinition(name=mart.name, data=batches[mart.name], suite=suite)
                )
            )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=f"shoplens_public_marts_{target}",
                validation_definitions=definitions,
                actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")],
            )
        )
        outcome = checkpoint.run()
    report = ValidationReport(target, schema, docs_dirs[0].resolve() / "index.html")
    by_suite = {result.suite_name: result for result in outcome.run_results.values()}
    for name in names:
        results = by_suite[name].results
        failed = [r for r in results if not r.success]
        report.marts.append(MartResult(name, len(results), len(failed)))
        report.failures += [
            Failure(
                name,
                describe(r.expectation_config.type, dict(r.expectation_config.kwargs)),
                _detail(r),
            )
            for r in failed
        ]
    return report
