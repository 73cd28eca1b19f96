"""The real-time board (實時看板): a self-refreshing page over the monitoring marts.

`shoplens board` serves it with the standard library's http.server; every request opens a fresh
read-only connection (DuckDB `read_only=True`, or PostgreSQL), re-renders the page and closes
the connection. The page reloads itself every `--refresh` seconds.

"Now" is the data's clock: the latest complete 10-minute window of fct_alert_evaluations (the
latest bucket of agg_monitoring__10min when there is none), so a replay shows as live data does.
Today's metrics run from midnight (reporting zone) through that window and are compared with the
same day last week through the same time; active users and the payment success rate are also
shown for that window against the same window a week earlier. Open alerts are the open incidents
of `<schema>_monitoring.alert_incidents` (written by `shoplens monitor`) when that table exists,
else the alerting windows of the latest hour.

DuckDB allows one writing process and, while it writes, no reader in another process: during a
`shoplens load` / `dbt build` the board shows its last good page with a note, and catches up on
the next refresh.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from shoplens.charts import Series, line_chart, number
from shoplens.dbt import schema_name
from shoplens.errors import ShoplensError
from shoplens.report import (
    ReadOnlyWarehouse,
    bilingual,
    kpi_cards,
    metric_label,
    page,
    read_only,
    table,
)

WINDOW = timedelta(minutes=10)
SUMMED = ("gmv_yuan", "paid_orders", "pv", "payment_attempts", "successful_payments")
BOARD_METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("gmv_yuan", "今日成交總額 GMV", "GMV today", "money"),
    ("paid_orders", "今日支付訂單數", "Paid orders today", "count"),
    ("payment_success_rate", "今日支付成功率", "Payment success rate today", "rate"),
    ("pv", "今日頁面瀏覽量", "Page views today", "count"),
    ("window_active_users", "活躍用戶數（最近10分鐘）", "Active users (latest 10 min)", "count"),
    (
        "window_payment_success_rate",
        "支付成功率（最近10分鐘）",
        "Payment success rate (latest 10 min)",
        "rate",
    ),
)


@dataclass
class BoardData:
    schema: str
    window_start_at: datetime  # the latest complete window (UTC)
    window_start_local: datetime
    day: date
    today: dict[str, Any]
    last_week: dict[str, Any]
    slots: list[str]
    trend_today: dict[str, list[float | None]]
    trend_last_week: dict[str, list[float | None]]
    alerts: list[dict[str, Any]]
    alerts_source: str


def _ts(value: datetime) -> str:
    return f"timestamp '{value:%Y-%m-%d %H:%M:%S}'"


def _buckets(db: ReadOnlyWarehouse, day: date, through: datetime) -> list[dict[str, Any]]:
    return db.records(
        f"""
        select bucket_start_at, bucket_start_local, payment_attempts, successful_payments,
            payment_success_rate, paid_orders, gmv_yuan, pv, active_users
        from {schema_name("marts")}.agg_monitoring__10min
        where bucket_date = date '{day.isoformat()}' and bucket_start_at <= {_ts(through)}
        order by bucket_start_at
        """
    )


def _totals(buckets: list[dict[str, Any]], window_start: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {key: sum(number(b[key]) or 0.0 for b in buckets) for key in SUMMED}
    out["gmv_yuan"] = round(out["gmv_yuan"], 2)  # to the fen
    attempts = out["payment_attempts"]
    out["payment_success_rate"] = out["successful_payments"] / attempts if attempts else None
    window = [b for b in buckets if b["bucket_start_at"] == window_start]
    out["window_active_users"] = window[0]["active_users"] if window else 0
    out["window_payment_success_rate"] = window[0]["payment_success_rate"] if window else None
    return out


def _slot(local: datetime) -> int:
    return (local.hour * 60 + local.minute) // 10


def _series(buckets: list[dict[str, Any]], slots: int, key: str) -> list[float | None]:
    values: list[float | None] = [None] * slots
    for b in buckets:
        index = _slot(b["bucket_start_local"])
        if index < slots:
            values[index] = number(b[key])
    return values


def collect(db: ReadOnlyWarehouse) -> BoardData | None:
    """The board's data, or None when the monitoring marts are empty."""
    marts = schema_name("marts")
    latest = db.records(
        f"""
        select window_start_at, window_start_local from {marts}.fct_alert_evaluations
        where window_start_at = (select max(window_start_at) from {marts}.fct_alert_evaluations)
        limit 1
        """
    ) or db.records(
        f"""
        select bucket_start_at as window_start_at, bucket_start_local as window_start_local
        from {marts}.agg_monitoring__10min
        where bucket_start_at = (select max(bucket_start_at) from {marts}.agg_monitoring__10min)
        """
    )
    if not latest:
        return None
    window_start_at = latest[0]["window_start_at"]
    window_local = latest[0]["window_start_local"]
    day = window_local.date()
    week = timedelta(days=7)
    today = _buckets(db, day, window_start_at)
    last_week = _buckets(db, day - week, window_start_at - week)
    slots = _slot(window_local) + 1
    labels = [f"{i // 6:02d}:{i % 6 * 10:02d}" for i in range(slots)]
    keys = ("gmv_yuan", "payment_success_rate", "pv", "active_users")
    return BoardData(
        schema=marts,
        window_start_at=window_start_at,
        window_start_local=window_local,
        day=day,
        today=_totals(today, window_start_at),
        last_week=_totals(last_week, window_start_at - week),
        slots=labels,
        trend_today={k: _series(today, slots, k) for k in keys},
        trend_last_week={k: _series(last_week, slots, k) for k in keys},
        **_open_alerts(db, window_start_at),
    )


