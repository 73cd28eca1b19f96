"""Daily and weekly reports (日報 / 週報): one self-contained HTML file over the public marts.

No network and no CDN: inline CSS, charts as inline SVG (shoplens.charts), a few lines of inline
JavaScript. Labels in Chinese with English beside them. Sections: core metrics with their
day-over-day (week-over-week) change, trends (14 days / 8 weeks), the core funnel, channel mix,
top SKUs, retention (day 1 / 7), data quality and the period's alerts (fct_alert_evaluations).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

from shoplens.charts import Series, bar_chart, change, fmt, line_chart, number
from shoplens.dbt import schema_name
from shoplens.errors import ShoplensError

KINDS = ("daily", "weekly")

# (column, 中文, English, format) of the core metrics; the weekly report recomputes each over the
# week (sums, rates from their sums, active users = WAU, paying users distinct over the week).
CORE_METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("gmv_yuan", "成交總額 GMV", "GMV", "money"),
    ("orders", "訂單數", "Paid orders", "count"),
    ("paying_users", "付費用戶數", "Paying users", "count"),
    ("aov_yuan", "平均訂單金額", "Average order value", "money"),
    ("arpu_paying_yuan", "客單價", "GMV per paying user", "money"),
    ("payment_success_rate", "支付成功率", "Payment success rate", "rate"),
    ("order_payment_rate", "下單-支付轉化率", "Order payment rate", "rate"),
    ("refund_amount_yuan", "退款金額", "Refund amount", "money"),
    ("net_gmv_yuan", "淨成交額", "Net GMV", "money"),
    ("active_users", "活躍用戶數", "Active users", "count"),
    ("new_users", "新增用戶數", "New users", "count"),
    ("pv", "頁面瀏覽量", "Page views", "count"),
    ("uv", "訪問人數", "Unique visitors", "count"),
    ("sessions", "會話數", "Sessions", "count"),
    ("avg_stay_seconds", "平均停留時長", "Average stay time", "seconds"),
)
_SUMMED = (
    "gmv_yuan",
    "orders",
    "refund_amount_yuan",
    "net_gmv_yuan",
    "payment_attempts",
    "successful_payments",
    "orders_created",
    "orders_created_paid",
    "pv",
    "new_users",
    "sessions",
)
_WEEKLY_ONLY_DAILY = ("uv", "avg_stay_seconds")  # not additive over days: not in the weekly report


# ---------------------------------------------------------------------------------------------
# Reading the warehouse


class ReadOnlyWarehouse:
    """A read-only connection: DuckDB opened with read_only=True, or PostgreSQL."""

    def __init__(self, target: str) -> None:
        self.target = target
        if target == "duckdb":
            import duckdb

            from shoplens.warehouse import duckdb_path

            path = duckdb_path()
            if not path.is_file():
                raise ShoplensError(
                    f"no DuckDB warehouse at {path}: run `shoplens demo` (or load and dbt build)"
                )
            try:
                self.con = duckdb.connect(str(path), read_only=True)
            except duckdb.Error as exc:  # e.g. a writer process holds the file's lock
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ShoplensError(f"cannot open DuckDB file {path} read-only: {first}") from None
            self.con.execute("set TimeZone = 'UTC'")
        elif target == "postgres":
            from shoplens.warehouse import postgres_connect

            self.con = postgres_connect()
            self.con.set_session(readonly=True, autocommit=True)
        else:
            raise ShoplensError(f"unknown target {target!r}: choose duckdb or postgres")

    def records(self, sql: str) -> list[dict[str, Any]]:
        from shoplens.warehouse import database_errors

        with database_errors(self.target, "a report query"):
            if self.target == "duckdb":
                cursor = self.con.execute(sql)
                names = [c[0] for c in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            with self.con.cursor() as cur:
                cur.execute(sql)
                names = [c[0] for c in cur.description]
                return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def table_exists(self, schema: str, table: str) -> bool:
        rows = self.records(
            "select 1 as found from information_schema.tables "
            f"where table_schema = '{schema}' and table_name = '{table}'"
        )
        return bool(rows)

    def close(self) -> None:
        self.con.close()


@contextmanager
def read_only(target: str) -> Iterator[ReadOnlyWarehouse]:
    warehouse = ReadOnlyWarehouse(target)
    try:
        yield warehouse
    finally:
        warehouse.close()


def _d(day: date) -> str:
    return f"date '{day.isoformat()}'"


# ---------------------------------------------------------------------------------------------
# The period and its data


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # inclusive

    @classmethod
    def of(cls, kind: str, day: date) -> Period:
        if kind == "weekly":
            monday = day - timedelta(days=day.weekday())
            return cls(kind, monday, monday + timedelta(days=6))
        return cls(kind, day, day)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> Period:
        return Period(self.kind, self.start - timedelta(self.days), self.end - timedelta(self.days))

    @property
    def label(self) -> str:
        if self.kind == "weekly":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d} ({self.start} – {self.end})"
        return self.start.isoformat()


@dataclass
class ReportData:
    period: Period
    schema: str
    current: dict[str, Any]
    previous: dict[str, Any]
    trend_labels: list[str]
    trend: dict[str, list[float | None]]
    funnel: list[dict[str, Any]]
    channels: list[dict[str, Any]]
    skus: list[dict[str, Any]]
    retention: list[dict[str, Any]]
    retention_latest: dict[int, dict[str, Any]]
    quality: dict[str, Any]
    load_batches: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    generated_at: datetime = field(default_factory=lambda: datetime.now().astimezone())


def _div(numerator: Any, denominator: Any) -> float | None:
    n, d = number(numerator), number(denominator)
    if n is None or not d:
        return None
    return n / d


def _aggregate(days: list[dict[str, Any]]) -> dict[str, Any]:
    """The metrics of several days: sums, and rates from their sums."""
    out: dict[str, Any] = {
        key: sum(number(d.get(key)) or 0.0 for d in days) if days else None for key in _SUMMED
    }
    for key in ("gmv_yuan", "refund_amount_yuan", "net_gmv_yuan"):  # to the fen
        out[key] = None if out[key] is None else round(out[key], 2)
    out["aov_yuan"] = _div(out["gmv_yuan"], out["orders"])
    out["payment_success_rate"] = _div(out["successful_payments"], out["payment_attempts"])
    out["order_payment_rate"] = _div(out["orders_created_paid"], out["orders_created"])
    return out


def _daily_rows(db: ReadOnlyWarehouse, start: date, end: date) -> dict[date, dict[str, Any]]:
    marts = schema_name("marts")
    rows = db.records(
        f"""
        select
            traffic.metric_date as traffic_date, transaction.metric_date as transaction_date,
            transaction.gmv_yuan, transaction.orders, transaction.paying_users,
            transaction.aov_yuan, transaction.arpu_paying_yuan, transaction.refund_amount_yuan,
            transaction.net_gmv_yuan, transaction.payment_attempts,
            transaction.successful_payments, transaction.payment_success_rate,
            transaction.orders_created, transaction.orders_created_paid,
            transaction.order_payment_rate,
            traffic.pv, traffic.uv, traffic.active_users, traffic.new_users, traffic.sessions,
            traffic.avg_stay_seconds, active.wau
        from {marts}.agg_traffic__daily as traffic
        full outer join {marts}.agg_transaction__daily as transaction
            on traffic.metric_date = transaction.metric_date
        left join {marts}.agg_active_users__daily as active
            on traffic.metric_date = active.metric_date
        where coalesce(traffic.metric_date, transaction.metric_date)
            between {_d(start)} and {_d(end)}
        """
    )
    return {(r["traffic_date"] or r["transaction_date"]): r for r in rows}


def _weekly_paying(db: ReadOnlyWarehouse, start: date, end: date) -> dict[date, Any]:
    rows = db.records(
        f"select period_start, paying_users from {schema_name('marts')}.agg_repurchase__weekly "
        f"where period_start between {_d(start)} and {_d(end)}"
    )
    return {r["period_start"]: r["paying_users"] for r in rows}


def _period_metrics(
    period: Period, daily: dict[date, dict[str, Any]], weekly_paying: dict[date, Any]
) -> dict[str, Any]:
    days = [daily[d] for d in _dates(period.start, period.end) if d in daily]
    if period.kind == "daily":
        return dict(days[0]) if days else {}
    out = _aggregate(days)
    out["paying_users"] = weekly_paying.get(period.start)
    out["arpu_paying_yuan"] = _div(out["gmv_yuan"], out["paying_users"])
    # WAU of the ISO week: the 7 days ending on its Sunday (its last day with data if the week
    # is not over yet).
    out["active_users"] = days[-1].get("wau") if days else None
    out["days_with_data"] = len(days)
    return out


def _dates(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def collect(db: ReadOnlyWarehouse, kind: str, day: date) -> ReportData:
    period = Period.of(kind, day)
    marts = schema_name("marts")
    trend_periods = 14 if kind == "daily" else 8
    first = period.start - timedelta(days=period.days * (trend_periods - 1))
    daily = _daily_rows(db, first, period.end)
    if not any(d in daily for d in _dates(period.start, period.end)):
        span = db.records(
            f"select min(metric_date) as first_date, max(metric_date) as last_date "
            f"from {marts}.agg_traffic__daily"
        )[0]
        held = (
            f"the marts hold {span['first_date']} to {span['last_date']}"
            if span["first_date"]
            else "the marts are empty"
        )
        raise ShoplensError(f"no data for {period.label} in {marts}: {held}")
    weekly_paying = _weekly_paying(db, first, period.end) if kind == "weekly" else {}

    trend_labels: list[str] = []
    trend: dict[str, list[float | None]] = {
        k: [] for k in ("gmv_yuan", "orders", "active_users", "payment_success_rate")
    }
    for i in range(trend_periods):
        p = Period.of(kind, first + timedelta(days=period.days * i))
        metrics = _period_metrics(p, daily, weekly_paying)
        trend_labels.append(p.start.strftime("%m-%d") if kind == "daily" else p.label[5:8])
        for key in trend:
            trend[key].append(number(metrics.get(key)))

    funnel = _funnel(db, period)
    return ReportData(
        period=period,
        schema=marts,
        current=_period_metrics(period, daily, weekly_paying),
        previous=_period_metrics(period.previous, daily, weekly_paying),
        trend_labels=trend_labels,
        trend=trend,
        funnel=funnel,
        channels=_channels(db, period),
        skus=_skus(db, period),
        retention=_retention(db, period),
        retention_latest=_retention_latest(db, period),
        quality=_quality(db, period),
        load_batches=_load_batches(db),
        alerts=_alerts(db, period),
    )


def _between(column: str, period: Period) -> str:
    return f"{column} between {_d(period.start)} and {_d(period.end)}"


def _funnel(db: ReadOnlyWarehouse, period: Period) -> list[dict[str, Any]]:
    """The core funnel over the period: sessions per step summed over its days (a session
    belongs to one day), rates recomputed from the sums."""
    rows = db.records(
        f"""
        select step_number, step_label_zh, step_label_en, sum(sessions_reached) as sessions
        from {schema_name("marts")}.agg_funnel__daily
        where funnel_id = 'core' and {_between("metric_date", period)}
        group by step_number, step_label_zh, step_label_en
        order by step_number
        """
    )
    for i, row in enumerate(rows):
        row["rate_from_previous"] = _div(row["sessions"], rows[i - 1]["sessions"]) if i else None
        row["rate_from_first"] = _div(row["sessions"], rows[0]["sessions"])
        row["drop_off"] = number(rows[i - 1]["sessions"]) - number(row["sessions"]) if i else None
    return rows


def _channel_names(db: ReadOnlyWarehouse) -> dict[str, str]:
    reference = schema_name("reference")
    if not db.table_exists(reference, "channels"):
        return {}
    return {r["channel"]: r["name_zh"] for r in db.records(f"select * from {reference}.channels")}


def _channels(db: ReadOnlyWarehouse, period: Period) -> list[dict[str, Any]]:
    marts = schema_name("marts")
    sales = db.records(
        f"""
        select channel, sum(gmv_yuan) as gmv_yuan, sum(orders) as orders
        from {marts}.agg_transaction__daily_by_channel
        where {_between("metric_date", period)}
        group by channel
        """
    )
    traffic = db.records(
        f"""
        select channel, sum(sessions) as sessions, sum(new_users) as new_users
        from {marts}.agg_traffic__daily_by_channel
        where {_between("metric_date", period)}
        group by channel
        """
    )
    names = _channel_names(db)
    by_channel: dict[str, dict[str, Any]] = {}
    for row in (*sales, *traffic):
        by_channel.setdefault(row["channel"], {"channel": row["channel"]}).update(row)
    total_gmv = sum(number(r.get("gmv_yuan")) or 0.0 for r in by_channel.values())
    total_sessions = sum(number(r.get("sessions")) or 0.0 for r in by_channel.values())
    out = []
    for row in by_channel.values():
        row["name_zh"] = names.get(row["channel"], row["channel"])
        row["gmv_share"] = _div(row.get("gmv_yuan"), total_gmv)
        row["session_share"] = _div(row.get("sessions"), total_sessions)
        out.append(row)
    return sorted(out, key=lambda r: (-(number(r.get("gmv_yuan")) or 0.0), r["channel"]))


def _skus(db: ReadOnlyWarehouse, period: Period) -> list[dict[str, Any]]:
    marts = schema_name("marts")
    table = "agg_sku_ranking__daily" if period.kind == "daily" else "agg_sku_ranking__weekly"
    return db.records(
        f"""
        select ranking.sku_rank, ranking.sku_id, products.product_title, products.category,
            ranking.units_sold, ranking.product_revenue_yuan
        from {marts}.{table} as ranking
        left join {marts}.dim_products as products on ranking.sku_id = products.sku_id
        where ranking.period_start = {_d(period.start)} and ranking.sku_rank <= 10
        order by ranking.sku_rank
        """
    )


def _retention(db: ReadOnlyWarehouse, period: Period) -> list[dict[str, Any]]:
    """Day-1 and day-7 retention of the cohorts of the 14 days ending on the period's end."""
    first = period.end - timedelta(days=13)
    rows = db.records(
        f"""
        select cohort_date, day_n, cohort_size, retained_users, retention_rate
        from {schema_name("marts")}.agg_retention__cohorts
        where day_n in (1, 7) and cohort_date between {_d(first)} and {_d(period.end)}
        order by cohort_date, day_n
        """
    )
    by_date: dict[date, dict[str, Any]] = {d: {"cohort_date": d} for d in _dates(first, period.end)}
    for row in rows:
        cohort = by_date[row["cohort_date"]]
        cohort["cohort_size"] = row["cohort_size"]
        cohort[f"d{row['day_n']}"] = number(row["retention_rate"])
    return list(by_date.values())


