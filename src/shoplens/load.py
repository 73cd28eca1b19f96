"""`shoplens load`: append landing files to the `raw` tables of DuckDB or PostgreSQL.

Every file is parsed and validated once, in an in-memory DuckDB, the same way for both
targets; valid rows then go to the target in bulk (DuckDB: insert from Arrow; PostgreSQL:
COPY). Per file, in one transaction:

- rows that are not valid JSON objects, lack a required field, or hold a value of the wrong
  type go to `raw.rejected_rows` with the reason; the load goes on;
- a manifest row in `raw.load_files` records read / loaded / rejected counts and the file's
  SHA-256, so loading the same file again (even renamed) is skipped.

Every file of one invocation shares one batch id; each file's rows get their own `_loaded_at`,
stamped just before they are written, so `_loaded_at` follows commit order.
Blank lines carry no data and are not counted.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shoplens import contract
from shoplens.errors import ShoplensError
from shoplens.warehouse import Warehouse, database_errors


@dataclass(frozen=True)
class LandingFile:
    table: str
    path: Path
    file_format: str


@dataclass
class FileResult:
    file: LandingFile
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    skipped_batch: str | None = None  # set when the file was already loaded by that batch
    rejection_reasons: Counter[str] = field(default_factory=Counter)


@dataclass
class BatchResult:
    batch_id: str
    started_at: datetime  # when the invocation began (rows carry their file's _loaded_at)
    files: list[FileResult]

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def files_skipped(self) -> int:
        return sum(1 for f in self.files if f.skipped_batch)


def file_format_of(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(contract.NDJSON_SUFFIXES):
        return "ndjson"
    if name.endswith(contract.PARQUET_SUFFIXES):
        return "parquet"
    return None


def discover(
    landing: Path,
    tables: Iterable[str] | None = None,
    file_format: str | None = None,
    table: str | None = None,
) -> list[LandingFile]:
    """The landing files to load, in a stable order (table, then path).

    `landing` is the landing folder (one sub-folder per raw table), or a single file when
    `table` names its raw table.
    """
    if file_format is not None and file_format not in contract.FILE_FORMATS:
        raise ShoplensError(
            f"unknown format {file_format!r}: choose one of {', '.join(contract.FILE_FORMATS)}"
        )
    if table is not None and table not in contract.TABLES:
        raise ShoplensError(f"unknown table {table!r}: choose one of {', '.join(contract.TABLES)}")
    if not landing.exists():
        raise ShoplensError(f"landing folder not found: {landing}")
    if landing.is_file():
        if table is None:
            raise ShoplensError(f"{landing} is a file: name its raw table with --table")
        return [_landing_file(table, landing, file_format)]
    if table is not None:
        wanted = [table]
    else:
        wanted = list(tables) if tables is not None else list(contract.TABLES)
    unknown_dirs = sorted(
        p.name
        for p in landing.iterdir()
        if p.is_dir() and p.name not in contract.TABLES and not p.name.startswith(".")
    )
    if unknown_dirs and not any((landing / t).is_dir() for t in contract.TABLES):
        raise ShoplensError(
            f"{landing} has no raw-table folders (expected some of: {', '.join(contract.TABLES)}; "
            f"found: {', '.join(unknown_dirs)})"
        )
    files = []
    for name in wanted:
        folder = landing / name
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            if path.name.startswith((".", "_")):  # _SUCCESS markers, hidden files
                continue
            files.append(_landing_file(name, path, file_format))
    return files


def _landing_file(table: str, path: Path, file_format: str | None) -> LandingFile:
    detected = file_format_of(path)
    if detected is None:
        raise ShoplensError(
            f"unrecognised file type: {path} (expected .ndjson, .jsonl, .json, optionally .gz, "
            "or .parquet)"
        )
    if file_format is not None and detected != file_format:
        raise ShoplensError(f"{path} is {detected}, but --format {file_format} was given")
    return LandingFile(table, path, detected)


def new_batch_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def load(
    warehouse: Warehouse,
    files: list[LandingFile],
    on_file: Callable[[FileResult], None] | None = None,
) -> BatchResult:
    """Load `files` as one batch. `on_file` is called after each file (for progress output).

    Each file is one transaction, and its rows' `_loaded_at` is stamped just before it is
    written, so `_loaded_at` follows commit order (incremental staging relies on it).
    """
    started = _now()
    batch = BatchResult(new_batch_id(started), started, [])
    parser = duckdb.connect()
    parser.execute("set TimeZone = 'UTC'")
    try:
        with database_errors(warehouse.engine, "preparing the raw tables"):
            warehouse.ensure_raw_tables()
        for landing_file in files:
            with database_errors(warehouse.engine, f"loading {landing_file.path}"):
                result = _load_file(warehouse, parser, landing_file, batch)
            batch.files.append(result)
            if on_file:
                on_file(result)
    finally:
        parser.close()
    return batch


def _load_file(
    warehouse: Warehouse,
    parser: duckdb.DuckDBPyConnection,
    landing_file: LandingFile,
    batch: BatchResult,
) -> FileResult:
    result = FileResult(landing_file)
    data = _read_bytes(landing_file.path)
    digest = hashlib.sha256(data).hexdigest()
    previous = warehouse.loaded_batch_of(landing_file.table, digest)
    if previous is not None:
        result.skipped_batch = previous
        return result
    spec = contract.TABLES[landing_file.table]
    lines = _lines_of(parser, landing_file, data)
    valid, rejected = _validate(parser, spec, lines, landing_file.file_format)
    source_file = str(landing_file.path)
    loaded_at = _now()
    load_values = {
        "_batch_id": batch.batch_id,
        "_source_file": source_file,
        "_loaded_at": loaded_at,
    }
    valid = _with_constants(valid, load_values)
    rejected = _with_constants(rejected, {"table_name": landing_file.table, **load_values})
    result.rows_loaded = valid.num_rows
    result.rows_rejected = rejected.num_rows
    result.rows_read = result.rows_loaded + result.rows_rejected
    if result.rows_read != lines.num_rows:  # the validation must classify every line
        raise AssertionError(f"{source_file}: {lines.num_rows} lines but {result.rows_read} rows")
    result.rejection_reasons.update(rejected.column("reason").to_pylist())
    manifest = pa.table(
        {
            "batch_id": [batch.batch_id],
            "table_name": [landing_file.table],
            "source_file": [source_file],
            "file_sha256": [digest],
            "file_format": [landing_file.file_format],
            "file_bytes": pa.array([len(data)], pa.int64()),
            "rows_read": pa.array([result.rows_read], pa.int64()),
            "rows_loaded": pa.array([result.rows_loaded], pa.int64()),
            "rows_rejected": pa.array([result.rows_rejected], pa.int64()),
            "loaded_at": pa.array([loaded_at], pa.timestamp("us")),
        }
    )
    with warehouse.transaction():
        warehouse.append(landing_file.table, valid)
        warehouse.append(contract.REJECTED_TABLE, rejected)
        warehouse.append(contract.LOAD_FILES_TABLE, manifest)
    return result


def _read_bytes(path: Path) -> bytes:
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise ShoplensError(f"cannot read {path}: {exc}") from None


def _lines_of(
    parser: duckdb.DuckDBPyConnection, landing_file: LandingFile, data: bytes
) -> pa.Table:
    """(line_number, line) for every non-blank line; Parquet rows become JSON objects."""
    if landing_file.file_format == "parquet":
        return _parquet_rows_as_json(parser, landing_file.path)
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark is not part of line 1
        data = data[3:]
    # Split on newlines without copying: each line is a slice of `data` (trailing \n kept,
    # trimmed in SQL).
    buffer = np.frombuffer(data, dtype=np.uint8)
    starts = np.concatenate(([0], np.flatnonzero(buffer == 10) + 1)).astype(np.int64)
    offsets = np.concatenate((starts, [len(data)])).astype(np.int64)
    lines = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(starts), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    numbers = pa.array(np.arange(1, len(starts) + 1, dtype=np.int64))
    table = pa.table({"line_number": numbers, "line_bytes": lines})
    parser.register("_raw_lines", table)
    try:
        return parser.sql(
            """
            select line_number, line, line_bytes
            from (
                select
                    line_number,
                    line_bytes,
                    rtrim(try(decode(line_bytes)), chr(10) || chr(13)) as line
                from _raw_lines
            )
            where line is null or not regexp_full_match(line, '[ \\t\\n\\v\\f\\r]*')
            order by line_number
            """
        ).to_arrow_table()
    finally:
        parser.unregister("_raw_lines")


def _parquet_rows_as_json(parser: duckdb.DuckDBPyConnection, path: Path) -> pa.Table:
    try:
        literal = "'" + str(path).replace("'", "''") + "'"
        return parser.sql(
            f"""
            with parquet_rows as (select * from read_parquet({literal}, file_row_number = true))
            select
                file_row_number + 1 as line_number,
                to_json(parquet_rows)::varchar as line,
                null::blob as line_bytes
            from parquet_rows
            order by line_number
            """,
        ).to_arrow_table()
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        raise ShoplensError(f"{path} is not a readable Parquet file: {message}") from None


def _structure(spec: contract.RawTable, file_format: str) -> tuple[str, dict[str, str]]:
    """A json_transform structure reading every contract column as JSON (so its JSON type can
    be checked), and the SQL expression of each column's value inside the parsed struct."""
    tree: dict = {}
    accessors = {}
    for column in spec.columns:
        path = column.json_path.split(".") if file_format == "ndjson" else [column.parquet_name]
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = "JSON"
        accessors[column.name] = "parsed" + "".join(f"['{key}']" for key in path)
    return json.dumps(tree), accessors


