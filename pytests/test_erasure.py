"""Erasure (`shoplens forget`) and raw retention (`shoplens purge`) on each engine, over a small
generated shop. The person and their contribution come from the landing files and from the
facts filtered by their hashes before the erasure; afterwards no table of the warehouse, raw or
derived (the audit included), holds their ids, phone or hashes."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import Warehouse, run_command
from shoplens.generate import GeneratorConfig, generate
from test_pipeline import BOOKKEEPING_COLUMNS, _valid

DEMO_SALT = "shoplens-demo-salt-not-secret"
START = date(2026, 9, 1)
DAYS = 4


def h(value: str) -> str:
    return hashlib.sha256((DEMO_SALT + value).encode()).hexdigest()


@dataclass
class Person:
    """A member as the landing files show them."""

    user_id: str
    devices: set[str] = field(default_factory=set)
    phone: str | None = None
    orders: set[str] = field(default_factory=set)
    shared_by_others: int = 0  # other people's event lines naming them as share_user_id
    last_received_ms: int = 0
    event_lines: int = 0  # loaded raw rows (valid lines) of their devices

    @property
    def raw_ids(self) -> set[str]:
        return {self.user_id, *self.devices, *([self.phone] if self.phone else [])}

    @property
    def needles(self) -> set[str]:
        """What must not be anywhere after the erasure: ids, phone and their salted hashes."""
        return self.raw_ids | {h(v) for v in self.raw_ids}

    @property
    def person_ids(self) -> list[str]:
        return sorted({h(self.user_id), *(h(d) for d in self.devices)})


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("erasure") / "landing"
    generate(
        GeneratorConfig(
            out_dir=out,
            users=400,
            days=DAYS,
            start_date=START,
            seed=10,  # has a member with two devices, orders and a phone
            purchase_multiplier=3.0,
            malformed_rate=0.01,  # quarantined lines, some holding a person's ids
        )
    )
    return out


def _lines(landing: Path, table: str) -> list[str]:
    return [
        line
        for path in sorted((landing / table).rglob("*.ndjson"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def read_people(landing: Path) -> dict[str, Person]:
    people: dict[str, Person] = {}
    events = _loaded(landing)
    for obj in events:
        if obj.get("user_id"):
            person = people.setdefault(obj["user_id"], Person(obj["user_id"]))
            person.devices.add(obj["anonymous_id"])
    device_owner = {d: p for p in people.values() for d in p.devices}
    for obj in events:
        owner = device_owner.get(obj["anonymous_id"])
        if owner is not None:
            owner.event_lines += 1
            owner.last_received_ms = max(owner.last_received_ms, obj["received_at"])
    for line in _lines(landing, "users"):
        obj = json.loads(line)
        if obj["user_id"] in people:
            people[obj["user_id"]].phone = obj.get("phone")
    for line in _lines(landing, "orders"):
        obj = json.loads(line)
        if obj["user_id"] in people:
            people[obj["user_id"]].orders.add(obj["order_id"])
    for line in _lines(landing, "events"):
        for user_id in re.findall(r'"share_user_id":"(M\d+)"', line):
            if user_id in people and not any(d in line for d in people[user_id].devices):
                people[user_id].shared_by_others += 1
    return people


def scan(wh: Warehouse, needles: set[str]) -> list[str]:
    """schema.table.column of every value, in every table and view of this warehouse's schemas,
    that contains one of the needles."""
    columns = wh.query(
        "select table_schema, table_name, column_name from information_schema.columns "
        f"where table_schema like '{wh.schema}%' order by 1, 2, 3"
    )
    per_table: dict[tuple[str, str], list[str]] = defaultdict(list)
    for schema, table, column in columns:
        per_table[(schema, table)].append(column)
    assert len(per_table) > 60, "expected every layer of the project in the scan"
    hits = []
    for (schema, table), names in per_table.items():
        checks = ", ".join(
            "sum(case when "
            + " or ".join(f"position('{n}' in cast({c} as varchar)) > 0" for n in sorted(needles))
            + " then 1 else 0 end)"
            for c in names
        )
        (row,) = wh.query(f"select {checks} from {schema}.{table}")
        hits += [f"{schema}.{table}.{c}" for c, n in zip(names, row, strict=True) if n]
    return hits


def daily_totals(wh: Warehouse) -> dict[tuple[str, date], tuple]:
    marts = f"{wh.schema}_marts"
    totals: dict[tuple[str, date], tuple] = {}
    for day, pv, uv, sessions in wh.query(
        f"select metric_date, pv, uv, sessions from {marts}.agg_traffic__daily"
    ):
        totals[("traffic", day)] = (pv, uv, sessions)
    for day, gmv, orders in wh.query(
        f"select metric_date, gmv_yuan, orders from {marts}.agg_transaction__daily"
    ):
        totals[("transaction", day)] = (Decimal(gmv or 0), orders)
    return totals


def contribution(wh: Warehouse, people: list[Person]) -> dict[tuple[str, date], tuple]:
    """The people's share of daily_totals, from their own rows of the facts."""
    marts = f"{wh.schema}_marts"
    ids = ", ".join(f"'{i}'" for p in people for i in p.person_ids)
    share: dict[tuple[str, date], list] = defaultdict(lambda: [0, 0, 0])
    for day, pv, persons in wh.query(
        f"select view_date, count(*), count(distinct person_id) from {marts}.fct_page_views "
        f"where person_id in ({ids}) group by view_date"
    ):
        share[("traffic", day)][0] += pv
        share[("traffic", day)][1] += persons
    for day, sessions in wh.query(
        f"select session_date, count(*) from {marts}.fct_sessions "
        f"where person_id in ({ids}) group by session_date"
    ):
        share[("traffic", day)][2] += sessions
    money: dict[tuple[str, date], list] = defaultdict(lambda: [Decimal(0), 0])
    for day, gmv, orders in wh.query(
        f"select paid_date, sum(payable_yuan), count(*) from {marts}.fct_orders "
        f"where is_paid and person_id in ({ids}) group by paid_date"
    ):
        money[("transaction", day)] = [Decimal(gmv), orders]
    return {k: tuple(v) for k, v in share.items()} | {k: tuple(v) for k, v in money.items()}