def _retention_latest(db: ReadOnlyWarehouse, period: Period) -> dict[int, dict[str, Any]]:
    """Per N in (1, 7): the cohorts whose day N falls in the period (for a day: cohort D - N),
    retained / cohort size over them."""
    out: dict[int, dict[str, Any]] = {}
    for n in (1, 7):
        first, last = period.start - timedelta(days=n), period.end - timedelta(days=n)
        row = db.records(
            f"""
            select sum(cohort_size) as cohort_size, sum(retained_users) as retained_users
            from {schema_name("marts")}.agg_retention__cohorts
            where day_n = {n} and cohort_date between {_d(first)} and {_d(last)}
            """
        )[0]
        out[n] = {
            "cohorts": f"{first}" if first == last else f"{first} – {last}",
            "cohort_size": row["cohort_size"],
            "rate": _div(row["retained_users"], row["cohort_size"]),
        }
    return out


def _quality(db: ReadOnlyWarehouse, period: Period) -> dict[str, Any]:
    marts = schema_name("marts")
    coverage = db.records(
        f"""
        select sum(paid_orders) as paid_orders, sum(tracked_paid_orders) as tracked
        from {marts}.agg_quality__tracking_coverage_daily
        where {_between("metric_date", period)}
        """
    )[0]
    plan = db.records(
        f"""
        select sum(events) as events, sum(violating_events) as violating,
            sum(late_events) as late
        from {marts}.agg_quality__tracking_plan_daily
        where {_between("event_date", period)}
        """
    )[0]
    return {
        "paid_orders": coverage["paid_orders"],
        "tracking_coverage": _div(coverage["tracked"], coverage["paid_orders"]),
        "events": plan["events"],
        "plan_violation_rate": _div(plan["violating"], plan["events"]),
        "late_rate": _div(plan["late"], plan["events"]),
    }


