"""`shoplens monitor` and `shoplens replay` end to end: generated data with an injected payment
outage replayed in 10-minute steps into a real warehouse, a monitor cycle after each step, the
alert and the recovery notice at a real local HTTP server (DingTalk signature checked by hand)
and a real SMTP server (aiosmtpd). No mocks."""

from __future__ import annotations

import email
import email.header
import json
import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import Warehouse, run_command
from local_servers import (
    CHANNEL_VARS,
    Mailbox,
    WebhookServer,
    dingtalk_sign,
    free_port,
    no_sleep,
)
from shoplens.generate import GeneratorConfig, IncidentSpec, generate

LOCAL = ZoneInfo("Asia/Shanghai")
# Enough buyers for the design rule's volume (>= 30 finished attempts per busy 10-minute window)
# from a small population: 15,000 people, 30x the default share of sessions that buy.
USERS = 15_000
PURCHASE_MULTIPLIER = 30.0
START = date(2026, 9, 1)  # a Tuesday
INCIDENT_START_LOCAL = datetime(2026, 9, 2, 21, 0, tzinfo=LOCAL)  # the evening peak
INCIDENT_MINUTES = 30
# A second, later outage for the failure test (by then the first is history).
SECOND_INCIDENT_START_LOCAL = datetime(2026, 9, 2, 22, 30, tzinfo=LOCAL)
DINGTALK_TOKEN = "dt0ken-monitor-7f3a9c2e1b5d4"
DINGTALK_SECRET = "SECmonitor+signing/secret=7"


def _shop(out: Path, days: int, incidents: tuple[IncidentSpec, ...] = ()) -> Path:
    """The monitoring tests' shop: USERS people buying PURCHASE_MULTIPLIER times as often as the
    demo's, from START, no promotion day; landing files in `out`."""
    generate(
        GeneratorConfig(
            out_dir=out,
            users=USERS,
            days=days,
            start_date=START,
            promotion_day=None,
            purchase_multiplier=PURCHASE_MULTIPLIER,
            incidents=incidents,
        )
    )
    return out


@pytest.fixture(scope="module")
def outage_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two days; on the second, a 30-minute payment outage (30 % success) from 21:00 local and
    a 20-minute one from 22:30."""
    out = tmp_path_factory.mktemp("outage") / "source"
    incidents = (
        IncidentSpec(
            start=INCIDENT_START_LOCAL.astimezone(UTC), minutes=INCIDENT_MINUTES, success_rate=0.3
        ),
        IncidentSpec(
            start=SECOND_INCIDENT_START_LOCAL.astimezone(UTC), minutes=20, success_rate=0.3
        ),
    )
    return _shop(out, days=2, incidents=incidents)


@pytest.fixture
def monitored(
    use_warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Warehouse:
    """The warehouse, this process pointed at it (dbt runs in-process from the repository), no
    channel configured from the caller's environment."""
    from conftest import ROOT

    for name in CHANNEL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return use_warehouse


def _state(engine: str, sql: str) -> list[tuple]:
    """Read the monitor's state through the same connection code the monitor uses."""
    from shoplens.warehouse import connect

    warehouse = connect(engine)
    try:
        return warehouse.query(sql)
    finally:
        warehouse.close()


def _subject(envelope: object) -> str:
    message = email.message_from_bytes(envelope.content)  # type: ignore[attr-defined]
    return str(email.header.make_header(email.header.decode_header(message["Subject"])))


