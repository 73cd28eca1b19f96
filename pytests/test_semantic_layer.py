"""One definition of each metric: the semantic layer validates against the warehouse, every mart
column that reports a metric agrees with it on the demo data (both engines), a drifted mart
definition is caught, and the metric catalog is generated from the YAML and covers the spec."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from conftest import ROOT, DemoWarehouse, run_command

# The metric ids of spec/metrics.md (its tables), typed here from the spec: each must have a
# semantic-layer metric whose meta.spec_id names it.
SPEC_IDS = {
    # traffic
    "pv", "uv", "active_users", "new_users", "sessions", "avg_stay_seconds",
    # conversion
    "detail_to_cart_rate", "cart_to_checkout_rate", "checkout_to_payment_rate", "core_funnel",
    "ctr",
    # transaction
    "gmv", "orders", "paying_users", "aov", "arpu_paying", "refund_amount", "net_gmv",
    "payment_success_rate", "order_payment_rate",
    # product
    "product_views", "product_viewers", "product_add_to_carts", "units_sold", "product_revenue",
    # user
    "new_user_share", "repurchase_rate", "retention_dN",
    # tracking quality
    "tracking_coverage", "plan_violation_rate", "duplicate_rate", "rejected_rate", "late_rate",
    # broken down by channel; ranks computed from metrics
    "channel_sessions", "channel_new_users", "sku_rank",
}  # fmt: skip

PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests")


def _project_link(folder: Path, target_path: Path) -> Path:
    """A project folder whose files link to the repository's and whose target/ is target_path
    (MetricFlow's CLI reads target/semantic_manifest.json of the project it runs in)."""
    folder.mkdir(parents=True)
    for name in PROJECT_FILES:
        (folder / name).symlink_to(ROOT / name)
    (folder / "target").symlink_to(target_path)
    return folder


def test_mf_validate_configs_passes_against_the_warehouse(
    demo_warehouse: DemoWarehouse, tmp_path: Path
) -> None:
    """`mf validate-configs`, with its data-warehouse validations, on the built demo."""
    wh = demo_warehouse
    project = _project_link(tmp_path / "project", wh.target_path)
    result = run_command(
        "mf",
        "validate-configs",
        env={**wh.env, "SHOPLENS_TARGET": wh.engine},
        cwd=project,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "Successfully validated the semantics" in output, output[-4000:]
    # Semantic models, dimensions, entities, measures and metrics, each against the warehouse.
    assert output.count("against data warehouse (ERRORS: 0") == 5, output[-4000:]


def _check(wh: DemoWarehouse, target_path: Path) -> subprocess.CompletedProcess[str]:
    return wh.run(
        "shoplens",
        "metrics",
        "check",
        "--target",
        wh.engine,
        "--target-path",
        str(target_path),
        check=False,
    )


def test_every_mart_column_agrees_with_the_semantic_layer(demo_warehouse: DemoWarehouse) -> None:
    wh = demo_warehouse
    result = _check(wh, wh.target_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    agreed = re.search(r"all (\d+) mart columns agree with the semantic layer \(([\d,]+) rows\)",
                       result.stdout)  # fmt: skip
    assert agreed, result.stdout[-3000:]
    columns, rows = int(agreed.group(1)), int(agreed.group(2).replace(",", ""))
    assert columns >= 110 and rows > 50_000
    # On the 32-day demo every column has something to compare (day-30 retention included).
    assert "EMPTY" not in result.stdout, result.stdout[-3000:]

    # Every public metric mart (agg_*) is reproduced by the semantic layer's saved queries (or
    # says in meta.semantic_check_exempt why it cannot be).
    manifest = json.loads((wh.target_path / "manifest.json").read_text())
    reproduced = {q["config"]["meta"].get("mart") for q in manifest["saved_queries"].values()}
    aggregates = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["name"].startswith("agg_")
        and not node["config"]["meta"].get("semantic_check_exempt")
    }
    assert aggregates <= reproduced, aggregates - reproduced


def test_a_drifted_mart_definition_fails_the_check(
    demo_warehouse: DemoWarehouse, tmp_path: Path
) -> None:
    """GMV made to count unpaid orders on their creation date in a copy of the project: the
    check names the metric and the mart; the real definition, rebuilt, agrees again."""
    wh = demo_warehouse
    copy = tmp_path / "project"
    copy.mkdir()
    for name in PROJECT_FILES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, copy / name)
        else:
            shutil.copy(ROOT / name, copy / name)
    macro = copy / "macros" / "transaction_metrics.sql"
    text = macro.read_text(encoding="utf-8")
    drifted = text.replace(
        "        paid_date as metric_date{% if by_channel %},",
        "        coalesce(paid_date, created_date) as metric_date{% if by_channel %},",
    ).replace(
        "    where is_paid\n    group by paid_date{% if by_channel %}",
        "    group by coalesce(paid_date, created_date){% if by_channel %}",
    )
    assert drifted.count("coalesce(paid_date, created_date)") == 2, "the macro changed: update"
    macro.write_text(drifted, encoding="utf-8")

    drifted_target = tmp_path / "target"
    dbt_args = ["run", "--select", "agg_transaction__daily", "--target", wh.engine]
    try:
        wh.run(
            "dbt",
            *dbt_args,
            "--project-dir",
            str(copy),
            "--profiles-dir",
            str(copy),
            "--target-path",
            str(drifted_target),
            "--log-path",
            str(tmp_path / "logs"),
        )
        result = _check(wh, drifted_target)
        assert result.returncode == 2, result.stdout[-3000:]
        assert re.search(r"gmv in agg_transaction__daily[,)]", result.stderr), result.stderr
        assert re.search(
            r"DISAGREES metric gmv disagrees with agg_transaction__daily\.gmv_yuan on \d+ of",
            result.stdout,
        ), result.stdout[-3000:]
        # The by-channel mart was not rebuilt and still agrees.
        assert "agg_transaction__daily_by_channel.gmv_yuan" not in result.stdout
    finally:
        wh.dbt(*dbt_args[:3])  # the real definition again, for the other tests of this warehouse
    assert _check(wh, wh.target_path).returncode == 0


def test_the_catalog_is_generated_from_the_yaml_and_covers_the_spec(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SHOPLENS_DUCKDB_PATH": str(tmp_path / "unused.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_command(*args, env=env, timeout=300)

    result = run("shoplens", "metrics", "catalog", "--check")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "up to date" in result.stdout
    assert not (tmp_path / "unused.duckdb").exists()

    target = tmp_path / "target"
    parsed = run("dbt", "parse", "--target-path", str(target), "--log-path", str(tmp_path / "l"))
    assert parsed.returncode == 0, parsed.stdout[-2000:]
    manifest = json.loads((target / "manifest.json").read_text())
    metrics = {m["name"]: m for m in manifest["metrics"].values()}
    covered = {m["config"]["meta"].get("spec_id") for m in metrics.values()}
    covered |= {s for m in metrics.values() for s in m["config"]["meta"].get("spec_also", [])}
    covered |= {
        q["config"]["meta"]["rank"]["metric"]
        for q in manifest["saved_queries"].values()
        if q["config"]["meta"].get("rank")
    }
    assert covered >= SPEC_IDS, SPEC_IDS - covered
    for name, metric in metrics.items():
        meta = metric["config"]["meta"]
        for key in ("spec_id", "label_zh", "unit", "grain", "owner"):
            assert meta.get(key), f"metric {name}: no meta.{key}"
        assert metric["label"] and metric["description"], name

    # "What exactly is 客單價 here, and where is it reported?" — one row of the catalog says.
    catalog = (ROOT / "docs" / "metric_catalog.md").read_text(encoding="utf-8")
    row = next(line for line in catalog.splitlines() if line.startswith("| `arpu_paying`"))
    assert "客單價" in row and "ratio: gmv / paying_users" in row
    assert "`agg_transaction__daily.arpu_paying_yuan [metric_date]`" in row
    assert "`agg_transaction__daily_by_channel.arpu_paying_yuan [metric_date, channel]`" in row
    # The same text is the dbt docs site's overview page.
    overview = (ROOT / "models" / "docs" / "overview.md").read_text(encoding="utf-8")
    assert catalog in overview