def subtract(totals: dict, share: dict) -> dict:
    """totals - share per day, zero tuples for days the share does not touch."""
    expected = {}
    for key, values in totals.items():
        minus = share.get(key, tuple(0 for _ in values))
        expected[key] = tuple(a - b for a, b in zip(values, minus, strict=True))
    return expected


def snapshot(wh: Warehouse, layers: tuple[str, ...] = ("intermediate", "marts")) -> dict:
    """Every row of the derived tables, without the columns that only record when a run computed
    a row (test_pipeline.BOOKKEEPING_COLUMNS: a run may recompute rows without changing them)."""
    schemas = ", ".join(f"'{wh.schema}_{layer}'" for layer in layers)
    tables = wh.query(
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema in ({schemas})"
    )
    result = {}
    for schema, table in tables:
        columns = [
            name
            for (name,) in wh.query(
                "select column_name from information_schema.columns "
                f"where table_schema = '{schema}' and table_name = '{table}' order by column_name"
            )
            if name not in BOOKKEEPING_COLUMNS
        ]
        result[f"{schema}.{table}"] = sorted(
            (
                tuple(round(v, 9) if isinstance(v, float) else v for v in row)
                for row in wh.query(f"select {', '.join(columns)} from {schema}.{table}")
            ),
            key=repr,
        )
    return result


def forget(wh: Warehouse, *args: str) -> str:
    return wh.run("shoplens", "forget", *args, "--target", wh.engine).stdout


