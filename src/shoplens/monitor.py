"""Business monitoring (業務監控): one cycle loads new landing files, builds the monitoring
selection, reads the alert candidates of fct_alert_evaluations and notifies each incident once.

State lives in the warehouse, schema `<SHOPLENS_SCHEMA>_monitoring` (created when missing):

- alert_incidents: one row per incident (a run of alerting windows of one rule): its id, rule,
  the window that opened it, the last alerting window, status open | recovered, the window
  that recovered it and when the alert and the recovery notice went out.
- alert_notifications: one row per notification and channel: incident, kind alert | recovery,
  channel, ok, attempts, error (redacted by shoplens.notify), sent_at.

Rules:

- A rule with an open incident is not notified again; its last alerting window moves on.
- When the rule's latest complete window no longer breaches (is_breach false), a recovery
  notice goes out once and the incident is closed.
- Only fresh windows page people: an alert candidate opens an incident only when its window is
  at most `max_age_windows` (default 3) windows before the rule's latest complete window, and
  newer than any window of an earlier incident of the rule. Loading or rebuilding months of
  history therefore pages nobody for last month; the age is measured on the data's clock (the
  collector's), so a replay behaves as live data does.
- A failed notification is retried (shoplens.notify.send) and recorded; it never stops a cycle.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shoplens.errors import ShoplensError

log = logging.getLogger(__name__)

WINDOW = timedelta(minutes=10)
DBT_SELECTION = [
    "build",
    "--select",
    "+fct_alert_evaluations",
    "--exclude-resource-type",
    "test",
    "unit_test",
]

INCIDENT_COLUMNS = (
    ("incident_id", "text"),
    ("rule_id", "text"),
    ("status", "text"),  # open | recovered
    ("opened_window_start_at", "timestamp"),
    ("last_alert_window_start_at", "timestamp"),
    ("recovered_window_start_at", "timestamp"),
    ("opened_notified_at", "timestamp"),
    ("recovered_notified_at", "timestamp"),
)
NOTIFICATION_COLUMNS = (
    ("incident_id", "text"),
    ("kind", "text"),  # alert | recovery
    ("channel", "text"),
    ("ok", "boolean"),
    ("attempts", "integer"),
    ("error", "text"),
    ("sent_at", "timestamp"),
)


@dataclass(frozen=True)
class MonitorConfig:
    target: str = "duckdb"
    landing: Path | None = None
    report_url: str | None = None
    max_age_windows: int = 3
    attempts: int = 3
    backoff_seconds: float = 2.0
    timeout_seconds: float = 10.0
    build: bool = True
    sleep: Callable[[float], None] = time.sleep


@dataclass
class CycleResult:
    files_loaded: int = 0
    latest_window_start_at: datetime | None = None
    alerts: list[str] = field(default_factory=list)  # incident ids notified this cycle
    recoveries: list[str] = field(default_factory=list)
    failed_deliveries: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        window = (
            f"{self.latest_window_start_at:%Y-%m-%d %H:%M} UTC"
            if self.latest_window_start_at
            else "none"
        )
        return (
            f"monitor cycle: {self.files_loaded} new file(s), latest complete window {window}, "
            f"{len(self.alerts)} alert(s), {len(self.recoveries)} recovery notice(s), "
            f"{self.failed_deliveries} failed delivery(ies), {self.seconds:.1f} s"
        )


def state_schema() -> str:
    from shoplens.dbt import schema_name

    return schema_name("monitoring")


def marts_schema() -> str:
    from shoplens.dbt import schema_name

    return schema_name("marts")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def load_new_files(landing: Path, target: str) -> int:
    """Load landing files not loaded before (the loader skips known files by checksum)."""
    from shoplens import load as loader
    from shoplens.warehouse import connect

    files = loader.discover(landing)
    if not files:
        return 0
    warehouse = connect(target)
    try:
        batch = loader.load(warehouse, files)
    finally:
        warehouse.close()
    return sum(1 for f in batch.files if not f.skipped_batch)


def build(target: str) -> None:
    """The monitoring selection: fct_alert_evaluations and everything upstream of it (seeds and
    models; the models upstream are incremental, tests are left to the scheduled `dbt build`)."""
    from shoplens.dbt import run_dbt

    run_dbt([*DBT_SELECTION, "--quiet"], target=target)


def run_cycle(config: MonitorConfig) -> CycleResult:
    """One monitoring cycle; raises ShoplensError on a load, dbt or database error."""
    started = time.monotonic()
    result = CycleResult()
    if config.landing is not None:
        result.files_loaded = load_new_files(config.landing, config.target)
    if config.build:
        build(config.target)
    from shoplens.warehouse import connect, database_errors

    warehouse = connect(config.target)
    try:
        with database_errors(config.target, "the monitor's queries"):
            ensure_state_tables(warehouse)
            evaluate(warehouse, config, result)
    finally:
        warehouse.close()
    result.seconds = time.monotonic() - started
    return result


# --- state -------------------------------------------------------------------------------------


def ensure_state_tables(warehouse: Any) -> None:
    schema = state_schema()
    warehouse.query(f"create schema if not exists {schema}")
    for table, columns in (
        ("alert_incidents", INCIDENT_COLUMNS),
        ("alert_notifications", NOTIFICATION_COLUMNS),
    ):
        cols = ", ".join(f"{name} {typ}" for name, typ in columns)
        warehouse.query(f"create table if not exists {schema}.{table} ({cols})")


def _rows(
    warehouse: Any, names: tuple[str, ...], sql: str, params: tuple = ()
) -> list[dict[str, Any]]:
    """`select <names> <sql>` as dicts; `?` in `sql` is the driver's placeholder."""
    rows = warehouse.query(f"select {', '.join(names)} {sql.replace('?', warehouse.param)}", params)
    return [dict(zip(names, row, strict=True)) for row in rows]