def _open_alerts(db: ReadOnlyWarehouse, window_start_at: datetime) -> dict[str, Any]:
    marts, monitoring = schema_name("marts"), schema_name("monitoring")
    labels = (
        f"(select distinct rule_id, rule_label_zh, rule_label_en, severity, metric "
        f"from {marts}.fct_alert_evaluations)"
    )
    if db.table_exists(monitoring, "alert_incidents"):
        rows = db.records(
            f"""
            select incidents.incident_id, incidents.rule_id, rules.rule_label_zh,
                rules.rule_label_en, rules.severity, rules.metric,
                incidents.opened_window_start_at as since_at,
                incidents.last_alert_window_start_at as last_at
            from {monitoring}.alert_incidents as incidents
            left join {labels} as rules on incidents.rule_id = rules.rule_id
            where incidents.status = 'open'
            order by incidents.opened_window_start_at, incidents.rule_id
            """
        )
        return {"alerts": rows, "alerts_source": f"{monitoring}.alert_incidents"}
    rows = db.records(
        f"""
        select rule_id, rule_label_zh, rule_label_en, severity, metric,
            min(window_start_at) as since_at, max(window_start_at) as last_at
        from {marts}.fct_alert_evaluations
        where is_alert and window_start_at > {_ts(window_start_at - timedelta(hours=1))}
        group by rule_id, rule_label_zh, rule_label_en, severity, metric
        order by since_at, rule_id
        """
    )
    return {"alerts": rows, "alerts_source": f"{marts}.fct_alert_evaluations (latest hour)"}


def render(data: BoardData | None, refresh: int, note: str = "") -> str:
    head = f'<meta http-equiv="refresh" content="{refresh}">'
    banner = (
        f'<section class="note"><p class="bad badge">{escape(note)}</p></section>' if note else ""
    )
    if data is None:
        body = banner + (
            '<section id="no-data"><h2>無數據 <small>No data</small></h2>'
            "<p>The monitoring marts are empty: run `shoplens load` and `dbt build` (or "
            "`shoplens monitor`).</p></section>"
        )
        return page("Shoplens 實時看板 Real-time board", "", body, head)
    through = data.window_start_local + WINDOW
    vs = "較上週同期 vs. same time last week"
    cards = kpi_cards(list(BOARD_METRICS), data.today, data.last_week, vs)
    charts = "".join(
        line_chart(
            f"today-{key.replace('_', '-')}",
            f"{zh} {en}（今日每10分鐘 today, per 10 min）",
            data.slots,
            [
                Series("今日 today", data.trend_today[key]),
                Series("上週同日 same day last week", data.trend_last_week[key], dashed=True),
            ],
            kind,
            width=560,
        )
        for key, zh, en, kind in (
            ("gmv_yuan", "成交總額", "GMV", "money"),
            ("payment_success_rate", "支付成功率", "Payment success rate", "rate"),
            ("pv", "頁面瀏覽量", "Page views", "count"),
            ("active_users", "活躍用戶數", "Active users", "count"),
        )
    )
    body = (
        banner + f'<section id="today"><h2>{bilingual("今日核心指標", "Today so far")} '
        f"<small>{data.day} 00:00 – {through:%H:%M}</small></h2>{cards}</section>"
        + f'<section id="trend"><h2>{bilingual("今日趨勢", "Today, per 10 minutes")}</h2>'
        f'<div class="charts">{charts}</div></section>' + _alerts_html(data)
    )
    subtitle = (
        f"數據截至 Data through {through:%Y-%m-%d %H:%M} (reporting zone) · {data.schema} · "
        f"每{refresh}秒刷新 refreshes every {refresh} s · "
        f"頁面生成 rendered {datetime.now().astimezone():%H:%M:%S %Z}"
    )
    return page("Shoplens 實時看板 Real-time board", subtitle, body, head)