def _load_batches(db: ReadOnlyWarehouse) -> list[dict[str, Any]]:
    """The latest five load batches, all tables together (load batches are not per period)."""
    return db.records(
        f"""
        select batch_id, max(loaded_at) as loaded_at, sum(files) as files,
            sum(rows_read) as rows_read, sum(rows_rejected) as rows_rejected
        from {schema_name("marts")}.agg_quality__load_batches
        group by batch_id
        order by loaded_at desc, batch_id desc
        limit 5
        """
    )


def _alerts(db: ReadOnlyWarehouse, period: Period) -> list[dict[str, Any]]:
    return db.records(
        f"""
        select window_start_local, rule_id, rule_label_zh, rule_label_en, severity, metric,
            metric_value, baseline_value, relative_change, zscore
        from {schema_name("marts")}.fct_alert_evaluations
        where is_alert and {_between("cast(window_start_local as date)", period)}
        order by window_start_local, rule_id
        """
    )


# ---------------------------------------------------------------------------------------------
# Rendering

CSS = """
*{box-sizing:border-box}
body{font-family:"Noto Sans CJK SC","Noto Sans CJK TC","PingFang SC","Microsoft YaHei",
 system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1f2937}
header{background:#111827;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px} header p{margin:4px 0 0;color:#9ca3af;font-size:13px}
main{padding:18px 28px;max-width:1240px}
section{background:#fff;border-radius:8px;padding:14px 18px;margin:0 0 16px;
 box-shadow:0 1px 2px rgba(0,0,0,.06)}
h2{font-size:17px;margin:0 0 10px} h2 small{color:#6b7280;font-weight:normal;font-size:13px}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(175px,1fr));gap:10px}
.kpi{border:1px solid #e5e7eb;border-radius:6px;padding:8px 10px}
.kpi .zh{font-size:14px;font-weight:600} .kpi .en{font-size:11px;color:#6b7280}
.kpi .value{font-size:20px;margin:4px 0 2px;font-variant-numeric:tabular-nums}
.kpi .prev{font-size:11px;color:#6b7280}
.up{color:#059669} .down{color:#dc2626} .flat{color:#6b7280}
.charts{display:flex;flex-wrap:wrap;gap:14px}
svg.chart{background:#fff;max-width:100%;height:auto}
svg .chart-title{font-size:13px;font-weight:600;fill:#111827}
svg .axis{font-size:10px;fill:#6b7280} svg .grid{stroke:#e5e7eb;stroke-width:1}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{padding:4px 8px;border-bottom:1px solid #e5e7eb;text-align:right}
th{background:#f9fafb;font-weight:600} td.l,th.l{text-align:left}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px}
.ok{background:#d1fae5;color:#065f46} .warn{background:#fef3c7;color:#92400e}
.bad{background:#fee2e2;color:#991b1b}
.empty{color:#6b7280;font-style:italic}
footer{color:#6b7280;font-size:12px;padding:0 28px 24px}
"""

