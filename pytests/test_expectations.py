"""The Great Expectations checkpoint (`shoplens validate`, expectations/marts.yml): the suite covers
every public mart, passes on the demo marts of each engine, and names the mart and expectation of
values planted to break it."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import DEMO_DAYS, ROOT, DemoWarehouse
from shoplens.errors import ShoplensError
from shoplens.expectations import load_suite_spec

# Where the Data Docs of the demo runs stay for CI to keep (git-ignored).
ARTIFACTS = ROOT / "artifacts" / "gx_data_docs"
SUITE = ROOT / "expectations" / "marts.yml"
RATE = re.compile(r"(^|_)(rate|ratio|ctr|coverage)(_|$)")


def public_mart_columns() -> dict[str, set[str]]:
    """Columns of every `access: public` mart, from its contract in models/marts."""
    marts = {}
    for path in sorted((ROOT / "models" / "marts").rglob("_*__models.yml")):
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models", []):
            if (model.get("config") or {}).get("access") == "public":
                marts[model["name"]] = {column["name"] for column in model["columns"]}
    return marts


def test_suite_covers_every_public_mart_rate_and_money_column() -> None:
    spec = load_suite_spec(SUITE)
    contracts = public_mart_columns()
    assert {m.name for m in spec.marts} == set(contracts)
    for mart in spec.marts:
        columns = contracts[mart.name]
        listed = {*mart.keys, *mart.rates, *mart.money, *mart.signed_money}
        listed |= {b.column for b in mart.bounds} | ({mart.daily} if mart.daily else set())
        assert listed <= columns, f"{mart.name}: not in its contract: {listed - columns}"
        assert {c for c in columns if RATE.search(c)} == set(mart.rates), mart.name
        yuan = {c for c in columns if c.endswith("_yuan")}
        assert yuan == {*mart.money, *mart.signed_money}, mart.name
        assert not set(mart.money) & set(mart.signed_money), mart.name
    reference = next(m for m in spec.marts if m.name == spec.reporting_dates_mart)
    assert reference.daily == spec.reporting_dates_column


def test_a_mistake_in_the_suite_definition_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "marts.yml"
    bad.write_text(
        "reporting_dates: {mart: a, column: d}\n"
        "marts:\n  a: {keys: [d], bounds: [{column: d, stat: mode, min_value: 1}]}\n"
    )
    with pytest.raises(ShoplensError, match="needs a column and a stat"):
        load_suite_spec(bad)


def _validate(wh: DemoWarehouse, env: dict[str, str], *docs_dirs: Path) -> tuple[int, str]:
    wh_env = DemoWarehouse(wh.engine, env, wh.tmp)
    args = [arg for folder in docs_dirs for arg in ("--docs-dir", str(folder))]
    result = wh_env.run("shoplens", "validate", "--target", wh.engine, *args, check=False)
    return result.returncode, result.stdout + result.stderr


def test_checkpoint_passes_on_the_demo_marts(demo_warehouse: DemoWarehouse, tmp_path: Path) -> None:
    wh = demo_warehouse
    # A password must appear nowhere: the server trusts local connections, so any will do.
    secret = os.environ.get("PGPASSWORD") or f"gx-canary-{uuid.uuid4().hex}"
    docs, kept = tmp_path / "docs", ARTIFACTS / wh.engine
    code, output = _validate(wh, {**wh.env, "PGPASSWORD": secret}, docs, kept)
    assert code == 0, output
    marts = len(load_suite_spec(SUITE).marts)
    assert re.search(rf"all \d+ expectations passed on {marts} marts", output), output
    assert f"{wh.schema}_marts" in output
    for folder in (docs, kept):
        assert (folder / "index.html").is_file()
        assert (folder / "validations" / "agg_transaction__daily").is_dir()
    assert secret not in output
    assert not [p for p in docs.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def _plant_bad_values(run_sql: object, schema: str) -> None:
    """A rate of 1.5, a negative payable amount, a lost day, a day without page views."""
    statements = [
        f"update {schema}.agg_transaction__daily set payment_success_rate = 1.5 "
        f"where metric_date = (select min(metric_date) from {schema}.agg_transaction__daily)",
        f"update {schema}.fct_orders set payable_yuan = -1 "
        f"where order_id = (select min(order_id) from {schema}.fct_orders)",
        f"delete from {schema}.agg_active_users__daily "
        f"where metric_date = (select max(metric_date) from {schema}.agg_active_users__daily)",
        f"update {schema}.agg_traffic__daily set pv = 0 "
        f"where metric_date = (select max(metric_date) from {schema}.agg_traffic__daily)",
    ]
    for sql in statements:
        run_sql(sql)  # type: ignore[operator]


def test_planted_bad_values_fail_with_mart_and_expectation_named(
    demo_warehouse: DemoWarehouse, tmp_path: Path
) -> None:
    wh = demo_warehouse
    marts = f"{wh.schema}_marts"
    if wh.engine == "duckdb":
        import duckdb

        # A copy: the shared demo warehouse stays as other tests read it.
        copy = tmp_path / "bad.duckdb"
        shutil.copyfile(wh.env["SHOPLENS_DUCKDB_PATH"], copy)
        with duckdb.connect(str(copy)) as con:
            _plant_bad_values(con.execute, marts)
        code, output = _validate(wh, {**wh.env, "SHOPLENS_DUCKDB_PATH": str(copy)}, tmp_path)
    else:
        import psycopg2

        from shoplens.warehouse import postgres_settings

        # A copy of every public mart in schemas of their own: <demo schema>_gxbad_marts.
        bad = f"{wh.schema}_gxbad"
        con = psycopg2.connect(**postgres_settings())
        con.autocommit = True
        try:
            with con.cursor() as cur:
                cur.execute(f"create schema {bad}_marts")
                for mart in load_suite_spec(SUITE).marts:
                    cur.execute(
                        f"create table {bad}_marts.{mart.name} as select * from {marts}.{mart.name}"
                    )
                _plant_bad_values(cur.execute, f"{bad}_marts")
            code, output = _validate(wh, {**wh.env, "SHOPLENS_SCHEMA": bad}, tmp_path)
        finally:
            with con.cursor() as cur:
                cur.execute(f"drop schema if exists {bad}_marts cascade")
            con.close()
    assert code == 2, output
    failed = sorted(line for line in output.splitlines() if line.startswith("FAILED "))
    assert len(failed) == 4, output
    expected = [
        "FAILED agg_active_users__daily: expect_table_row_count_to_equal(value="
        f"{DEMO_DAYS}): observed {DEMO_DAYS - 1}",
        "FAILED agg_traffic__daily: expect_column_min_to_be_between(column=pv, min_value=1",
        "FAILED agg_transaction__daily: expect_column_values_to_be_between("
        "column=payment_success_rate, min_value=0",
        "FAILED fct_orders: expect_column_values_to_be_between(column=payable_yuan, min_value=0",
    ]
    for line, start in zip(failed, expected, strict=True):
        assert line.startswith(start), output
    assert "observed 0" in failed[1]
    assert re.search(r"1 of \d+ rows unexpected, e\.g\. 1\.5$", failed[2]), output
    assert re.search(r"1 of \d+ rows unexpected, e\.g\. -1(\.0+)?$", failed[3]), output
    assert re.search(r"error: 4 of \d+ expectations failed on 4 mart\(s\)", output), output
    assert (tmp_path / "index.html").is_file()