def _alerts_html(data: BoardData) -> str:
    title = bilingual("未關閉告警", "Open alerts")
    source = f"<small>{escape(data.alerts_source)}</small>"
    if not data.alerts:
        content = '<p class="empty" data-alerts="0">無未關閉告警 No open alerts</p>'
    else:
        rows = [
            [
                f"{escape(str(a.get('rule_label_zh') or a['rule_id']))} "
                f"<small>{escape(str(a.get('rule_label_en') or ''))}</small>",
                escape(str(a.get("severity") or "")),
                "{} <small>{}</small>".format(
                    *map(escape, metric_label(a.get("metric") or "")[:2])
                ),
                escape(f"{a['since_at']:%Y-%m-%d %H:%M} UTC" if a.get("since_at") else "—"),
                escape(f"{a['last_at']:%H:%M} UTC" if a.get("last_at") else "—"),
            ]
            for a in data.alerts
        ]
        headers = [
            ("規則", "Rule"),
            ("級別", "Severity"),
            ("指標", "Metric"),
            ("開始", "Since"),
            ("最近告警窗口", "Latest alerting window"),
        ]
        content = f'<div data-alerts="{len(data.alerts)}">{table(headers, rows, left=3)}</div>'
    return f'<section id="alerts"><h2>{title} {source}</h2>{content}</section>'


class Board:
    """Renders the page per request; keeps the last good page for when the warehouse is busy."""

    def __init__(self, target: str, refresh: int) -> None:
        self.target = target
        self.refresh = refresh
        self._last_good: tuple[datetime, BoardData | None] | None = None
        self._lock = threading.Lock()

    def html(self) -> tuple[int, str]:
        try:
            with read_only(self.target) as db:
                data = collect(db)
        except ShoplensError as exc:
            with self._lock:
                last = self._last_good
            if last is None:
                return 503, render(None, self.refresh, f"數據庫不可用 warehouse unavailable: {exc}")
            note = (
                f"數據庫正忙，顯示 {last[0]:%H:%M:%S} 的數據 warehouse busy, showing the data "
                f"read at {last[0]:%H:%M:%S}: {exc}"
            )
            return 200, render(last[1], self.refresh, note)
        with self._lock:
            self._last_good = (datetime.now().astimezone(), data)
        return 200, render(data, self.refresh)


def make_server(target: str, host: str, port: int, refresh: int) -> ThreadingHTTPServer:
    board = Board(target, refresh)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                self._send(200, "ok\n", "text/plain; charset=utf-8")
            elif path in ("/", "/index.html"):
                status, html = board.html()
                self._send(status, html, "text/html; charset=utf-8")
            else:
                self._send(404, "not found\n", "text/plain; charset=utf-8")

        def _send(self, status: int, body: str, content_type: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # one short line per request
            sys.stderr.write(f"board: {self.address_string()} {format % args}\n")

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve(
    target: str, host: str, port: int, refresh: int, on_ready: Callable[[str], None] = print
) -> None:
    try:
        server = make_server(target, host, port, refresh)
    except OSError as exc:
        raise ShoplensError(f"cannot serve the board on {host}:{port}: {exc.strerror}") from None
    bound_host, bound_port = server.server_address[:2]
    on_ready(f"http://{bound_host}:{bound_port}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