INCIDENT_FIELDS = (
    "incident_id",
    "rule_id",
    "status",
    "opened_window_start_at",
    "last_alert_window_start_at",
    "recovered_window_start_at",
)
EVALUATION_FIELDS = (
    "rule_id",
    "rule_label_en",
    "rule_label_zh",
    "metric",
    "severity",
    "channels",
    "window_start_at",
    "window_start_local",
    "metric_value",
    "baseline_value",
    "relative_change",
    "is_breach",
    "is_alert",
)


def evaluate(warehouse: Any, config: MonitorConfig, result: CycleResult) -> None:
    """Open, continue and recover incidents from fct_alert_evaluations; notify what changed."""
    marts, schema = marts_schema(), state_schema()
    latest = _rows(
        warehouse,
        EVALUATION_FIELDS,
        f"from {marts}.fct_alert_evaluations "
        f"where window_start_at = (select max(window_start_at) from {marts}.fct_alert_evaluations) "
        "order by rule_id",
    )
    if not latest:
        return
    latest_window = latest[0]["window_start_at"]
    result.latest_window_start_at = latest_window
    oldest = latest_window - WINDOW * config.max_age_windows
    candidates = _rows(
        warehouse,
        EVALUATION_FIELDS,
        f"from {marts}.fct_alert_evaluations "
        "where is_alert and window_start_at >= ? order by rule_id, window_start_at",
        (oldest,),
    )
    incidents = _rows(warehouse, INCIDENT_FIELDS, f"from {schema}.alert_incidents")
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for candidate in candidates:
        by_rule.setdefault(candidate["rule_id"], []).append(candidate)
    latest_by_rule = {row["rule_id"]: row for row in latest}

    for rule_id, alerts in by_rule.items():
        mine = [i for i in incidents if i["rule_id"] == rule_id]
        seen_until = max(
            (
                max(
                    w
                    for w in (i["last_alert_window_start_at"], i["recovered_window_start_at"])
                    if w
                )
                for i in mine
            ),
            default=None,
        )
        fresh = [a for a in alerts if seen_until is None or a["window_start_at"] > seen_until]
        if not fresh:
            continue
        newest = fresh[-1]["window_start_at"]
        open_incident = next((i for i in mine if i["status"] == "open"), None)
        if open_incident is not None:
            warehouse.query(
                f"update {schema}.alert_incidents set last_alert_window_start_at = "
                f"{warehouse.param} where incident_id = {warehouse.param}",
                (newest, open_incident["incident_id"]),
            )
            open_incident["last_alert_window_start_at"] = newest
            continue
        first = fresh[0]
        incident_id = f"{rule_id}@{first['window_start_at']:%Y-%m-%dT%H:%MZ}"
        ok = _notify(warehouse, config, result, incident_id, "alert", first)
        warehouse.query(
            f"insert into {schema}.alert_incidents (incident_id, rule_id, status, "
            "opened_window_start_at, last_alert_window_start_at, opened_notified_at) values "
            f"({', '.join([warehouse.param] * 6)})",
            (incident_id, rule_id, "open", first["window_start_at"], newest, _now()),
        )
        incidents.append(
            {
                "incident_id": incident_id,
                "rule_id": rule_id,
                "status": "open",
                "opened_window_start_at": first["window_start_at"],
                "last_alert_window_start_at": newest,
                "recovered_window_start_at": None,
            }
        )
        result.alerts.append(incident_id)
        log.warning(
            "alert %s: %s %s in the window from %s (local), delivered: %s",
            incident_id,
            first["metric"],
            first["metric_value"],
            first["window_start_local"],
            ok,
        )

    for incident in incidents:
        if incident["status"] != "open":
            continue
        now_row = latest_by_rule.get(incident["rule_id"])
        if now_row is None or now_row["is_breach"]:
            continue
        if now_row["window_start_at"] <= incident["last_alert_window_start_at"]:
            continue
        ok = _notify(warehouse, config, result, incident["incident_id"], "recovery", now_row)
        warehouse.query(
            f"update {schema}.alert_incidents set status = 'recovered', "
            f"recovered_window_start_at = {warehouse.param}, recovered_notified_at = "
            f"{warehouse.param} where incident_id = {warehouse.param}",
            (now_row["window_start_at"], _now(), incident["incident_id"]),
        )
        incident["status"] = "recovered"
        result.recoveries.append(incident["incident_id"])
        log.warning(
            "recovered %s (window %s local), delivered: %s",
            incident["incident_id"],
            now_row["window_start_local"],
            ok,
        )


