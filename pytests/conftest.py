"""Shared fixtures: isolated warehouses (a DuckDB file per test, a PostgreSQL schema per test)
and a dbt runner that uses them. Everything is real: no mocks."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from local_servers import Mailbox, WebhookServer, free_port, handler

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENGINES = ("duckdb", "postgres")


def postgres_unreachable_reason() -> str | None:
    import psycopg2

    from shoplens.warehouse import postgres_settings

    settings = postgres_settings()
    try:
        psycopg2.connect(connect_timeout=5, **settings).close()
    except psycopg2.OperationalError as exc:
        return (
            f"PostgreSQL unreachable at {settings['host']}:{settings['port']}: "
            f"{str(exc).strip().splitlines()[0]}"
        )
    return None


@pytest.fixture(scope="session")
def postgres_available() -> None:
    reason = postgres_unreachable_reason()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the PostgreSQL tests must run)")
    pytest.skip(f"{reason} — skipping PostgreSQL tests (they run in CI)")


def run_command(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    timeout: int = 900,
) -> subprocess.CompletedProcess[str]:
    """Run a command of this virtualenv (shoplens, dbt, mf, dbt-score), output captured as text;
    env None inherits this process's environment."""
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass
class Warehouse:
    """One isolated warehouse: its engine and the environment that points dbt and the CLI at it."""

    engine: str
    env: dict[str, str]
    tmp: Path

    @property
    def schema(self) -> str:
        return self.env["SHOPLENS_SCHEMA"]

    @property
    def raw_schema(self) -> str:
        return self.env["SHOPLENS_RAW_SCHEMA"]

    def run(
        self, *args: str, check: bool = True, timeout: int = 900
    ) -> subprocess.CompletedProcess[str]:
        """Run a command of this virtualenv (shoplens, dbt) in the repository with this env."""
        result = run_command(*args, env=self.env, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {result.returncode}\n{result.stdout[-6000:]}\n"
                f"{result.stderr[-3000:]}"
            )
        return result

    def dbt(
        self, *args: str, check: bool = True, timeout: int = 900
    ) -> subprocess.CompletedProcess[str]:
        return self.run(
            "dbt",
            *args,
            "--target",
            self.engine,
            "--profiles-dir",
            str(ROOT),
            "--project-dir",
            str(ROOT),
            "--target-path",
            str(self.tmp / "target"),
            "--log-path",
            str(self.tmp / "logs"),
            check=check,
            timeout=timeout,
        )

    def query(self, sql: str) -> list[tuple]:
        if self.engine == "duckdb":
            import duckdb

            with duckdb.connect(self.env["SHOPLENS_DUCKDB_PATH"], read_only=True) as con:
                return con.execute(sql).fetchall()
        import psycopg2

        from shoplens.warehouse import postgres_settings

        with psycopg2.connect(**postgres_settings()) as con, con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    def scalar(self, sql: str) -> object:
        return self.query(sql)[0][0]


def _drop_postgres_schemas(prefix: str) -> None:
    import psycopg2

    from shoplens.warehouse import postgres_settings

    with psycopg2.connect(**postgres_settings()) as con, con.cursor() as cur:
        cur.execute(
            "select nspname from pg_namespace where nspname like %s",
            (prefix.replace("_", r"\_") + "%",),
        )
        for (schema,) in cur.fetchall():
            cur.execute(f'drop schema "{schema}" cascade')


def make_warehouse(engine: str, tmp: Path) -> Warehouse:
    name = f"t{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "SHOPLENS_DUCKDB_PATH": str(tmp / "warehouse.duckdb"),
        "SHOPLENS_SCHEMA": name,
        "SHOPLENS_RAW_SCHEMA": f"{name}_raw",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "NO_COLOR": "1",
    }
    return Warehouse(engine, env, tmp)


@pytest.fixture(params=ENGINES)
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """An empty warehouse on each engine (the PostgreSQL one in its own schemas, dropped after)."""
    if request.param == "postgres":
        request.getfixturevalue("postgres_available")
    wh = make_warehouse(request.param, tmp_path)
    yield wh
    if request.param == "postgres":
        _drop_postgres_schemas(wh.schema)


@pytest.fixture
def use_warehouse(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    """The warehouse, with this process's environment pointed at it (for in-process calls)."""
    for key in ("SHOPLENS_DUCKDB_PATH", "SHOPLENS_SCHEMA", "SHOPLENS_RAW_SCHEMA"):
        monkeypatch.setenv(key, warehouse.env[key])
    return warehouse


# The demo dataset (what `make demo` builds, on a fixed start date so runs are repeatable), built
# once per engine and shared by the tests that read it (metric consistency, Great Expectations).
# Each engine's build is an xdist group, so it runs on one worker while other tests go on.
DEMO_START = date(2026, 10, 1)
DEMO_DAYS = 32  # so that day-30 retention has complete cohorts to compare
DEMO_USERS = 5000
DEMO_SEED = 42


@dataclass
class DemoWarehouse(Warehouse):
    """A warehouse holding the demo dataset, built by `dbt build`; target/ holds its manifest."""

    @property
    def target_path(self) -> Path:
        return self.tmp / "target"


@pytest.fixture(scope="session")
def demo_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from shoplens.generate import GeneratorConfig, generate

    out = tmp_path_factory.mktemp("demo") / "landing"
    generate(
        GeneratorConfig(
            out_dir=out, users=DEMO_USERS, days=DEMO_DAYS, start_date=DEMO_START, seed=DEMO_SEED
        )
    )
    return out


@pytest.fixture(
    scope="session",
    params=[
        pytest.param(engine, marks=pytest.mark.xdist_group(f"demo_{engine}")) for engine in ENGINES
    ],
)
def demo_warehouse(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    demo_landing: Path,
) -> Iterator[DemoWarehouse]:
    """The demo dataset loaded and built (`dbt build`) on each engine."""
    if request.param == "postgres":
        request.getfixturevalue("postgres_available")
    base = make_warehouse(request.param, tmp_path_factory.mktemp(f"demo_{request.param}"))
    wh = DemoWarehouse(base.engine, base.env, base.tmp)
    try:
        wh.run("shoplens", "load", str(demo_landing), "--target", wh.engine)
        wh.dbt("build")
        yield wh
    finally:
        if wh.engine == "postgres":
            _drop_postgres_schemas(wh.schema)


# Real local servers for the notification and monitoring tests (pytests/local_servers.py).


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    server = WebhookServer(base_url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler(server))
    server.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, mailbox
    controller.stop()
