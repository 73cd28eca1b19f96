"""The loader against real warehouses: malformed lines, idempotency, formats, bad arguments.

Every expectation is written by hand from the lines each test builds.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import Warehouse
from shoplens import load as loader
from shoplens.errors import ShoplensError
from shoplens.warehouse import connect

R = 1_756_951_500_000  # received_at of the good lines, ms


def event(event_id: str, **extra: object) -> dict:
    row = {
        "event_id": event_id,
        "event": "page_view",
        "time": R - 500,
        "received_at": R,
        "anonymous_id": "oA1",
        "lib": {"name": "miniprogram", "version": "1.4.0"},
        "app_version": "3.2.1",
        "properties": {"page_path": "pages/index/index", "page_type": "home"},
    }
    row.update(extra)
    return row


# (line, expected rejection reason or None). Line numbers are 1-based positions in this list.
MIXED_LINES: list[tuple[str, str | None]] = [
    (json.dumps(event("e1")), None),
    (json.dumps(event("e2", user_id="M7")), None),
    ('{"event_id": "e3", "event": "page_view", ', "not valid JSON"),  # truncated
    ("this is not json", "not valid JSON"),
    ("", None),  # blank: carries no data, not counted
    ("[1, 2, 3]", "not a JSON object"),
    (
        json.dumps({k: v for k, v in event("e4").items() if k != "event_id"}),
        "missing required field: event_id",
    ),
    (
        json.dumps({k: v for k, v in event("e5").items() if k != "anonymous_id"}),
        "missing required field: anonymous_id",
    ),
    (json.dumps(event("e6", received_at=None)), "missing required field: received_at"),
    (
        json.dumps(event("e7", received_at="soon")),
        "invalid field received_at: expected an integer in [946684800000, 4102444800000]",
    ),
    (
        json.dumps(event("e8", properties=[1, 2])),
        "invalid field properties: expected a JSON object without duplicate keys",
    ),
    (json.dumps(event("e9", time="12:00")), "invalid field time: expected an integer"),
    (json.dumps(event("e10", properties={"page_path": "a\u0000b"})), "contains a NUL character"),
    (json.dumps(event("e11", time=None)), None),  # client time may be missing
]


def write_landing(
    root: Path,
    lines: list[str],
    table: str = "events",
    name: str = "part-0000.ndjson",
    dt: str = "2026-09-01",
) -> Path:
    folder = root / "landing" / table / f"dt={dt}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def load_into(wh: Warehouse, landing: Path, **kwargs: object) -> loader.BatchResult:
    target = connect(wh.engine)
    try:
        return loader.load(target, loader.discover(landing, **kwargs))
    finally:
        target.close()


def test_malformed_lines_are_quarantined_with_reasons_and_the_load_goes_on(
    use_warehouse: Warehouse, tmp_path: Path
) -> None:
    wh = use_warehouse
    path = write_landing(tmp_path, [line for line, _ in MIXED_LINES])
    batch = load_into(wh, tmp_path / "landing")

    expected_rejected = {n: reason for n, (_, reason) in enumerate(MIXED_LINES, 1) if reason}
    expected_loaded = {n for n, (line, reason) in enumerate(MIXED_LINES, 1) if line and not reason}
    assert len(expected_rejected) == 10 and expected_loaded == {1, 2, 14}

    (result,) = batch.files
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (13, 3, 10)
    rejected = dict(
        wh.query(
            f"select _line_number, reason from {wh.raw_schema}.rejected_rows order by _line_number"
        )
    )
    assert rejected == expected_rejected
    raw_lines = dict(wh.query(f"select _line_number, raw_line from {wh.raw_schema}.rejected_rows"))
    assert raw_lines[4] == "this is not json"
    loaded = wh.query(
        f"select _line_number, event_id, event_name, client_time_ms, received_at_ms, user_id, "
        f"lib_name, _source_file from {wh.raw_schema}.events order by _line_number"
    )
    assert loaded == [
        (1, "e1", "page_view", R - 500, R, None, "miniprogram", str(path)),
        (2, "e2", "page_view", R - 500, R, "M7", "miniprogram", str(path)),
        (14, "e11", "page_view", None, R, None, "miniprogram", str(path)),
    ]
    manifest = wh.query(
        f"select table_name, rows_read, rows_loaded, rows_rejected, file_format "
        f"from {wh.raw_schema}.load_files"
    )
    assert manifest == [("events", 13, 3, 10, "ndjson")]


def test_loading_the_same_file_twice_does_not_duplicate_it(
    use_warehouse: Warehouse, tmp_path: Path
) -> None:
    wh = use_warehouse
    path = write_landing(tmp_path, [json.dumps(event("e1")), json.dumps(event("e2"))])
    first = load_into(wh, tmp_path / "landing")
    second = load_into(wh, tmp_path / "landing")
    assert (first.rows_loaded, second.rows_loaded) == (2, 0)
    assert second.files[0].skipped_batch == first.batch_id

    # The same bytes under another name are the same file.
    shutil.copy(path, path.with_name("part-0001.ndjson"))
    third = load_into(wh, tmp_path / "landing")
    assert third.rows_loaded == 0 and third.files_skipped == 2
    assert wh.scalar(f"select count(*) from {wh.raw_schema}.events") == 2

    # A changed file is new data: a retry of e2 plus e3 (staging dedupes e2 later).
    write_landing(
        tmp_path, [json.dumps(event("e2")), json.dumps(event("e3"))], name="part-0002.ndjson"
    )
    fourth = load_into(wh, tmp_path / "landing")
    assert fourth.rows_loaded == 2
    assert wh.scalar(f"select count(*) from {wh.raw_schema}.events") == 4
    assert wh.scalar(f"select count(distinct _batch_id) from {wh.raw_schema}.events") == 2


def test_gzip_and_parquet_load_like_ndjson(use_warehouse: Warehouse, tmp_path: Path) -> None:
    wh = use_warehouse
    folder = tmp_path / "landing" / "events" / "dt=2026-09-01"
    folder.mkdir(parents=True)
    with gzip.open(folder / "part-0000.ndjson.gz", "wt", encoding="utf-8") as handle:
        handle.write(json.dumps(event("g1")) + "\n")
    # Parquet: flat lib_name / lib_version, properties as a JSON string; row 2 lacks event_id.
    pq.write_table(
        pa.table(
            {
                "event_id": ["p1", None],
                "event": ["page_view", "page_view"],
                "time": [R - 10, R - 10],
                "received_at": [R, R],
                "anonymous_id": ["oP", "oP"],
                "user_id": [None, None],
                "lib_name": ["miniprogram", "miniprogram"],
                "lib_version": ["1.4.0", "1.4.0"],
                "app_version": ["3.2.1", "3.2.1"],
                "properties": ['{"page_path": "p", "page_type": "home"}', "{}"],
            }
        ),
        folder / "part-0001.parquet",
    )
    batch = load_into(wh, tmp_path / "landing")
    assert (batch.rows_read, batch.rows_loaded, batch.rows_rejected) == (3, 2, 1)
    rows = wh.query(
        f"select event_id, lib_name, client_time_ms from {wh.raw_schema}.events order by event_id"
    )
    assert rows == [("g1", "miniprogram", R - 500), ("p1", "miniprogram", R - 10)]
    assert wh.query(f"select _line_number, reason from {wh.raw_schema}.rejected_rows") == [
        (2, "missing required field: event_id")
    ]
    props = wh.scalar(f"select properties from {wh.raw_schema}.events where event_id = 'p1'")
    assert (json.loads(props) if isinstance(props, str) else props) == {
        "page_path": "p",
        "page_type": "home",
    }


def test_backend_rows_are_typed_and_bad_values_rejected(
    use_warehouse: Warehouse, tmp_path: Path
) -> None:
    wh = use_warehouse
    good = {
        "order_id": "O1",
        "user_id": "M1",
        "created_at": "2026-09-01T04:00:00.250Z",
        "updated_at": "2026-09-01T12:00:00+08:00",
        "status": "paid",
        "item_amount_fen": 3980,
        "discount_fen": 500,
        "shipping_fen": 0,
        "payable_fen": 3480,
    }
    write_landing(
        tmp_path,
        [
            json.dumps(good),
            json.dumps({**good, "order_id": "O2", "created_at": "yesterday"}),
            json.dumps({**good, "order_id": "O3", "payable_fen": "a lot"}),
            json.dumps({k: v for k, v in good.items() if k != "status"} | {"order_id": "O4"}),
        ],
        table="orders",
    )
    batch = load_into(wh, tmp_path / "landing")
    assert (batch.rows_loaded, batch.rows_rejected) == (1, 3)
    assert wh.query(
        f"select _line_number, reason from {wh.raw_schema}.rejected_rows order by _line_number"
    ) == [
        (2, "invalid field created_at: expected an ISO-8601 timestamp with an offset (Z, +08:00)"),
        (3, "invalid field payable_fen: expected an integer"),
        (4, "missing required field: status"),
    ]
    created, updated, payable = wh.query(
        f"select cast(created_at as varchar), cast(updated_at as varchar), payable_fen "
        f"from {wh.raw_schema}.orders"
    )[0]
    # Stored in UTC: 12:00 at +08:00 is 04:00 UTC.
    assert created.startswith("2026-09-01 04:00:00.25")
    assert updated == "2026-09-01 04:00:00"
    assert payable == 3480


def test_invalid_utf8_is_rejected_not_crashed(use_warehouse: Warehouse, tmp_path: Path) -> None:
    wh = use_warehouse
    path = write_landing(tmp_path, [json.dumps(event("u1"))])
    path.write_bytes(path.read_bytes() + b'{"event_id": "u2", "bad": "\xff\xfe"}\n')
    batch = load_into(wh, tmp_path / "landing")
    assert (batch.rows_loaded, batch.rows_rejected) == (1, 1)
    assert wh.query(f"select _line_number, reason from {wh.raw_schema}.rejected_rows") == [
        (2, "not valid UTF-8")
    ]


def test_discover_explains_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ShoplensError, match="landing folder not found"):
        loader.discover(tmp_path / "nope")
    write_landing(tmp_path, ["{}"])
    with pytest.raises(ShoplensError, match="is ndjson, but --format parquet was given"):
        loader.discover(tmp_path / "landing", file_format="parquet")
    (tmp_path / "landing" / "events" / "dt=2026-09-01" / "notes.txt").write_text("hi")
    with pytest.raises(ShoplensError, match="unrecognised file type"):
        loader.discover(tmp_path / "landing")
    with pytest.raises(ShoplensError, match="unknown table 'evnts'"):
        loader.discover(tmp_path / "landing", table="evnts")
    other = tmp_path / "elsewhere"
    (other / "clicks").mkdir(parents=True)
    with pytest.raises(ShoplensError, match="has no raw-table folders"):
        loader.discover(other)


def run_cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None):
    import os

    from conftest import run_command

    return run_command(
        "shoplens",
        *args,
        env={**os.environ, "SHOPLENS_DUCKDB_PATH": str(tmp_path / "w.duckdb"), **(env or {})},
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["load", "MISSING_DIR"], {}, "error: landing folder not found: MISSING_DIR"),
        (["load", "LANDING", "--format", "parquet"], {}, "but --format parquet was given"),
        (["load", "CORRUPT"], {}, "is not a readable Parquet file"),
        (
            ["load", "LANDING", "--target", "postgres"],
            {"PGPORT": "1", "PGPASSWORD": "s3cret-do-not-print"},
            "error: cannot connect to PostgreSQL at 127.0.0.1:1",
        ),
    ],
)
def test_cli_errors_are_one_line_without_traceback(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    write_landing(tmp_path, [json.dumps(event("e1"))])
    corrupt = tmp_path / "corrupt" / "events"
    corrupt.mkdir(parents=True)
    (corrupt / "part-0000.parquet").write_bytes(b"PAR1 this is not parquet")
    places = {
        "LANDING": str(tmp_path / "landing"),
        "MISSING_DIR": str(tmp_path / "missing"),
        "CORRUPT": str(tmp_path / "corrupt"),
    }
    args = [places.get(a, a) for a in args]
    result = run_cli(tmp_path, *args, env=env)
    expected = message.replace("MISSING_DIR", places["MISSING_DIR"])
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert "s3cret" not in result.stderr + result.stdout


def test_cli_load_prints_the_accounting_line(tmp_path: Path) -> None:
    write_landing(tmp_path, [line for line, _ in MIXED_LINES])
    result = run_cli(tmp_path, "load", str(tmp_path / "landing"))
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert "read 13 = loaded 3 + rejected 10 (1 file(s))" in last


RANGE = "invalid field received_at: expected an integer in [946684800000, 4102444800000]"
EDGE_CASES: list[tuple[str, str | None]] = [
    (json.dumps(event("x1", time=1.5)), "invalid field time: expected an integer"),
    (json.dumps(event("x2", time=1756951500000.0)), "invalid field time: expected an integer"),
    (json.dumps(event("x3", received_at=R * 1_000_000)), RANGE),  # nanoseconds
    (json.dumps(event("x4", received_at=123)), RANGE),  # seconds since 1970, not ms
    (json.dumps(event("x5", user_id={"id": 1})), "invalid field user_id: expected a string"),
    (json.dumps({**event("x6"), "event": ["a"]}), "invalid field event: expected a string"),
    (
        f'{{"event_id": "x7", "event": "page_view", "received_at": {R}, "anonymous_id": "o", '
        '"properties": {"quantity": 1, "quantity": 2}}',
        "invalid field properties: expected a JSON object without duplicate keys",
    ),
    (json.dumps(event("x8", time=str(R))), None),  # an integer as a digit string is accepted
    (json.dumps(event("x9", user_id=12345)), None),  # a numeric member id is a string id
    ("\t \r", None),  # whitespace only: blank
]


def test_wrong_types_and_out_of_range_values_are_rejected(
    use_warehouse: Warehouse, tmp_path: Path
) -> None:
    wh = use_warehouse
    cases = EDGE_CASES
    write_landing(tmp_path, [line for line, _ in cases])
    batch = load_into(wh, tmp_path / "landing")
    expected = {n: reason for n, (_, reason) in enumerate(cases, 1) if reason}
    assert (batch.rows_read, batch.rows_loaded, batch.rows_rejected) == (9, 2, 7)
    assert (
        dict(wh.query(f"select _line_number, reason from {wh.raw_schema}.rejected_rows"))
        == expected
    )
    assert sorted(
        wh.query(f"select event_id, client_time_ms, user_id from {wh.raw_schema}.events")
    ) == [("x8", R, None), ("x9", R - 500, "12345")]


def test_byte_order_mark_and_naive_timestamps(use_warehouse: Warehouse, tmp_path: Path) -> None:
    wh = use_warehouse
    path = write_landing(tmp_path, [json.dumps(event("b1")), json.dumps(event("b2"))])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    order = {
        "order_id": "O1",
        "user_id": "M1",
        "created_at": "2026-09-01 12:00:00",
        "status": "paid",
    }
    write_landing(tmp_path, [json.dumps(order)], table="orders")
    batch = load_into(wh, tmp_path / "landing")
    assert (batch.rows_loaded, batch.rows_rejected) == (2, 1)
    # Local time without an offset is ambiguous (UTC? Asia/Shanghai?): quarantined, not guessed.
    assert wh.query(f"select table_name, reason from {wh.raw_schema}.rejected_rows") == [
        (
            "orders",
            "invalid field created_at: expected an ISO-8601 timestamp with an offset (Z, +08:00)",
        )
    ]


def test_corrupt_gzip_is_a_one_line_error(tmp_path: Path) -> None:
    folder = tmp_path / "landing" / "events" / "dt=2026-09-01"
    folder.mkdir(parents=True)
    data = bytearray(gzip.compress((json.dumps(event("z1")) + "\n").encode() * 50))
    data[len(data) // 2] ^= 0xFF
    (folder / "part-0000.ndjson.gz").write_bytes(bytes(data))
    result = run_cli(tmp_path, "load", str(tmp_path / "landing"))
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot read ")
    assert "Traceback" not in result.stderr


def test_postgres_role_without_create_privilege_gets_a_one_line_error(
    postgres_available: None, tmp_path: Path
) -> None:
    import psycopg2

    from shoplens.warehouse import postgres_settings

    role = f"shoplens_t_{tmp_path.name[-8:].replace('-', '_').lower()}"
    with psycopg2.connect(**postgres_settings()) as con, con.cursor() as cur:
        con.autocommit = True
        cur.execute(f"drop role if exists {role}")
        cur.execute(f"create role {role} login")
    try:
        write_landing(tmp_path, [json.dumps(event("p1"))])
        result = run_cli(
            tmp_path,
            "load",
            str(tmp_path / "landing"),
            "--target",
            "postgres",
            env={"PGUSER": role, "SHOPLENS_RAW_SCHEMA": f"{role}_raw"},
        )
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.startswith("error: postgres refused preparing the raw tables: ")
        assert "permission denied" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        with psycopg2.connect(**postgres_settings()) as con, con.cursor() as cur:
            con.autocommit = True
            cur.execute(f"drop role if exists {role}")
