"""Connections to the two warehouses Shoplens writes raw data to: a DuckDB file and PostgreSQL.

Settings come from the same environment variables as `profiles.yml`, so the loader and dbt
always point at the same place:

- SHOPLENS_DUCKDB_PATH (default `data/shoplens.duckdb`)
- PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (defaults 127.0.0.1, 5432, postgres, -, test)
- SHOPLENS_RAW_SCHEMA (default `raw`): where the loader writes and dbt's sources read.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.csv as pacsv

from shoplens import contract
from shoplens.errors import ShoplensError

TARGETS = ("duckdb", "postgres")

_DDL_TYPES = {
    "duckdb": {
        contract.STRING: "varchar",
        contract.BIGINT: "bigint",
        contract.INTEGER: "integer",
        contract.BOOLEAN: "boolean",
        contract.TIMESTAMP: "timestamp",
        contract.JSON: "json",
    },
    "postgres": {
        contract.STRING: "text",
        contract.BIGINT: "bigint",
        contract.INTEGER: "integer",
        contract.BOOLEAN: "boolean",
        contract.TIMESTAMP: "timestamp",
        # json, not jsonb: it keeps the text as sent (1e3 stays 1e3), as DuckDB does.
        contract.JSON: "json",
    },
}

# Bookkeeping tables of the loader, in the raw schema next to the data.
REJECTED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("table_name", contract.STRING),
    ("raw_line", contract.STRING),
    ("reason", contract.STRING),
    *contract.LOAD_COLUMNS,
)
LOAD_FILES_COLUMNS: tuple[tuple[str, str], ...] = (
    ("batch_id", contract.STRING),
    ("table_name", contract.STRING),
    ("source_file", contract.STRING),
    ("file_sha256", contract.STRING),
    ("file_format", contract.STRING),
    ("file_bytes", contract.BIGINT),
    ("rows_read", contract.BIGINT),
    ("rows_loaded", contract.BIGINT),
    ("rows_rejected", contract.BIGINT),
    ("loaded_at", contract.TIMESTAMP),
)
# The audit of `shoplens forget` and `shoplens purge` (src/shoplens/privacy.py): one row per
# erasure or purge, and its rows deleted per table (per load batch and file for raw tables, so
# the load-accounting tests still balance). No personal data: neither ids nor their hashes.
DELETIONS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("deletion_id", contract.STRING),
    ("kind", contract.STRING),
    ("identifier_kind", contract.STRING),
    ("request_id", contract.STRING),
    ("older_than_days", contract.INTEGER),
    ("cutoff_at", contract.TIMESTAMP),
    ("target", contract.STRING),
    ("deleted_at", contract.TIMESTAMP),
    ("raw_rows_deleted", contract.BIGINT),
    ("derived_rows_deleted", contract.BIGINT),
    ("rows_redacted", contract.BIGINT),
    ("is_rebuilt", contract.BOOLEAN),
)
DELETION_COUNTS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("deletion_id", contract.STRING),
    ("schema_name", contract.STRING),
    ("table_name", contract.STRING),
    ("raw_table", contract.STRING),
    ("batch_id", contract.STRING),
    ("source_file", contract.STRING),
    ("rows_deleted", contract.BIGINT),
    ("rows_redacted", contract.BIGINT),
    ("rows_kept_in_staging", contract.BIGINT),
)
BOOKKEEPING_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    contract.REJECTED_TABLE: REJECTED_COLUMNS,
    contract.LOAD_FILES_TABLE: LOAD_FILES_COLUMNS,
    contract.DELETIONS_TABLE: DELETIONS_COLUMNS,
    contract.DELETION_COUNTS_TABLE: DELETION_COUNTS_COLUMNS,
}


@contextmanager
def database_errors(engine: str, doing: str) -> Iterator[None]:
    """Turn an error the database raised (refused, permission denied, disk full) into one line."""
    import duckdb
    import psycopg2

    try:
        yield
    except (duckdb.Error, psycopg2.Error) as exc:
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ShoplensError(f"{engine} refused {doing}: {message}") from None


def raw_schema() -> str:
    return os.environ.get("SHOPLENS_RAW_SCHEMA", contract.RAW_SCHEMA)


def duckdb_path() -> Path:
    return Path(os.environ.get("SHOPLENS_DUCKDB_PATH", "data/shoplens.duckdb"))


def existing_duckdb_path() -> Path:
    """The DuckDB file of a built warehouse; a one-line error (not a new empty file) if absent."""
    path = duckdb_path()
    if not path.is_file():
        raise ShoplensError(f"no DuckDB file at {path}: build the warehouse first")
    return path


def table_columns(table: str) -> tuple[tuple[str, str], ...]:
    """(name, logical type) of a raw table as the loader creates it."""
    if table in BOOKKEEPING_COLUMNS:
        return BOOKKEEPING_COLUMNS[table]
    spec = contract.TABLES[table]
    return tuple((c.name, c.type) for c in spec.columns) + contract.LOAD_COLUMNS


def create_table_sql(engine: str, schema: str, table: str) -> str:
    cols = ", ".join(f"{name} {_DDL_TYPES[engine][typ]}" for name, typ in table_columns(table))
    return f"create table if not exists {schema}.{table} ({cols})"


class Warehouse(Protocol):
    engine: str

    def ensure_raw_tables(self) -> None: ...

    def loaded_batch_of(self, table: str, sha256: str) -> str | None: ...

    @contextmanager
    def transaction(self) -> Iterator[None]: ...

    def append(self, table: str, rows: pa.Table) -> None: ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...

    def records(self, sql: str) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


class _RawTables:
    """What both warehouses do the same way, over their own `query` and placeholder style."""

    engine: str
    schema: str
    param: str  # the driver's placeholder

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        raise NotImplementedError

    def ensure_raw_tables(self) -> None:
        """Create what is missing; a role that may only insert into existing tables works."""
        p = self.param
        existing = {
            name
            for (name,) in self.query(
                f"select table_name from information_schema.tables where table_schema = {p}",
                (self.schema,),
            )
        }
        schema_found = self.query(
            f"select 1 from information_schema.schemata where schema_name = {p}", (self.schema,)
        )
        if not schema_found:
            self.query(f"create schema if not exists {self.schema}")
        for table in (*contract.TABLES, *BOOKKEEPING_COLUMNS):
            if table not in existing:
                self.query(create_table_sql(self.engine, self.schema, table))

    def loaded_batch_of(self, table: str, sha256: str) -> str | None:
        rows = self.query(
            f"select batch_id from {self.schema}.{contract.LOAD_FILES_TABLE} "
            f"where table_name = {self.param} and file_sha256 = {self.param} limit 1",
            (table, sha256),
        )
        return rows[0][0] if rows else None


@dataclass
class DuckDBWarehouse(_RawTables):
    path: Path
    schema: str
    engine: str = "duckdb"
    param: str = "?"

    def __post_init__(self) -> None:
        import duckdb

        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:  # locked by another process, not a database file, ...
            raise ShoplensError(f"cannot open DuckDB file {self.path}: {exc}") from None
        self.con.execute("set TimeZone = 'UTC'")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("begin transaction")
        try:
            yield
        except BaseException:
            self.con.execute("rollback")
            raise
        self.con.execute("commit")

    def append(self, table: str, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        self.con.register("_shoplens_rows", rows)
        try:
            self.con.execute(
                f"insert into {self.schema}.{table} by name select * from _shoplens_rows"
            )
        finally:
            self.con.unregister("_shoplens_rows")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        cursor = self.con.execute(sql, list(params))
        return cursor.fetchall() if cursor.description else []

    def records(self, sql: str) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        self.con.close()


def postgres_settings() -> dict[str, Any]:
    return {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": int(os.environ.get("PGPORT", "5432")),
        "user": os.environ.get("PGUSER", "postgres"),
        "password": os.environ.get("PGPASSWORD", ""),
        "dbname": os.environ.get("PGDATABASE", "test"),
    }


def postgres_connect() -> Any:
    """A psycopg2 connection from the PG* variables, or a one-line ShoplensError (no password)."""
    import psycopg2

    settings = postgres_settings()
    try:
        return psycopg2.connect(connect_timeout=10, **settings)
    except psycopg2.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
        raise ShoplensError(
            f"cannot connect to PostgreSQL at {settings['host']}:{settings['port']} "
            f"(database {settings['dbname']}, user {settings['user']}): {reason}"
        ) from None


@dataclass
class PostgresWarehouse(_RawTables):
    schema: str
    engine: str = "postgres"
    param: str = "%s"

    def __post_init__(self) -> None:
        self.con = postgres_connect()
        self.con.autocommit = True

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.autocommit = False
        try:
            yield
        except BaseException:
            self.con.rollback()
            raise
        else:
            self.con.commit()
        finally:
            self.con.autocommit = True

    def append(self, table: str, rows: pa.Table) -> None:
        """Bulk append through COPY ... FROM STDIN (CSV written by pyarrow, never row by row)."""
        if rows.num_rows == 0:
            return
        buffer = io.BytesIO()
        options = pacsv.WriteOptions(include_header=True, quoting_style="all_valid")
        pacsv.write_csv(_postgres_csv_ready(rows), buffer, write_options=options)
        buffer.seek(0)
        columns = ", ".join(rows.column_names)
        with self.con.cursor() as cur:
            cur.copy_expert(
                f"copy {self.schema}.{table} ({columns}) from stdin with (format csv, header true)",
                buffer,
            )

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self.con.cursor() as cur:
            cur.execute(sql, tuple(params))
            return cur.fetchall() if cur.description else []

    def records(self, sql: str) -> list[dict[str, Any]]:
        with self.con.cursor() as cur:
            cur.execute(sql)
            names = [column[0] for column in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def close(self) -> None:
        self.con.close()


def _postgres_csv_ready(rows: pa.Table) -> pa.Table:
    """Timestamps as microsecond text PostgreSQL parses; everything else as pyarrow writes it."""
    columns = []
    for column in rows.columns:
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.timestamp("us"))
        columns.append(column)
    return pa.table(columns, names=rows.column_names)


def connect(target: str) -> Warehouse:
    if target == "duckdb":
        return DuckDBWarehouse(duckdb_path(), raw_schema())
    if target == "postgres":
        return PostgresWarehouse(raw_schema())
    raise ShoplensError(f"unknown target {target!r}: choose one of {', '.join(TARGETS)}")