# Marks the page as rendered once the charts are found (a test reads data-charts-ready in the
# DOM Chromium dumps), and highlights the point under the pointer.
JS = """
(function () {
  var charts = document.querySelectorAll('svg.chart');
  var points = 0;
  charts.forEach(function (c) { points += Number(c.getAttribute('data-points') || 0); });
  document.body.setAttribute('data-charts-ready', String(charts.length));
  document.body.setAttribute('data-chart-points', String(points));
  document.querySelectorAll('svg.chart circle.point').forEach(function (p) {
    p.addEventListener('mouseenter', function () { p.setAttribute('r', '5'); });
    p.addEventListener('mouseleave', function () { p.setAttribute('r', '2.5'); });
  });
})();
"""


def page(title: str, subtitle: str, body: str, head_extra: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-Hant"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{head_extra}<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header>"
        f"<main>{body}</main><script>{JS}</script></body></html>\n"
    )


def bilingual(zh: str, en: str) -> str:
    return f'{escape(zh)} <small class="en">{escape(en)}</small>'


def kpi_cards(
    metrics: list[tuple[str, str, str, str]],
    current: dict[str, Any],
    previous: dict[str, Any],
    vs: str,
) -> str:
    cards = []
    for key, zh, en, kind in metrics:
        text, css = change(current.get(key), previous.get(key), kind)
        cards.append(
            f'<div class="kpi" data-metric="{key}" data-value="{number(current.get(key))!r}">'
            f'<div class="zh">{escape(zh)}</div><div class="en">{escape(en)}</div>'
            f'<div class="value">{escape(fmt(current.get(key), kind))}</div>'
            f'<div class="prev"><span class="{css}">{escape(text)}</span> {escape(vs)} '
            f"{escape(fmt(previous.get(key), kind))}</div></div>"
        )
    return f'<div class="kpis">{"".join(cards)}</div>'


