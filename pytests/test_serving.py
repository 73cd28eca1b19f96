"""PostgreSQL as the serving warehouse: the BI role reads the public marts' columns and nothing
else (no raw, staging, intermediate or reference table, no hashed personal data), and the marts
carry indexes on the columns BI filters on. Connects as a member of the role, as a BI tool does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest

from conftest import Warehouse
from shoplens.generate import GeneratorConfig, generate
from shoplens.warehouse import postgres_settings

# The salted person and device hashes, by the house naming: what the role must not read.
HASHED = {"person_id", "anonymous_id_hash"}
# The reporting date each fact is filtered on (the aggregates' is metric_date or period_start).
FACT_DATES = {
    "fct_sessions": "session_date",
    "fct_page_views": "view_date",
    "fct_exposures": "session_date",
    "fct_funnel_steps": "session_date",
    "fct_person_days": "activity_date",
    "fct_cart_additions": "added_date",
    "fct_orders": "paid_date",
    "fct_order_items": "paid_date",
    "fct_payments": "created_date",
    "fct_refunds": "refunded_date",
}
FILTERED_EVERYWHERE = {"metric_date", "period_start", "channel", "product_id", "sku_id"}


def _superuser() -> psycopg2.extensions.connection:
    con = psycopg2.connect(**postgres_settings())
    con.autocommit = True
    return con


@pytest.fixture
def bi_login(warehouse: Warehouse) -> Iterator[tuple[str, str]]:
    """A BI role of this test's own (the dbt var serving_role; roles are cluster-wide, so the
    shared bi_reader is never dropped here) and a LOGIN user in it, both dropped afterwards."""
    role, login = f"{warehouse.schema}_bi", f"{warehouse.schema}_bi_login"
    yield role, login
    with _superuser() as con, con.cursor() as cur:
        for name in (login, role):
            cur.execute("select 1 from pg_roles where rolname = %s", (name,))
            if cur.fetchone():
                cur.execute(f'drop owned by "{name}"')  # the grants on this test's marts
                cur.execute(f'drop role "{name}"')


@pytest.mark.parametrize("warehouse", ["postgres"], indirect=True)
def test_bi_role_reads_public_mart_columns_only_and_marts_are_indexed(
    warehouse: Warehouse, bi_login: tuple[str, str], tmp_path: Path
) -> None:
    wh = warehouse
    role, login = bi_login
    dbt_vars = ("--vars", json.dumps({"serving_role": role}))
    landing = tmp_path / f"shop-{uuid.uuid4().hex[:6]}"
    generate(
        GeneratorConfig(out_dir=landing, users=80, days=2, start_date=date(2026, 9, 1), seed=5)
    )
    wh.run("shoplens", "load", str(landing), "--target", wh.engine)
    wh.dbt("seed", *dbt_vars)
    wh.dbt("run", *dbt_vars)
    # A rebuild (a table recreated, an incremental merged) keeps the grants and the indexes.
    wh.dbt("run", "-s", "fct_sessions", "agg_traffic__daily", *dbt_vars)

    nodes = json.loads((wh.tmp / "target" / "manifest.json").read_text())["nodes"].values()
    models = [n for n in nodes if n["resource_type"] == "model"]
    public = {
        n["name"]: n
        for n in models
        if n["original_file_path"].startswith("models/marts/") and n["access"] == "public"
    }
    assert len(public) >= 30
    marts = f"{wh.schema}_marts"
    columns: dict[str, list[str]] = {}
    for name, column in wh.query(
        f"select table_name, column_name from information_schema.columns "
        f"where table_schema = '{marts}' order by table_name, ordinal_position"
    ):
        columns.setdefault(name, []).append(column)

    with _superuser() as con, con.cursor() as cur:
        cur.execute(f'create role "{login}" login in role "{role}"')
    bi = psycopg2.connect(**{**postgres_settings(), "user": login})
    bi.autocommit = True

    def refused(sql: str) -> bool:
        with bi.cursor() as cur:
            try:
                cur.execute(sql)
            except psycopg2.errors.InsufficientPrivilege:
                return True
        return False

    try:
        read = {}
        for name in public:
            readable = [c for c in columns[name] if c not in HASHED]
            with bi.cursor() as cur:
                cur.execute(f"select {', '.join(readable)} from {marts}.{name}")
                read[name] = len(cur.fetchall())
            assert read[name] == wh.scalar(f"select count(*) from {marts}.{name}"), name
            hashed = [c for c in columns[name] if c in HASHED]
            for column in hashed:
                assert refused(f"select {column} from {marts}.{name} limit 1"), (name, column)
            assert refused(f"select * from {marts}.{name} limit 1") == bool(hashed), name
        # The YAML marks exactly the hashed columns (the checks above go by name).
        marked_hashed = {
            (name, column)
            for name, node in public.items()
            for column, spec in node["columns"].items()
            if spec["meta"].get("personal_data") == "hashed"
        }
        assert marked_hashed == {(n, c) for n in public for c in columns[n] if c in HASHED}
        assert marked_hashed
        assert sum(1 for n in read.values() if n) >= 30  # the small shop fills most marts

        assert refused(f"select * from {wh.raw_schema}.events limit 1")
        assert refused(f"select event_name from {wh.schema}_staging.stg_mini_program__events")
        assert refused(f"select event_id from {wh.schema}_intermediate.int_events_sessionized")
        assert refused(f"select * from {wh.schema}_reference.wechat_scene_channels")
        # A model in the marts schema that is not public (the semantic layer's time spine).
        assert public.keys() < set(columns) and refused(
            f"select * from {marts}.metricflow_time_spine"
        )
    finally:
        bi.close()

    # Indexes: one per column the YAML marks (none doubled by the rebuild), and at least the
    # dates, channels and products BI filters on.
    indexed = wh.query(
        f"select tables.relname, attributes.attname, count(*) "
        f"from pg_index as indexes "
        f"inner join pg_class as tables on indexes.indrelid = tables.oid "
        f"inner join pg_namespace as schemas on tables.relnamespace = schemas.oid "
        f"inner join pg_attribute as attributes on attributes.attrelid = tables.oid "
        f"and attributes.attnum = indexes.indkey[0] "
        f"where schemas.nspname = '{marts}' and indexes.indnatts = 1 "
        f"group by tables.relname, attributes.attname"
    )
    assert all(n == 1 for _, _, n in indexed), indexed
    marked = {
        (name, column)
        for name, node in public.items()
        for column, spec in node["columns"].items()
        if spec["meta"].get("index") is True
    }
    assert {(table, column) for table, column, _ in indexed} == marked
    expected = {
        (name, column)
        for name in public
        for column in columns[name]
        if column in FILTERED_EVERYWHERE or column == FACT_DATES.get(name)
    }
    assert len(expected) > 40 and expected <= marked


@pytest.mark.parametrize("warehouse", ["postgres"], indirect=True)
def test_a_bad_serving_role_name_is_one_clear_error(warehouse: Warehouse) -> None:
    result = warehouse.dbt(
        "run", "-s", "agg_traffic__daily", "--vars", '{serving_role: "BI; drop"}', check=False
    )
    assert result.returncode != 0
    assert "dbt var serving_role must be a lowercase PostgreSQL role name" in result.stdout