def message_for(row: dict[str, Any], kind: str, report_url: str | None) -> Any:
    from shoplens.notify import AlertMessage

    start = row["window_start_local"]
    url = (
        f"{report_url}{'&' if '?' in report_url else '?'}date={start:%Y-%m-%d}"
        if report_url
        else None
    )
    value = row["metric_value"]
    baseline = row["baseline_value"]
    return AlertMessage(
        rule_id=row["rule_id"],
        rule_label_en=row["rule_label_en"],
        rule_label_zh=row["rule_label_zh"],
        metric=row["metric"],
        severity=row["severity"],
        window_start_local=start,
        window_end_local=start + WINDOW,
        value=None if value is None else float(value),
        baseline=None if baseline is None else float(baseline),
        change=None if row["relative_change"] is None else float(row["relative_change"]),
        kind=kind,
        report_url=url,
    )


def _notify(
    warehouse: Any,
    config: MonitorConfig,
    result: CycleResult,
    incident_id: str,
    kind: str,
    row: dict[str, Any],
) -> bool:
    """Send and record; True when at least one channel took the message."""
    from shoplens.notify import send

    channels = [c for c in (row["channels"] or "").split(";") if c.strip()]
    deliveries = send(
        message_for(row, kind, config.report_url),
        channels,
        attempts=config.attempts,
        backoff_seconds=config.backoff_seconds,
        timeout_seconds=config.timeout_seconds,
        sleep=config.sleep,
    )
    schema = state_schema()
    for delivery in deliveries:
        if delivery.skipped:
            continue
        result.failed_deliveries += not delivery.ok
        warehouse.query(
            f"insert into {schema}.alert_notifications (incident_id, kind, channel, ok, attempts, "
            f"error, sent_at) values ({', '.join([warehouse.param] * 7)})",
            (
                incident_id,
                kind,
                delivery.channel,
                delivery.ok,
                delivery.attempts,
                delivery.error,
                _now(),
            ),
        )
    return any(d.ok for d in deliveries)


# --- the loop ----------------------------------------------------------------------------------


def parse_every(value: str) -> float:
    """'5m', '30s', '1h' or plain seconds -> seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    text = value.strip().lower()
    try:
        seconds = float(text[:-1]) * units[text[-1]] if text[-1:] in units else float(text)
    except (ValueError, IndexError):
        raise ShoplensError(f"bad interval {value!r}: use e.g. 30s, 5m or 1h") from None
    if seconds <= 0:
        raise ShoplensError(f"bad interval {value!r}: must be positive")
    return seconds


def run_forever(config: MonitorConfig, every_seconds: float, cycles: int | None = None) -> None:
    """Run a cycle every `every_seconds`; an error is logged in one line and the loop goes on."""
    from shoplens.notify import redact

    done = 0
    while cycles is None or done < cycles:
        started = time.monotonic()
        try:
            log.info(run_cycle(config).summary())
        except ShoplensError as exc:
            log.error("monitor cycle failed: %s", redact(str(exc)))
        except Exception as exc:  # the loop must go on: one line, then the next cycle
            first = (str(exc).strip().splitlines() or [""])[0]
            log.error("monitor cycle failed: %s: %s", type(exc).__name__, redact(first))
        done += 1
        if cycles is not None and done >= cycles:
            break
        config.sleep(max(0.0, every_seconds - (time.monotonic() - started)))