def table(headers: list[tuple[str, str]], rows: list[list[str]], left: int = 1) -> str:
    """headers: (中文, English); the first `left` columns are left-aligned text."""
    head = "".join(
        f'<th class="{"l" if i < left else ""}">{escape(zh)}<br><small>{escape(en)}</small></th>'
        for i, (zh, en) in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{"l" if i < left else ""}">{cell}</td>' for i, cell in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(section_id: str, zh: str, en: str, content: str) -> str:
    return f'<section id="{section_id}"><h2>{bilingual(zh, en)}</h2>{content}</section>'


def _status(value: float | None, good: bool, warn: bool) -> str:
    if value is None:
        return '<span class="badge warn">無數據 no data</span>'
    if good:
        return '<span class="badge ok">正常 OK</span>'
    if warn:
        return '<span class="badge warn">注意 warning</span>'
    return '<span class="badge bad">異常 failing</span>'


def render(data: ReportData) -> str:
    period = data.period
    daily = period.kind == "daily"
    vs = "較前日 vs. previous day" if daily else "較上週 vs. previous week"
    metrics = [m for m in CORE_METRICS if daily or m[0] not in _WEEKLY_ONLY_DAILY]
    if not daily:
        wau = ("active_users", "週活躍用戶數", "Weekly active users (WAU)", "count")
        metrics = [wau if m[0] == "active_users" else m for m in metrics]
    sections = [
        _section(
            "core-metrics",
            "核心指標",
            "Core metrics",
            kpi_cards(metrics, data.current, data.previous, vs),
        )
    ]

    labels = data.trend_labels
    span = "近14日" if daily else "近8週"
    span_en = "last 14 days" if daily else "last 8 weeks"
    charts = [
        line_chart(
            "trend-gmv",
            f"成交總額 GMV（{span}）",
            labels,
            [Series("GMV", data.trend["gmv_yuan"])],
            "money",
        ),
        line_chart(
            "trend-orders",
            f"訂單數 Paid orders（{span}）",
            labels,
            [Series("orders", data.trend["orders"])],
            "count",
        ),
        line_chart(
            "trend-active-users",
            f"{'活躍用戶數 DAU' if daily else '週活躍用戶數 WAU'}（{span}）",
            labels,
            [Series("active users", data.trend["active_users"])],
            "count",
        ),
        line_chart(
            "trend-payment-success-rate",
            f"支付成功率 Payment success rate（{span}）",
            labels,
            [Series("payment success rate", data.trend["payment_success_rate"])],
            "rate",
        ),
    ]
    sections.append(
        _section(
            "trends",
            f"趨勢（{span}）",
            f"Trends ({span_en})",
            f'<div class="charts">{"".join(charts)}</div>',
        )
    )
    sections.append(_funnel_section(data))
    sections.append(_channel_section(data))
    sections.append(_sku_section(data))
    sections.append(_retention_section(data))
    sections.append(_quality_section(data))
    sections.append(_alert_section(data))

    title_zh = "日報" if daily else "週報"
    title = f"Shoplens {title_zh} {'Daily' if daily else 'Weekly'} report · {period.label}"
    subtitle = (
        f"報告期 Period: {period.start} – {period.end} · 對比 Compared with: "
        f"{period.previous.start} – {period.previous.end} · 數據 Data: {data.schema} · "
        f"生成於 Generated {data.generated_at:%Y-%m-%d %H:%M %Z}"
    )
    if not daily and data.current.get("days_with_data", 7) < 7:
        subtitle += f" · 本週僅{data.current['days_with_data']}天數據 partial week: "
        subtitle += f"{data.current['days_with_data']} of 7 days with data"
    return page(title, subtitle, "".join(sections))


def _funnel_section(data: ReportData) -> str:
    if not data.funnel:
        return _section(
            "funnel", "核心路徑漏斗", "Core funnel", '<p class="empty">無數據 No sessions</p>'
        )
    bars = bar_chart(
        "funnel",
        "核心路徑漏斗 Core funnel (sessions 會話數)",
        [
            (f"{r['step_label_zh']} {r['step_label_en']}", number(r["sessions"]))
            for r in data.funnel
        ],
        "count",
        width=560,
    )
    rows = [
        [
            f"{r['step_number']}. {escape(r['step_label_zh'])} "
            f"<small>{escape(r['step_label_en'])}</small>",
            fmt(r["sessions"], "count"),
            fmt(r["rate_from_previous"], "rate"),
            fmt(r["rate_from_first"], "rate"),
            fmt(r["drop_off"], "count"),
        ]
        for r in data.funnel
    ]
    headers = [
        ("步驟", "Step"),
        ("會話數", "Sessions"),
        ("上一步轉化率", "From previous"),
        ("整體轉化率", "From step 1"),
        ("流失會話數", "Drop-off"),
    ]
    return _section(
        "funnel",
        "核心路徑漏斗",
        "Core funnel",
        f'<div class="charts">{bars}</div>' + table(headers, rows),
    )


def _channel_section(data: ReportData) -> str:
    if not data.channels:
        return _section(
            "channels", "渠道結構", "Channel mix", '<p class="empty">無數據 No data</p>'
        )
    gmv = bar_chart(
        "channel-gmv",
        "各渠道成交總額 GMV by channel",
        [(f"{r['name_zh']} {r['channel']}", number(r.get("gmv_yuan"))) for r in data.channels],
        "money",
    )
    sessions = bar_chart(
        "channel-sessions",
        "各渠道會話數 Sessions by channel",
        [(f"{r['name_zh']} {r['channel']}", number(r.get("sessions"))) for r in data.channels],
        "count",
    )
    rows = [
        [
            f"{escape(r['name_zh'])} <small>{escape(r['channel'])}</small>",
            fmt(r.get("gmv_yuan"), "money"),
            fmt(r.get("gmv_share"), "rate"),
            fmt(r.get("orders"), "count"),
            fmt(r.get("sessions"), "count"),
            fmt(r.get("session_share"), "rate"),
            fmt(r.get("new_users"), "count"),
        ]
        for r in data.channels
    ]
    headers = [
        ("渠道", "Channel"),
        ("成交總額", "GMV"),
        ("GMV佔比", "GMV share"),
        ("訂單數", "Paid orders"),
        ("會話數", "Sessions"),
        ("會話佔比", "Session share"),
        ("新增用戶數", "New users"),
    ]
    return _section(
        "channels",
        "渠道結構",
        "Channel mix",
        f'<div class="charts">{gmv}{sessions}</div>' + table(headers, rows),
    )


def _sku_section(data: ReportData) -> str:
    if not data.skus:
        return _section(
            "skus", "SKU銷售排行", "Top SKUs", '<p class="empty">無銷售 No SKU sold</p>'
        )
    rows = [
        [
            str(r["sku_rank"]),
            escape(str(r["sku_id"])),
            escape(str(r.get("product_title") or "—")),
            escape(str(r.get("category") or "—")),
            fmt(r["units_sold"], "count"),
            fmt(r["product_revenue_yuan"], "money"),
        ]
        for r in data.skus
    ]
    headers = [
        ("排名", "Rank"),
        ("SKU", "SKU"),
        ("商品", "Product"),
        ("類目", "Category"),
        ("銷量", "Units sold"),
        ("銷售額", "Revenue"),
    ]
    return _section("skus", "SKU銷售排行（前10）", "Top 10 SKUs", table(headers, rows, left=4))


def _retention_section(data: ReportData) -> str:
    cards = []
    for n, zh, en in ((1, "次日留存率", "Day-1 retention"), (7, "7日留存率", "Day-7 retention")):
        latest = data.retention_latest[n]
        cards.append(
            f'<div class="kpi" data-metric="retention_d{n}" data-value="{latest["rate"]!r}">'
            f'<div class="zh">{zh}</div><div class="en">{en}</div>'
            f'<div class="value">{fmt(latest["rate"], "rate")}</div>'
            f'<div class="prev">新用戶批次 cohort {escape(latest["cohorts"])} · '
            f"{fmt(latest['cohort_size'], 'count')} 人 persons</div></div>"
        )
    labels = [r["cohort_date"].strftime("%m-%d") for r in data.retention]
    chart = line_chart(
        "retention",
        "留存率（按新用戶日期） Retention by cohort date",
        labels,
        [
            Series("次日 day 1", [r.get("d1") for r in data.retention]),
            Series("7日 day 7", [r.get("d7") for r in data.retention], dashed=True),
        ],
        "rate",
        width=560,
    )
    note = (
        '<p class="en"><small>N日留存率: of the persons new on a day, the share active on day '
        "D+N exactly; defined once day D+N is complete (gaps: not yet complete).</small></p>"
    )
    return _section(
        "retention",
        "留存",
        "Retention",
        f'<div class="kpis">{"".join(cards)}</div><div class="charts">{chart}</div>{note}',
    )


def coverage_thresholds() -> tuple[float, float, float]:
    """The tracking-coverage thresholds of the daily data tests (dbt vars in dbt_project.yml):
    warn below, fail below, on days with at least this many paid orders."""
    import yaml

    from shoplens.dbt import project_dir

    try:
        variables = yaml.safe_load((project_dir() / "dbt_project.yml").read_text())["vars"]
    except (ShoplensError, OSError, KeyError, TypeError):
        variables = {}
    return (
        float(variables.get("tracking_coverage_warn_below", 0.97)),
        float(variables.get("tracking_coverage_error_below", 0.90)),
        float(variables.get("tracking_coverage_min_paid_orders", 100)),
    )


def _quality_section(data: ReportData) -> str:
    q = data.quality
    coverage, violation, late = q["tracking_coverage"], q["plan_violation_rate"], q["late_rate"]
    warn_below, error_below, min_orders = coverage_thresholds()
    rows = [
        [
            "埋點覆蓋率 <small>Tracking coverage</small>",
            fmt(coverage, "rate"),
            _status(
                coverage,
                (coverage or 0) >= warn_below,
                (coverage or 0) >= error_below or (number(q["paid_orders"]) or 0) < min_orders,
            ),
            f"{fmt(q['paid_orders'], 'count')} 支付訂單 paid orders",
        ],
        [
            "埋點違規率 <small>Tracking-plan violation rate</small>",
            fmt(violation, "rate"),
            _status(violation, (violation or 0) <= 0.01, (violation or 0) <= 0.05),
            f"{fmt(q['events'], 'count')} 事件 events",
        ],
        [
            "遲到率 <small>Late rate</small>",
            fmt(late, "rate"),
            _status(late, (late or 0) <= 0.02, (late or 0) <= 0.05),
            "received after their reporting day",
        ],
    ]
    headers = [("指標", "Metric"), ("數值", "Value"), ("狀態", "Status"), ("說明", "Basis")]
    batches = [
        [
            escape(str(b["batch_id"])),
            escape(f"{b['loaded_at']:%Y-%m-%d %H:%M} UTC" if b["loaded_at"] else "—"),
            fmt(b["files"], "count"),
            fmt(b["rows_read"], "count"),
            fmt(b["rows_rejected"], "count"),
            fmt(_div(b["rows_rejected"], b["rows_read"]), "rate"),
        ]
        for b in data.load_batches
    ]
    batch_headers = [
        ("載入批次", "Load batch"),
        ("載入時間", "Loaded at"),
        ("文件數", "Files"),
        ("讀取行數", "Rows read"),
        ("拒收行數", "Rows rejected"),
        ("拒收率", "Rejected rate"),
    ]
    return _section(
        "quality",
        "數據質量",
        "Data quality",
        table(headers, rows, left=1)
        + "<h3>最近載入批次 <small>Latest load batches</small></h3>"
        + table(batch_headers, batches, left=2),
    )


# The columns of agg_monitoring__10min an alert rule may watch: (中文, English, format).
MONITORING_METRICS: dict[str, tuple[str, str, str]] = {
    "payment_success_rate": ("支付成功率", "Payment success rate", "rate"),
    "payment_attempts": ("支付嘗試數", "Payment attempts", "count"),
    "successful_payments": ("支付成功數", "Successful payments", "count"),
    "paid_orders": ("支付訂單數", "Paid orders", "count"),
    "gmv_yuan": ("成交總額", "GMV", "money"),
    "pv": ("頁面瀏覽量", "Page views", "count"),
    "active_users": ("活躍用戶數", "Active users", "count"),
}


def metric_label(metric: str) -> tuple[str, str, str]:
    return MONITORING_METRICS.get(metric, (metric, metric, "count"))


def _alert_section(data: ReportData) -> str:
    if not data.alerts:
        content = '<p class="empty" data-alerts="0">本期無告警 No alerts in this period</p>'
    else:
        rows = []
        for a in data.alerts:
            zh, en, kind = metric_label(a["metric"])
            relative = number(a["relative_change"])
            zscore = number(a.get("zscore"))
            rows.append(
                [
                    escape(f"{a['window_start_local']:%Y-%m-%d %H:%M}"),
                    f"{escape(a['rule_label_zh'])} <small>{escape(a['rule_label_en'])}</small>",
                    escape(a["severity"]),
                    f"{escape(zh)} <small>{escape(en)}</small>",
                    fmt(a["metric_value"], kind),
                    fmt(a["baseline_value"], kind),
                    "—" if relative is None else f"{relative * 100:+.1f}%",
                    "—" if zscore is None else f"{zscore:+.1f}",
                ]
            )
        headers = [
            ("窗口開始（本地）", "Window start (local)"),
            ("規則", "Rule"),
            ("級別", "Severity"),
            ("指標", "Metric"),
            ("數值", "Value"),
            ("基線", "Baseline"),
            ("相對變化", "Relative change"),
            ("Z值", "z-score"),
        ]
        content = f'<div data-alerts="{len(data.alerts)}">{table(headers, rows, left=4)}</div>'
    return _section("alerts", "本期告警", "Alerts in this period", content)


# ---------------------------------------------------------------------------------------------
# Entry point


def default_path(kind: str, day: date) -> Path:
    period = Period.of(kind, day)
    return Path("artifacts/reports") / f"{kind}-{period.start.isoformat()}.html"


def write_report(kind: str, day: date, target: str, out: Path | None = None) -> Path:
    if kind not in KINDS:
        raise ShoplensError(f"unknown report {kind!r}: choose daily or weekly")
    with read_only(target) as db:
        data = collect(db, kind, day)
    path = out or default_path(kind, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(render(data), encoding="utf-8")
    tmp.replace(path)
    return path
