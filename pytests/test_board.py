"""`shoplens board`: the real-time board served on a free port, rendered in headless Chromium
(no console errors, today's metrics equal to direct SQL over the monitoring marts, the 10-minute
charts drawn), reloading itself every --refresh seconds, re-rendered per request (an open
incident written to the monitor's state table shows on the next load), and still answering with
its last good page while another process holds DuckDB's write lock."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

import browser
from conftest import BIN, ROOT, Warehouse, make_warehouse

pytestmark = pytest.mark.xdist_group("board")
REFRESH = 1


@dataclass
class Board:
    wh: Warehouse
    url: str
    log: Path

    def get(self) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url, timeout=30) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8")

    def page_requests(self) -> int:
        return self.log.read_text().count('"GET / ')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    """The monitoring marts of ~800 users over 10 days, and `shoplens board` serving them."""
    from shoplens.generate import GeneratorConfig, generate

    tmp = tmp_path_factory.mktemp("board")
    start = date(2026, 9, 1)
    generate(GeneratorConfig(out_dir=tmp / "landing", users=800, days=10, start_date=start))
    wh = make_warehouse("duckdb", tmp)
    wh.run("shoplens", "load", str(tmp / "landing"), "--target", "duckdb")
    # The monitoring selection only, as `shoplens monitor` builds it (its data tests run in the
    # pipeline tests).
    wh.dbt(
        "build", "--quiet", "--select", "+fct_alert_evaluations", "--exclude-resource-type", "test"
    )
    port = free_port()
    log = tmp / "board.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [str(BIN / "shoplens"), "board", "--port", str(port), "--refresh", str(REFRESH)],
            cwd=ROOT,
            env=wh.env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "healthz", timeout=2) as response:
                    assert response.read() == b"ok\n"
                break
            except OSError:
                assert process.poll() is None, f"board exited: {log.read_text()}"
                assert time.monotonic() < deadline, f"board did not start: {log.read_text()}"
                time.sleep(0.2)
        yield Board(wh, url, log)
    finally:
        process.terminate()
        process.wait(timeout=10)


def expected_today(wh: Warehouse) -> dict[str, float]:
    """Today through the latest complete window, and the same day last week through the same
    time, by direct SQL over agg_monitoring__10min."""
    marts = f"{wh.schema}_marts"
    window_start, window_local = wh.query(
        f"select window_start_at, window_start_local from {marts}.fct_alert_evaluations "
        f"order by window_start_at desc limit 1"
    )[0]
    out = {"window_local": window_local}
    for name, days in (("today", 0), ("last_week", 7)):
        gmv, orders, pv = wh.query(
            f"""
            select sum(gmv_yuan), sum(paid_orders), sum(pv)
            from {marts}.agg_monitoring__10min
            where bucket_date = date '{window_local.date()}' - interval {days} day
                and bucket_start_at <= timestamp '{window_start}' - interval {days} day
            """
        )[0]
        out[name] = {"gmv_yuan": float(gmv), "paid_orders": orders, "pv": pv}
    return out


def test_board_renders_todays_metrics_in_chromium(
    board: Board,
    capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, object], None],
) -> None:
    browser.require_chromium()
    rendered = browser.render(board.url)
    assert rendered.console == [], f"console messages: {rendered.console}"
    dom = rendered.dom
    assert f'<meta http-equiv="refresh" content="{REFRESH}">' in dom
    assert f"每{REFRESH}秒刷新 refreshes every {REFRESH} s" in dom
    for label in ("實時看板", "今日成交總額 GMV", "今日支付成功率", "較上週同期", "未關閉告警"):
        assert label in dom, f"label {label} not rendered"
    expected = expected_today(board.wh)
    values = browser.metric_values(dom)
    today, last_week = expected["today"], expected["last_week"]
    assert values["gmv_yuan"] == pytest.approx(today["gmv_yuan"], abs=0.005)
    assert values["paid_orders"] == today["paid_orders"]
    assert values["pv"] == today["pv"]
    assert f"vs. same time last week ¥{last_week['gmv_yuan']:,.2f}" in dom
    through = expected["window_local"] + timedelta(minutes=10)
    assert f"{expected['window_local']:%Y-%m-%d} 00:00 – {through:%H:%M}" in dom
    charts = browser.charts(dom)
    for chart in ("today-gmv-yuan", "today-payment-success-rate", "today-pv"):
        assert charts.get(chart, 0) > 0, f"chart {chart} missing or empty: {charts}"
    shot = browser.screenshot(board.url, "board.png", height=1500)
    record_property("screenshot", str(shot))
    with capsys.disabled():
        print(f"\nscreenshot of the board: {shot}")


def test_board_reloads_itself(board: Board) -> None:
    """Chromium left on the page (kept open by its DevTools port) fetches it again every
    --refresh seconds."""
    browser.require_chromium()
    before = board.page_requests()
    with tempfile.TemporaryDirectory(
        prefix="chromium-profile-", ignore_cleanup_errors=True
    ) as profile:
        chromium = subprocess.Popen(
            [
                str(browser.CHROMIUM),
                *browser.FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                board.url,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(REFRESH * 4 + 0.5)
            assert chromium.poll() is None, "chromium exited early"
        finally:
            chromium.terminate()
            chromium.wait(timeout=10)
    assert board.page_requests() - before >= 3


def test_board_rerenders_per_request_and_survives_a_writer(board: Board) -> None:
    import duckdb

    status, html = board.get()
    assert status == 200 and 'data-alerts="0"' in html
    assert browser.is_self_contained(html) == []
    monitoring = f"{board.wh.schema}_monitoring"
    # Another process writing (here: this one) holds DuckDB's lock: the board answers with its
    # last good page and says so.
    with duckdb.connect(board.wh.env["SHOPLENS_DUCKDB_PATH"]) as con:
        status, busy = board.get()
        assert status == 200
        assert "warehouse busy" in busy and "今日成交總額 GMV" in busy
        # The monitor's state table (shoplens.monitor) with one open incident.
        con.execute(f"create schema if not exists {monitoring}")
        con.execute(
            f"create table {monitoring}.alert_incidents (incident_id text, rule_id text, "
            "status text, opened_window_start_at timestamp, last_alert_window_start_at "
            "timestamp, recovered_window_start_at timestamp, opened_notified_at timestamp, "
            "recovered_notified_at timestamp)"
        )
        con.execute(
            f"insert into {monitoring}.alert_incidents values "
            "('i1', 'payment_success_rate_drop', 'open', timestamp '2026-09-10 12:00', "
            "timestamp '2026-09-10 12:10', null, now(), null), "
            "('i0', 'pv_volume_anomaly', 'recovered', timestamp '2026-09-09 12:00', "
            "timestamp '2026-09-09 12:00', timestamp '2026-09-09 12:10', now(), now())"
        )
    status, html = board.get()
    assert status == 200 and "warehouse busy" not in html
    assert 'data-alerts="1"' in html
    assert "支付成功率驟降" in html and "Payment success rate dropped" in html
    assert f"{monitoring}.alert_incidents" in html
