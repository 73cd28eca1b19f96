"""`shoplens report daily|weekly`: a self-contained HTML file, opened in headless Chromium (no
console errors, every chart drawn with data, Chinese labels), whose numbers equal independent
SQL over the marts; a screenshot is kept under artifacts/test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

import browser
from conftest import Warehouse, make_warehouse

START = date(2026, 9, 1)
DAYS = 10
DAY = date(2026, 9, 9)  # a Wednesday with a previous day, 8 days of trend and a day-7 cohort
pytestmark = pytest.mark.xdist_group("report")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """~800 users over 10 days, loaded and built with `dbt build` (DuckDB)."""
    from shoplens.generate import GeneratorConfig, generate

    tmp = tmp_path_factory.mktemp("report")
    generate(GeneratorConfig(out_dir=tmp / "landing", users=800, days=DAYS, start_date=START))
    wh = make_warehouse("duckdb", tmp)
    wh.run("shoplens", "load", str(tmp / "landing"), "--target", "duckdb")
    wh.dbt("build", "--quiet")
    yield wh


def marts(wh: Warehouse) -> str:
    return f"{wh.schema}_marts"


def write(wh: Warehouse, kind: str, day: date, out: Path) -> Path:
    result = wh.run("shoplens", "report", kind, "--date", day.isoformat(), "--out", str(out))
    assert str(out) in result.stdout
    return out


def test_daily_report_renders_in_chromium_with_the_marts_numbers(
    built: Warehouse,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, object], None],
) -> None:
    browser.require_chromium()
    path = write(built, "daily", DAY, tmp_path / "daily.html")
    html = path.read_text(encoding="utf-8")
    assert browser.is_self_contained(html) == []

    rendered = browser.render(path.as_uri())
    assert rendered.console == [], f"console messages: {rendered.console}"
    dom = rendered.dom
    # The inline script ran (it marks the body) and found every chart.
    charts = browser.charts(dom)
    expected = {
        "trend-gmv",
        "trend-orders",
        "trend-active-users",
        "trend-payment-success-rate",
        "funnel",
        "channel-gmv",
        "channel-sessions",
        "retention",
    }
    assert expected <= set(charts), f"charts missing: {expected - set(charts)}"
    assert all(charts[c] > 0 for c in expected), f"a chart without data: {charts}"
    assert f'data-charts-ready="{len(charts)}"' in dom
    # 14-day trends: one point per day with data (the 9 days 2026-09-01..09).
    assert charts["trend-gmv"] == 9
    assert len(re.findall(r'<circle class="point"', dom)) >= 9 * 4
    for label in (
        "日報",
        "核心指標",
        "成交總額 GMV",
        "支付成功率",
        "活躍用戶數",
        "核心路徑漏斗",
        "首頁瀏覽",
        "渠道結構",
        "SKU銷售排行",
        "次日留存率",
        "7日留存率",
        "數據質量",
        "埋點覆蓋率",
        "本期告警",
    ):
        assert label in dom, f"label {label} not rendered"

    # Key numbers against direct queries of the marts.
    m = marts(built)
    values = browser.metric_values(dom)
    gmv, orders, rate = built.query(
        f"select gmv_yuan, orders, payment_success_rate from {m}.agg_transaction__daily "
        f"where metric_date = date '{DAY}'"
    )[0]
    previous_gmv = built.scalar(
        f"select gmv_yuan from {m}.agg_transaction__daily "
        f"where metric_date = date '{DAY - timedelta(days=1)}'"
    )
    dau = built.scalar(
        f"select dau from {m}.agg_active_users__daily where metric_date = date '{DAY}'"
    )
    assert values["gmv_yuan"] == pytest.approx(float(gmv), abs=0.005)
    assert values["orders"] == orders
    assert values["payment_success_rate"] == pytest.approx(rate, abs=1e-12)
    assert values["active_users"] == dau
    change = (float(gmv) - float(previous_gmv)) / float(previous_gmv) * 100
    assert f"{change:+.1f}%" in dom
    assert f"¥{float(gmv):,.2f}" in dom
    d1 = built.query(
        f"select retention_rate from {m}.agg_retention__cohorts "
        f"where day_n = 1 and cohort_date = date '{DAY - timedelta(days=1)}'"
    )
    assert values["retention_d1"] == pytest.approx(d1[0][0] if d1 else None)
    step1 = built.scalar(
        f"select sessions_reached from {m}.agg_funnel__daily "
        f"where funnel_id = 'core' and step_number = 1 and metric_date = date '{DAY}'"
    )
    assert f'data-label="首頁瀏覽 Home page" data-value="{float(step1)!r}"' in dom
    top_sku = built.scalar(
        f"select sku_id from {m}.agg_sku_ranking__daily "
        f"where period_start = date '{DAY}' and sku_rank = 1"
    )
    assert f'<td class="">{top_sku}</td>' in dom or f">{top_sku}<" in dom
    alerts = built.scalar(
        f"select count(*) from {m}.fct_alert_evaluations "
        f"where is_alert and cast(window_start_local as date) = date '{DAY}'"
    )
    assert f'data-alerts="{alerts}"' in dom

    shot = browser.screenshot(path.as_uri(), f"report-daily-{DAY}.png")
    record_property("screenshot", str(shot))  # in --junitxml reports
    with capsys.disabled():  # on the terminal (without xdist; -n hides workers' output)
        print(f"\nscreenshot of the daily report: {shot}")


def test_weekly_report_sums_the_iso_week(built: Warehouse, tmp_path: Path) -> None:
    path = write(built, "weekly", DAY, tmp_path / "weekly.html")
    html = path.read_text(encoding="utf-8")
    assert browser.is_self_contained(html) == []
    monday = DAY - timedelta(days=DAY.weekday())
    m = marts(built)
    gmv, orders, attempts, successes = built.query(
        f"select sum(gmv_yuan), sum(orders), sum(payment_attempts), sum(successful_payments) "
        f"from {m}.agg_transaction__daily "
        f"where metric_date between date '{monday}' and date '{monday + timedelta(days=6)}'"
    )[0]
    values = browser.metric_values(html)
    assert values["gmv_yuan"] == pytest.approx(float(gmv), abs=0.005)
    assert values["orders"] == orders
    assert values["payment_success_rate"] == pytest.approx(successes / attempts, abs=1e-12)
    assert "週報" in html and "2026-W37" in html
    assert "partial week: 4 of 7 days with data" in html  # the data ends on Thursday 09-10
    assert len(browser.charts(html)) == 8


def test_a_date_without_data_is_a_one_line_error(built: Warehouse, tmp_path: Path) -> None:
    result = built.run(
        "shoplens",
        "report",
        "daily",
        "--date",
        "2026-12-25",
        "--out",
        str(tmp_path / "x.html"),
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no data for 2026-12-25" in lines[0]
    assert f"{START} to {START + timedelta(days=DAYS - 1)}" in lines[0]
    assert not (tmp_path / "x.html").exists()


def test_the_periods_alerts_are_listed_with_their_rule_labels(
    built: Warehouse, tmp_path: Path
) -> None:
    """A small generated shop never reaches the rules' minimum volumes, so this test writes one
    alerting window by hand into fct_alert_evaluations (its own warehouse; it runs last)."""
    import duckdb

    with duckdb.connect(built.env["SHOPLENS_DUCKDB_PATH"]) as con:
        con.execute(
            f"""
            insert into {marts(built)}.fct_alert_evaluations by name
            select 'payment_success_rate_drop' as rule_id,
                'Payment success rate dropped' as rule_label_en,
                '支付成功率驟降' as rule_label_zh, 'payment_success_rate' as metric,
                'previous_windows' as baseline_kind, 'critical' as severity,
                timestamp '{DAY} 12:10' as window_start_at,
                timestamp '{DAY} 12:20' as window_end_at,
                timestamp '{DAY} 20:10' as window_start_local,
                0.5 as metric_value, 0.9 as baseline_value, -0.4 as absolute_change,
                -0.4 / 0.9 as relative_change, 40 as volume, true as is_breach,
                true as has_volume, false as is_quiet_hours, true as is_alert
            """
        )
    html = write(built, "daily", DAY, tmp_path / "daily.html").read_text(encoding="utf-8")
    section = html[html.index('<section id="alerts">') :]
    assert 'data-alerts="1"' in section
    assert "支付成功率驟降 <small>Payment success rate dropped</small>" in section
    assert f"{DAY} 20:10" in section and "critical" in section
    # value 50.0 %, baseline 90.0 %, relative change -0.4 / 0.9 = -44.4 %
    assert "<td>50.0%</td>" in section.replace(' class=""', "")
    assert "<td>90.0%</td>" in section.replace(' class=""', "")
    assert "-44.4%" in section
    # The weekly report of that week lists it too; the next day's does not.
    weekly = write(built, "weekly", DAY, tmp_path / "weekly.html").read_text(encoding="utf-8")
    assert 'data-alerts="1"' in weekly
    next_day = write(built, "daily", DAY + timedelta(days=1), tmp_path / "next.html")
    assert 'data-alerts="0"' in next_day.read_text(encoding="utf-8")
