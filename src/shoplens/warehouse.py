"""Connections to the warehouses Shoplens writes raw data to: a DuckDB file, PostgreSQL, and a
local Apache Spark (a SparkSession over a Hive metastore and a warehouse folder).

Settings come from the same environment variables as `profiles.yml`, so the loader and dbt
always point at the same place:

- SHOPLENS_DUCKDB_PATH (default `data/shoplens.duckdb`)
- PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (defaults 127.0.0.1, 5432, postgres, -, test)
- SHOPLENS_SPARK_WAREHOUSE, SHOPLENS_SPARK_METASTORE, SHOPLENS_SPARK_MASTER,
  SHOPLENS_SPARK_SHUFFLE_PARTITIONS (defaults data/spark/warehouse, data/spark/metastore_db,
  local[2], 1)
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

# The dbt targets (profiles.yml) the loader writes to.
TARGETS = ("duckdb", "postgres", "spark")
# The targets whose marts the reading commands (summary, validate, metrics, report, board,
# monitor) query; Spark is a build engine here (README: Running on Apache Spark).
SERVING_TARGETS = ("duckdb", "postgres")

_DDL_TYPES = {
    "duckdb": {
        contract.STRING: "varchar",
        contract.BIGINT: "bigint",
        contract.INTEGER: "integer",
        contract.BOOLEAN: "boolean",
        contract.TIMESTAMP: "timestamp",
        contract.JSON: "json",
    },
    "spark": {
        contract.STRING: "string",
        contract.BIGINT: "bigint",
        contract.INTEGER: "int",
        contract.BOOLEAN: "boolean",
        contract.TIMESTAMP: "timestamp",
        # Spark has no JSON type: the object's text, read with get_json_object.
        contract.JSON: "string",
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
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        yield
    except (duckdb.Error, psycopg2.Error, PySparkException, Py4JError) as exc:
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
    using = " using parquet" if engine == "spark" else ""
    return f"create table if not exists {schema}.{table} ({cols}){using}"


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


def spark_metastore() -> Path:
    return Path(os.environ.get("SHOPLENS_SPARK_METASTORE", "data/spark/metastore_db"))


def spark_conf() -> dict[str, str]:
    """The SparkSession settings of the `spark` output of profiles.yml (its
    server_side_parameters, less the PII salt, which the loader does not use), from the same
    environment variables with the same defaults: the loader and dbt share one metastore and
    one warehouse folder."""
    metastore = spark_metastore()
    return {
        "spark.master": os.environ.get("SHOPLENS_SPARK_MASTER", "local[2]"),
        "spark.sql.warehouse.dir": os.environ.get(
            "SHOPLENS_SPARK_WAREHOUSE", "data/spark/warehouse"
        ),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={metastore};create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.stream.error.file={metastore}.log",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": os.environ.get("SHOPLENS_SPARK_SHUFFLE_PARTITIONS", "1"),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.log.level": "ERROR",
        # As dbt-spark forces for its sessions (connections.py): Spark 3's casting rules.
        "spark.sql.ansi.enabled": "false",
    }


@dataclass
class SparkWarehouse:
    """The raw tables as parquet tables of a local SparkSession (Hive metastore).

    A Spark write is a job of its own (about a second even for one row), and parquet tables have
    no transactions. So a file's rows, its rejected rows and its manifest row are kept in memory
    when its `transaction()` ends, and written per table (the manifest, load_files, last) when
    `flush_rows` rows are pending and on `close()`: a few writes per batch instead of three
    per file. A load that dies before a flush leaves its files unrecorded, so a rerun loads them
    (nothing is half-recorded: the manifest goes last). Checksums of pending files count as
    loaded, so a renamed copy in the same batch is still skipped.
    """

    schema: str
    engine: str = "spark"
    flush_rows: int = 1_000_000

    def __post_init__(self) -> None:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException
        from pyspark.sql import SparkSession

        conf = spark_conf()
        # Derby writes its log beside the metastore only when the folder exists (else stderr).
        spark_metastore().parent.mkdir(parents=True, exist_ok=True)
        builder = SparkSession.builder.enableHiveSupport()
        for key, value in conf.items():
            builder = builder.config(key, value)
        try:
            self.spark = builder.getOrCreate()
        except (PySparkException, Py4JError, OSError, RuntimeError) as exc:
            message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ShoplensError(
                f"cannot start a local Spark session (needs Java 17+): {message}"
            ) from None
        self.spark.sparkContext.setLogLevel("ERROR")
        self._pending: dict[str, list[pa.Table]] = {}
        self._pending_rows = 0
        self._in_transaction: list[tuple[str, pa.Table]] | None = None
        self._loaded: dict[tuple[str, str], str] | None = None

    def ensure_raw_tables(self) -> None:
        self.spark.sql(f"create database if not exists {self.schema}")
        existing = {table.name for table in self.spark.catalog.listTables(self.schema)}
        for table in (*contract.TABLES, *BOOKKEEPING_COLUMNS):
            if table not in existing:
                self.spark.sql(create_table_sql(self.engine, self.schema, table))

    def loaded_batch_of(self, table: str, sha256: str) -> str | None:
        if self._loaded is None:  # one query per batch, then the pending manifests
            self._loaded = {
                (name, digest): batch
                for name, digest, batch in self.query(
                    f"select table_name, file_sha256, min(batch_id) "
                    f"from {self.schema}.{contract.LOAD_FILES_TABLE} group by 1, 2"
                )
            }
        return self._loaded.get((table, sha256))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._in_transaction = []
        try:
            yield
            for table, rows in self._in_transaction:
                self._pending.setdefault(table, []).append(rows)
                self._pending_rows += rows.num_rows
                if table == contract.LOAD_FILES_TABLE and self._loaded is not None:
                    for name, digest, batch in zip(
                        rows.column("table_name").to_pylist(),
                        rows.column("file_sha256").to_pylist(),
                        rows.column("batch_id").to_pylist(),
                        strict=True,
                    ):
                        self._loaded.setdefault((name, digest), batch)
        finally:
            self._in_transaction = None
        if self._pending_rows >= self.flush_rows:
            self.flush()

    def append(self, table: str, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        rows = _spark_ready(rows)
        if self._in_transaction is None:
            self._write(table, rows)
        else:
            self._in_transaction.append((table, rows))

    def flush(self) -> None:
        """Write the pending rows, the manifest (load_files) last."""
        order = sorted(self._pending, key=lambda name: name == contract.LOAD_FILES_TABLE)
        for table in order:
            self._write(table, pa.concat_tables(self._pending[table], promote_options="default"))
            del self._pending[table]
        self._pending_rows = 0

    def _write(self, table: str, rows: pa.Table) -> None:
        """Arrow -> Spark DataFrame -> insertInto, in the table's column order and types."""
        target = self.spark.table(f"{self.schema}.{table}").schema
        columns = [
            rows.column(field.name)
            if field.name in rows.column_names
            else pa.nulls(rows.num_rows, pa.string())
            for field in target.fields
        ]
        frame = self.spark.createDataFrame(
            pa.table(columns, names=[field.name for field in target.fields])
        )
        frame = frame.select(
            *(frame[field.name].cast(field.dataType).alias(field.name) for field in target.fields)
        )
        frame.write.insertInto(f"{self.schema}.{table}")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        frame = self.spark.sql(sql, args=list(params)) if params else self.spark.sql(sql)
        return [tuple(row) for row in frame.collect()]

    def records(self, sql: str) -> list[dict[str, Any]]:
        return [row.asDict() for row in self.spark.sql(sql).collect()]

    def close(self) -> None:
        try:
            with database_errors(self.engine, "writing the raw tables"):
                self.flush()
        finally:
            self.spark.stop()


def _spark_ready(rows: pa.Table) -> pa.Table:
    """Microsecond timestamps; JSON objects (DuckDB's JSON type) and other text as strings."""
    columns = []
    for column in rows.columns:
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.timestamp("us"))
        elif not (pa.types.is_integer(column.type) or pa.types.is_boolean(column.type)):
            column = column.cast(pa.string())
        columns.append(column)
    return pa.table(columns, names=rows.column_names)


def connect(target: str) -> Warehouse:
    if target == "duckdb":
        return DuckDBWarehouse(duckdb_path(), raw_schema())
    if target == "postgres":
        return PostgresWarehouse(raw_schema())
    if target == "spark":
        return SparkWarehouse(raw_schema())
    raise ShoplensError(f"unknown target {target!r}: choose one of {', '.join(TARGETS)}")