def test_outage_is_alerted_within_one_window_once_then_recovers(
    monitored: Warehouse,
    outage_source: Path,
    webhook_server: WebhookServer,
    smtp_server: tuple[int, Mailbox],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from shoplens.monitor import MonitorConfig, run_cycle, state_schema
    from shoplens.replay import Replay, steps

    smtp_port, mailbox = smtp_server
    monkeypatch.setenv(
        "SHOPLENS_DINGTALK_WEBHOOK",
        f"{webhook_server.base_url}/robot/send?access_token={DINGTALK_TOKEN}",
    )
    monkeypatch.setenv("SHOPLENS_DINGTALK_SECRET", DINGTALK_SECRET)
    monkeypatch.setenv("SHOPLENS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SHOPLENS_SMTP_PORT", str(smtp_port))
    monkeypatch.setenv("SHOPLENS_SMTP_FROM", "alerts@shoplens.test")
    monkeypatch.setenv("SHOPLENS_SMTP_TO", "oncall@shoplens.test")
    monkeypatch.setenv("SHOPLENS_SMTP_STARTTLS", "0")
    caplog.set_level(logging.DEBUG)
    truth = json.loads((outage_source / "ground_truth.json").read_text())
    incident = truth["incidents"][0]
    outage_start = datetime.fromisoformat(incident["start"].replace("Z", "+00:00"))
    outage_end = datetime.fromisoformat(incident["end"].replace("Z", "+00:00"))
    assert outage_start == INCIDENT_START_LOCAL.astimezone(UTC)

    landing = tmp_path / "landing"
    config = MonitorConfig(
        target=monitored.engine,
        landing=landing,
        report_url="https://reports.shoplens.test/daily",
        backoff_seconds=0,
        sleep=no_sleep,
    )
    feed = Replay(outage_source, landing)
    begin = outage_start - timedelta(minutes=10)
    # History: the six hours before (its windows are evaluated, and page nobody), in one go.
    feed.skip_until(outage_start - timedelta(hours=6))
    feed.write_until(begin, "history")
    first = run_cycle(config)
    assert first.files_loaded > 0 and first.alerts == [] and first.recoveries == []

    alert_seen_after: datetime | None = None
    recovery_seen_after: datetime | None = None
    step_start = begin
    for step_end in steps(begin, outage_end + timedelta(minutes=20), 600):
        feed.write_until(step_end, f"{step_start:%Y%m%dT%H%M}")
        run_cycle(config)
        titles = [r.body["markdown"]["title"] for r in webhook_server.received("/robot/send")]
        if alert_seen_after is None and any("ALERT" in t for t in titles):
            alert_seen_after = step_end
        if recovery_seen_after is None and any("RECOVERED" in t for t in titles):
            recovery_seen_after = step_end
        step_start = step_end

    # The alert: once, signed, about the first complete window after the outage's start.
    requests = webhook_server.received("/robot/send")
    alerts = [r for r in requests if "ALERT" in r.body["markdown"]["title"]]
    recoveries = [r for r in requests if "RECOVERED" in r.body["markdown"]["title"]]
    assert len(alerts) == 1, [r.body["markdown"]["title"] for r in requests]
    assert len(recoveries) == 1
    for request in requests:
        [timestamp] = request.query["timestamp"]
        assert request.query["sign"] == [dingtalk_sign(DINGTALK_SECRET, timestamp)]
        assert request.query["access_token"] == [DINGTALK_TOKEN]
    text = alerts[0].body["markdown"]["text"]
    # The outage starts at 21:00 local, a window boundary: the first complete window after it
    # is 21:00-21:10, complete once the collector's clock passes 21:10.
    first_window = "2026-09-02 21:00–21:10"
    for expected in (
        "支付成功率驟降",
        "Payment success rate dropped",
        "支付成功率",
        first_window,
        "critical",
        "https://reports.shoplens.test/daily?date=2026-09-02",
    ):
        assert expected in text
    assert alert_seen_after is not None and recovery_seen_after is not None
    first_window_end = outage_start + timedelta(minutes=10)
    # Replayed in 10-minute steps, the monitor first sees 21:10-21:20 data after the step that
    # ends at 21:20: one step after the window closes.
    assert alert_seen_after <= first_window_end + timedelta(minutes=10)
    delay = alert_seen_after - outage_start
    with capsys.disabled():
        print(
            f"\n[{monitored.engine}] detection delay: {delay} of simulated time after the "
            f"outage's start ({outage_start:%H:%M} UTC; the first complete window closes at "
            f"{first_window_end:%H:%M} UTC; the alert went out in the cycle after the step "
            f"ending {alert_seen_after:%H:%M} UTC)"
        )
    assert outage_end < recovery_seen_after <= outage_end + timedelta(minutes=20)
    assert "已恢復" in recoveries[0].body["markdown"]["text"]

    # The email: the alert and the recovery notice, each once.
    subjects = [_subject(envelope) for envelope in mailbox.envelopes]
    assert len(subjects) == 2, subjects
    assert subjects[0].startswith("[告警 ALERT · critical] 支付成功率驟降")
    assert subjects[1].startswith("[已恢復 RECOVERED · critical] 支付成功率驟降")

    schema = state_schema()
    incidents = _state(
        monitored.engine,
        f"select rule_id, status, opened_window_start_at, recovered_window_start_at "
        f"from {schema}.alert_incidents",
    )
    assert incidents == [
        (
            "payment_success_rate_drop",
            "recovered",
            outage_start.replace(tzinfo=None),
            outage_end.replace(tzinfo=None),
        )
    ]
    notifications = _state(
        monitored.engine,
        f"select kind, channel, ok, attempts from {schema}.alert_notifications "
        "order by kind, channel",
    )
    assert notifications == [
        ("alert", "dingtalk", True, 1),
        ("alert", "email", True, 1),
        ("recovery", "dingtalk", True, 1),
        ("recovery", "email", True, 1),
    ]
    seen = caplog.text + capsys.readouterr().err
    assert DINGTALK_SECRET not in seen and DINGTALK_TOKEN not in seen


def test_a_normal_week_raises_no_payment_alert(
    monitored: Warehouse, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Seven days, no incident, the same buyers as the outage test: the design rule has volume
    (many windows with >= 30 attempts) and never fires."""
    from shoplens.monitor import MonitorConfig, marts_schema, run_cycle

    source = _shop(tmp_path_factory.mktemp("week") / "landing", days=7)

    result = run_cycle(MonitorConfig(target=monitored.engine, landing=source))

    marts = marts_schema()
    windows, with_volume, alerts = _state(
        monitored.engine,
        "select count(*), "
        "sum(case when volume >= 30 then 1 else 0 end), "
        "sum(case when is_alert then 1 else 0 end) "
        f"from {marts}.fct_alert_evaluations where rule_id = 'payment_success_rate_drop'",
    )[0]
    print(
        f"\n[{monitored.engine}] normal week: {windows} windows, {with_volume} with >= 30 attempts"
    )
    assert windows >= 7 * 144 - 2  # every complete window of the week is evaluated
    assert with_volume >= 150  # otherwise "no alert" would prove nothing
    assert alerts == 0
    assert result.alerts == []


@pytest.mark.parametrize("warehouse", ["duckdb"], indirect=True)
def test_failed_notification_is_recorded_and_the_monitor_goes_on(
    monitored: Warehouse,
    outage_source: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """History holding a past outage pages nobody; the fresh outage's alert, with the channels
    down, is tried, recorded as failed, never raised; the incident is not notified again; the
    secrets show nowhere. Database errors: one line, exit 2 one-shot; logged and the loop goes
    on with --every."""
    import subprocess

    from shoplens.monitor import MonitorConfig, marts_schema, run_forever, state_schema
    from shoplens.replay import Replay

    truth = json.loads((outage_source / "ground_truth.json").read_text())
    past, fresh = (
        datetime.fromisoformat(i["start"].replace("Z", "+00:00")) for i in truth["incidents"]
    )
    landing = tmp_path / "landing"
    # In one go, from 90 minutes before the first outage (the rule's baseline is the hour before
    # a window) to 20 minutes into the second: the first outage's windows (21:00-21:30 local)
    # are history, more than 3 windows old; 22:30-22:40 is complete, fresh and alerting.
    feed = Replay(outage_source, landing)
    feed.skip_until(past - timedelta(minutes=90))
    feed.write_until(fresh + timedelta(minutes=20), "history")
    down = free_port()
    smtp_password = "smtp-pw:monitor!42"
    env = {
        **{k: v for k, v in monitored.env.items() if k not in CHANNEL_VARS},
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "SHOPLENS_DINGTALK_WEBHOOK": f"http://127.0.0.1:{down}/robot/send?access_token={DINGTALK_TOKEN}",
        "SHOPLENS_DINGTALK_SECRET": DINGTALK_SECRET,
        "SHOPLENS_SMTP_HOST": "127.0.0.1",
        "SHOPLENS_SMTP_PORT": str(down),
        "SHOPLENS_SMTP_USER": "alerts",
        "SHOPLENS_SMTP_PASSWORD": smtp_password,
        "SHOPLENS_SMTP_FROM": "alerts@shoplens.test",
        "SHOPLENS_SMTP_TO": "oncall@shoplens.test",
        "SHOPLENS_SMTP_STARTTLS": "0",
    }

    def monitor(*extra: str, environment: dict[str, str] = env) -> subprocess.CompletedProcess[str]:
        return run_command(
            "shoplens", "monitor", "--landing", str(landing), *extra, env=environment, timeout=600
        )

    first = monitor("--attempts", "2", "--backoff", "0")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "1 alert(s)" in first.stdout and "2 failed delivery(ies)" in first.stdout
    second = monitor("--attempts", "2", "--backoff", "0")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "0 alert(s)" in second.stdout  # the open incident is not notified again

    schema = state_schema()
    incidents = _state(
        "duckdb", f"select rule_id, status, opened_window_start_at from {schema}.alert_incidents"
    )
    assert incidents == [("payment_success_rate_drop", "open", fresh.replace(tzinfo=None))]
    past_alerts = _state(
        "duckdb",
        f"select count(*) from {marts_schema()}.fct_alert_evaluations "
        f"where is_alert and rule_id = 'payment_success_rate_drop' "
        f"and window_start_at < '{fresh.replace(tzinfo=None)}'",
    )
    assert past_alerts == [(3,)]  # the past outage's windows alert in the mart, paged nobody
    notifications = _state(
        "duckdb",
        f"select kind, channel, ok, attempts, error from {schema}.alert_notifications "
        "order by channel",
    )
    assert [row[:4] for row in notifications] == [
        ("alert", "dingtalk", False, 2),
        ("alert", "email", False, 2),
    ]
    assert all("refused" in row[4].lower() for row in notifications), notifications
    seen = "\n".join(
        [first.stdout, first.stderr, second.stdout, second.stderr, *(r[4] for r in notifications)]
    )
    assert "attempt 1/2 failed" in first.stderr
    for secret in (DINGTALK_TOKEN, DINGTALK_SECRET, smtp_password):
        assert secret not in seen

    # A database error: one-shot exits 2 with one line; --every logs it and goes on.
    not_a_database = tmp_path / "not-a-database.duckdb"
    not_a_database.write_text("this is not a DuckDB file\n")
    broken = monitor(environment={**env, "SHOPLENS_DUCKDB_PATH": str(not_a_database)})
    assert broken.returncode == 2
    [line] = [line for line in broken.stderr.splitlines() if line.startswith("error:")]
    assert "DuckDB" in line and str(not_a_database) in line
    monkeypatch.setenv("SHOPLENS_DUCKDB_PATH", str(not_a_database))
    caplog.set_level(logging.INFO, logger="shoplens.monitor")
    slept: list[float] = []
    run_forever(MonitorConfig(landing=landing, sleep=slept.append), every_seconds=300, cycles=3)
    failures = [r.getMessage() for r in caplog.records if "monitor cycle failed" in r.getMessage()]
    assert len(failures) == 3 and len(slept) == 2
    assert all("\n" not in failure for failure in failures)


def test_purchase_multiplier_scales_payments_only(tmp_path: Path) -> None:
    """10x the buyers gives about 10x the payment attempts (6-14x: retries and the cap at
    certainty); the default multiplier is not written to the ground truth."""
    counts = {}
    for multiplier in (1.0, 10.0):
        result = generate(
            GeneratorConfig(
                out_dir=tmp_path / str(multiplier),
                users=2000,
                days=2,
                start_date=START,
                promotion_day=None,
                purchase_multiplier=multiplier,
            )
        )
        rows = result.ground_truth["rows"]
        counts[multiplier] = (rows["payments"], result.ground_truth["config"])
    (base, base_config), (more, more_config) = counts[1.0], counts[10.0]
    assert 6 * base <= more <= 14 * base, (base, more)
    assert "purchase_multiplier" not in base_config  # the default leaves ground truth as it was
    assert more_config["purchase_multiplier"] == 10.0
    with pytest.raises(ValueError, match="purchase_multiplier"):
        generate(GeneratorConfig(out_dir=tmp_path / "bad", purchase_multiplier=0))