# ISO-8601 with an explicit offset: Z, +08, +0800 or +08:00 at the end.
_OFFSET_PATTERN = "(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"


def _typed_value(column: contract.Column, field: str) -> tuple[str, str]:
    """SQL for (the typed value or NULL when it has the wrong JSON type, why it is invalid)."""
    kind, text = f"json_type({field})", f"({field} ->> '$')"
    # DuckDB tags non-negative integers UBIGINT, negative ones BIGINT; try_cast checks the range.
    integral = (
        f"({kind} in ('BIGINT', 'UBIGINT') "
        f"or ({kind} = 'VARCHAR' and regexp_full_match({text}, '-?[0-9]+')))"
    )
    if column.type == contract.STRING:
        return f"case when {kind} in ('VARCHAR', 'BIGINT', 'UBIGINT') then {text} end", "a string"
    if column.type in (contract.BIGINT, contract.INTEGER):
        sql_type = "bigint" if column.type == contract.BIGINT else "integer"
        value = f"case when {integral} then try_cast({text} as {sql_type}) end"
        if column.bounds:
            low, high = column.bounds
            value = f"case when ({value}) between {low} and {high} then ({value}) end"
            return value, f"an integer in [{low}, {high}]"
        return value, "an integer"
    if column.type == contract.BOOLEAN:
        value = (
            f"case when {kind} = 'BOOLEAN' or ({kind} = 'VARCHAR' and lower({text}) in "
            f"('true', 'false')) then cast({text} as boolean) end"
        )
        return value, "true or false"
    if column.type == contract.TIMESTAMP:
        value = (
            f"case when {kind} = 'VARCHAR' and regexp_matches({text}, '{_OFFSET_PATTERN}') "
            f"then cast(try_cast({text} as timestamptz) as timestamp) end"
        )
        return value, "an ISO-8601 timestamp with an offset (Z, +08:00)"
    # JSON: an object, or (Parquet) a string holding an object; no duplicate keys, which the
    # engines would resolve differently.
    as_object = (
        f"case when {kind} = 'OBJECT' then {field} when {kind} = 'VARCHAR' "
        f"and try(json_type({text})) = 'OBJECT' then json({text}) end"
    )
    value = (
        f"case when len(json_keys({as_object})) = len(list_distinct(json_keys({as_object}))) "
        f"then {as_object} end"
    )
    return value, "a JSON object without duplicate keys"