def test_forget_erases_a_person_everywhere_and_purge_keeps_the_marts(
    warehouse: Warehouse, shop: Path
) -> None:
    wh = warehouse
    raw = wh.raw_schema
    people = read_people(shop)
    ranked = sorted(
        people.values(),
        key=lambda p: (len(p.devices) >= 2, bool(p.orders), bool(p.phone), p.user_id),
        reverse=True,
    )
    p1 = ranked[0]  # two devices, orders and a phone
    assert len(p1.devices) >= 2 and p1.orders and p1.phone
    p2 = next(p for p in ranked if p.shared_by_others and p.orders and p is not p1)
    wh.run("shoplens", "load", str(shop), "--target", wh.engine)
    wh.dbt("build")

    # (a) Erasure. Their contribution, from their own rows, before.
    before = daily_totals(wh)
    share = contribution(wh, [p1, p2])
    assert any(k[0] == "transaction" for k in share) and any(k[0] == "traffic" for k in share)
    assert scan(wh, p1.needles) and scan(wh, p2.needles)
    rejected_before = wh.scalar(f"select count(*) from {raw}.rejected_rows")

    printed = forget(wh, "--user-id", p1.user_id, "--request-id", "DSR-2026-0042")
    assert "erasure" in printed and p1.user_id not in printed
    forget(wh, "--user-id", p2.user_id)

    assert scan(wh, p1.needles | p2.needles) == []
    assert daily_totals(wh) == subtract(before, share)
    # The raw rows they had, counted from the landing files, are what the audit reports.
    audit = dict(
        wh.query(
            f"select raw_table, sum(rows_deleted) from {raw}.deletion_counts "
            f"where table_name = 'events' group by raw_table"
        )
    )
    assert audit == {"events": p1.event_lines + p2.event_lines}
    rejected = rejected_before - wh.scalar(f"select count(*) from {raw}.rejected_rows")
    assert rejected == wh.scalar(
        f"select sum(rows_deleted) from {raw}.deletion_counts where table_name = 'rejected_rows'"
    )
    assert wh.query(
        f"select kind, identifier_kind, request_id, is_rebuilt from {raw}.deletions "
        "order by deleted_at"
    ) == [("erasure", "user_id", "DSR-2026-0042", True), ("erasure", "user_id", None, True)]
    # Other people's events that named p2 as the sharer are kept, without the reference.
    assert (
        wh.scalar(
            f"select count(*) from {raw}.events where cast(properties as varchar) "
            "like '%\"share_user_id\":null%'"
        )
        >= p2.shared_by_others
    )
    wh.dbt("build")  # every data test still passes, load accounting included
    after = snapshot(wh)

    # A second run finds nothing, changes nothing and records zero counts.
    assert "nothing to erase" in forget(wh, "--user-id", p1.user_id)
    assert snapshot(wh) == after
    assert wh.query(
        f"select raw_rows_deleted, derived_rows_deleted, rows_redacted from {raw}.deletions "
        "order by deleted_at desc limit 1"
    ) == [(0, 0, 0)]

    # (b) Retention: purge what was received before the end of the second day.
    total = wh.scalar(f"select count(*) from {raw}.events")
    days = (datetime.now(UTC).date() - START).days - 2
    printed = wh.run("shoplens", "purge", "--older-than-days", str(days), "--target", wh.engine)
    cutoff = wh.scalar(f"select cutoff_at from {raw}.deletions where kind = 'retention'")
    cutoff_ms = int(cutoff.replace(tzinfo=UTC).timestamp() * 1000)
    erased = p1.devices | p2.devices
    older = sum(
        1
        for obj in _loaded(shop)
        if obj["received_at"] < cutoff_ms and obj["anonymous_id"] not in erased
    )
    assert wh.scalar(f"select count(*) from {raw}.events where received_at_ms < {cutoff_ms}") == 0
    kept = wh.scalar(f"select count(*) from {raw}.events")
    assert 0 < kept < total
    purged = total - kept
    assert purged == older  # all of them were staged
    assert f"purged {purged:,} raw rows" in printed.stdout
    assert snapshot(wh) == after  # nothing derived changed
    wh.dbt("build")  # incremental: staging keeps the purged events; every test passes
    assert snapshot(wh) == after

    # (c) Erasure after retention: a member whose raw events are all purged is found through
    # the hashes staging keeps.
    p3 = next(
        p for p in ranked if p not in (p1, p2) and p.orders and 0 < p.last_received_ms < cutoff_ms
    )
    assert wh.scalar(
        f"select count(*) from {raw}.events where user_id = '{p3.user_id}'"
    ) == 0 and scan(wh, {h(d) for d in p3.devices})
    forget(wh, "--user-id", p3.user_id)
    assert scan(wh, p3.needles) == []

    # (d) A device only: its events go, the member who used it keeps their account and orders.
    p4 = next(p for p in ranked if p not in (p1, p2, p3) and p.orders and p.last_received_ms)
    (device,) = sorted(p4.devices)[:1]
    orders = (
        f"select count(*) from {wh.schema}_marts.fct_orders where person_id = '{h(p4.user_id)}'"
    )
    paid_before = wh.scalar(orders)
    forget(wh, "--anonymous-id", device)
    assert scan(wh, {device, h(device)}) == []
    assert wh.scalar(orders) == paid_before == len(p4.orders)
    assert wh.scalar(f"select count(*) from {raw}.users where user_id = '{p4.user_id}'") == 1


def _loaded(landing: Path) -> list[dict]:
    """The event lines the loader loads (the others are quarantined)."""
    rows = []
    for line in _lines(landing, "events"):
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if _valid(obj):
            rows.append(obj)
    return rows


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give exactly one of --user-id and --anonymous-id"),
        (("--user-id", "M1", "--anonymous-id", "oX"), "give exactly one of"),
        (("--user-id", ""), "the id to erase is empty"),
        (("--user-id", "M1234567", "--request-id", "ticket M1234567"), "--request-id must be"),
        (("--user-id", "M1234567", "--request-id", "T-M1234567"), "must not contain the id"),
        (("--user-id", "M1", "--request-id", "13812345678"), "must not contain the id"),
        (("--user-id", "M1"), "no DuckDB file at"),
    ],
)
def test_forget_refuses_bad_input_in_one_line(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    import os

    env = {**os.environ, "SHOPLENS_DUCKDB_PATH": str(tmp_path / "none.duckdb")}
    result = run_command("shoplens", "forget", *args, env=env)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_forget_and_purge_refuse_a_locked_or_unbuilt_warehouse(tmp_path: Path) -> None:
    import os

    import duckdb

    path = tmp_path / "w.duckdb"
    env = {**os.environ, "SHOPLENS_DUCKDB_PATH": str(path), "SHOPLENS_RAW_SCHEMA": "raw"}
    duckdb.connect(str(path)).close()
    result = run_command("shoplens", "purge", env=env)
    assert result.returncode == 2 and "load and build it first" in result.stderr
    with duckdb.connect(str(path)):
        result = run_command("shoplens", "forget", "--user-id", "M1", env=env)
    assert result.returncode == 2 and "cannot open DuckDB file" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_command("shoplens", "purge", "--older-than-days", "0", env=env)
    assert result.returncode == 2 and "--older-than-days must be at least 1" in result.stderr