def _validate(
    parser: duckdb.DuckDBPyConnection, spec: contract.RawTable, lines: pa.Table, file_format: str
) -> tuple[pa.Table, pa.Table]:
    """Split lines into typed valid rows and rejected rows with their reason."""
    structure, accessors = _structure(spec, file_format)
    typed, problems = [], []
    for column in spec.columns:
        field = accessors[column.name]
        label = column.json_path if file_format == "ndjson" else column.parquet_name
        value, expected = _typed_value(column, field)
        present = f"(coalesce(json_type({field}), 'NULL') <> 'NULL')"
        typed.append(f"{value} as {column.name}")
        if column.required:
            problems.append(f"when not {present} then 'missing required field: {label}'")
        problems.append(
            f"when {present} and ({value}) is null "
            f"then 'invalid field {label}: expected {expected}'"
        )
    parser.register("_lines", lines)
    try:
        checked = parser.sql(
            f"""
            with typed_lines as (
                select line_number, line, line_bytes, try(json_type(line)) as line_type
                from _lines
            ),
            parsed_lines as (
                select
                    line_number, line, line_bytes, line_type,
                    case when line_type = 'OBJECT'
                        then json_transform(line, '{structure}') end as parsed
                from typed_lines
            )
            select
                line_number,
                coalesce(line, '') as line,
                line_bytes,
                case
                    when line is null then 'not valid UTF-8'
                    when contains(line, chr(0)) or contains(line, '\\u0000')
                        then 'contains a NUL character'
                    when line_type is null then 'not valid JSON'
                    when line_type <> 'OBJECT' then 'not a JSON object'
                    {" ".join(problems)}
                end as reason,
                {", ".join(typed)}
            from parsed_lines
            """
        ).to_arrow_table()
    finally:
        parser.unregister("_lines")
    reasons = checked.column("reason")
    is_rejected = reasons.is_valid()
    valid = checked.filter(pc.invert(is_rejected)).drop_columns(["line", "line_bytes", "reason"])
    rejected_rows = checked.filter(is_rejected)
    raw_line = [
        line if line_bytes is None or line else line_bytes.decode("utf-8", "replace")
        for line, line_bytes in zip(
            rejected_rows.column("line").to_pylist(),
            rejected_rows.column("line_bytes").to_pylist(),
            strict=True,
        )
    ]
    rejected = pa.table(
        {
            "_line_number": rejected_rows.column("line_number"),
            "raw_line": pa.array(
                [line.replace("\x00", "\\u0000") for line in raw_line], pa.string()
            ),
            "reason": rejected_rows.column("reason").cast(pa.string()),
        }
    )
    valid = valid.rename_columns(
        ["_line_number" if name == "line_number" else name for name in valid.column_names]
    )
    return valid, rejected


def _with_constants(table: pa.Table, values: dict[str, object]) -> pa.Table:
    for name, value in values.items():
        scalar = pa.scalar(
            value, pa.timestamp("us") if isinstance(value, datetime) else pa.string()
        )
        table = table.append_column(name, pa.repeat(scalar, table.num_rows))
    return table
