"""Notifications (通知): one alert or recovery message, in Chinese and English, to the channels
an alert rule names (dingtalk, feishu, wecom, slack, email, sms).

Configuration comes only from environment variables; a channel without its variables is skipped
with a one-line warning:

- dingtalk: SHOPLENS_DINGTALK_WEBHOOK (the robot URL with its access_token),
  SHOPLENS_DINGTALK_SECRET (the signing secret; requests are signed when it is set)
- feishu: SHOPLENS_FEISHU_WEBHOOK, optional SHOPLENS_FEISHU_SECRET (signature verification)
- wecom: SHOPLENS_WECOM_WEBHOOK (the group bot URL with its key)
- slack: SHOPLENS_SLACK_WEBHOOK (an incoming webhook)
- sms: SHOPLENS_SMS_WEBHOOK (a gateway taking JSON {"title", "body"}), optional SHOPLENS_SMS_TOKEN
  (sent as a bearer token)
- email: SHOPLENS_SMTP_URL (an apprise mailto:// or mailtos:// URL), or SHOPLENS_SMTP_HOST,
  SHOPLENS_SMTP_FROM, SHOPLENS_SMTP_TO (comma-separated), optional SHOPLENS_SMTP_PORT,
  SHOPLENS_SMTP_USER + SHOPLENS_SMTP_PASSWORD, SHOPLENS_SMTP_STARTTLS (default 1; 0 for a plain
  SMTP relay, port 25 by default)

Email goes through apprise's `mailto://` plugin. DingTalk, Feishu / Lark, WeCom, Slack and the SMS
gateway are plain JSON webhooks posted with `requests`: apprise's plugins for them hard-code the
vendors' hosts, so a configured webhook URL (a proxy, a private deployment, a local test server)
could not be used.

Each channel is tried `attempts` times with exponential backoff; a failure is recorded in its
`DeliveryResult` and never raised, and the other channels still go out. Secrets (webhook tokens,
signing secrets, the SMTP password) never reach a log line or an error text: every error passes
through `redact`, and the URL-logging of urllib3 is redacted too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import apprise
import requests

log = logging.getLogger(__name__)

# Redacted wherever they could show (logs, error texts).
SECRET_VARS = (
    "SHOPLENS_DINGTALK_WEBHOOK",
    "SHOPLENS_DINGTALK_SECRET",
    "SHOPLENS_FEISHU_WEBHOOK",
    "SHOPLENS_FEISHU_SECRET",
    "SHOPLENS_WECOM_WEBHOOK",
    "SHOPLENS_SLACK_WEBHOOK",
    "SHOPLENS_SMS_WEBHOOK",
    "SHOPLENS_SMS_TOKEN",
    "SHOPLENS_SMTP_URL",
    "SHOPLENS_SMTP_PASSWORD",
)

METRIC_LABELS_ZH = {
    "payment_attempts": "支付嘗試次數",
    "successful_payments": "支付成功次數",
    "payment_success_rate": "支付成功率",
    "paid_orders": "支付訂單數",
    "gmv_yuan": "成交總額",
    "pv": "頁面瀏覽量",
    "active_users": "活躍用戶數",
}
SEVERITY_ZH = {"critical": "嚴重", "warning": "警告", "info": "提示"}


@dataclass(frozen=True)
class AlertMessage:
    """One alert (or its recovery) of one rule for one 10-minute window."""

    rule_id: str
    rule_label_en: str
    rule_label_zh: str
    metric: str
    severity: str
    window_start_local: datetime  # reporting-zone wall clock
    window_end_local: datetime
    value: float
    baseline: float
    change: float | None  # relative: -0.26 is a 26 % drop; None when the baseline is 0
    kind: str = "alert"  # "alert" | "recovery"
    report_url: str | None = None


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one channel: delivered (`ok`), failed (`error`), or not configured."""

    channel: str
    ok: bool
    attempts: int
    error: str | None = None
    skipped: bool = False


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str  # Markdown
    recovery: bool


class DeliveryError(Exception):
    """The endpoint answered, but did not accept the message."""


# --- rendering ---------------------------------------------------------------------------------


def format_value(metric: str, value: float | None) -> str:
    """Rates as percentages, money in yuan with 2 decimals, counts with thousands separators."""
    if value is None:
        return "n/a"
    if metric.endswith("_rate"):
        return f"{value * 100:.2f}%"
    if metric.endswith("_yuan"):
        return f"¥{value:,.2f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def format_change(change: float | None) -> str:
    return "n/a" if change is None else f"{change * 100:+.1f}%"


def format_window(start: datetime, end: datetime) -> str:
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"


def render(message: AlertMessage) -> tuple[str, str]:
    """The title and the Markdown body, both in Chinese and English."""
    recovery = message.kind == "recovery"
    status = "已恢復 RECOVERED" if recovery else "告警 ALERT"
    title = f"[{status} · {message.severity}] {message.rule_label_zh} / {message.rule_label_en}"
    value = format_value(message.metric, message.value)
    baseline = format_value(message.metric, message.baseline)
    change = format_change(message.change)
    window = format_window(message.window_start_local, message.window_end_local)
    metric_zh = METRIC_LABELS_ZH.get(message.metric, message.metric)
    severity_zh = SEVERITY_ZH.get(message.severity, message.severity)
    report = f"[{message.report_url}]({message.report_url})" if message.report_url else "—"
    lines = [
        f"**{message.rule_label_zh}** · {message.rule_label_en}",
        "",
        f"- **狀態 Status**: {status}",
        f"- **指標 Metric**: {metric_zh} (`{message.metric}`)",
        f"- **時間窗口 Window**: {window}",
        f"- **當前值 Value**: {value}",
        f"- **基線 Baseline**: {baseline}",
        f"- **變化 Change**: {change}",
        f"- **嚴重級別 Severity**: {severity_zh} {message.severity}",
        f"- **報告 Report**: {report}",
        "",
        _summary_zh(metric_zh, window, value, baseline, change, recovery),
        "",
        _summary_en(message.metric, window, value, baseline, change, recovery),
    ]
    return title, "\n".join(lines)


def _summary_zh(
    metric: str, window: str, value: str, baseline: str, change: str, recovery: bool
) -> str:
    state = "已恢復正常" if recovery else "超出告警閾值"
    return f"{metric}在 {window} 為 {value}，基線 {baseline}，變化 {change}，{state}。"


def _summary_en(
    metric: str, window: str, value: str, baseline: str, change: str, recovery: bool
) -> str:
    state = "is back to normal" if recovery else "crossed the alert threshold"
    return f"{metric} was {value} in {window} against a baseline of {baseline} ({change}): {state}."


def to_plain_text(markdown: str) -> str:
    """For SMS: links as their address, no emphasis marks."""
    text = re.sub(r"\[([^\]]*)\]\(([^)]*)\)", r"\2", markdown)
    return re.sub(r"\*\*|`|^#+ ", "", text, flags=re.MULTILINE)


def to_slack_mrkdwn(markdown: str) -> str:
    """Slack's mrkdwn: *bold* and <url|text> links."""
    text = re.sub(r"\[([^\]]*)\]\(([^)]*)\)", r"<\2|\1>", markdown)
    return re.sub(r"\*\*(.+?)\*\*", r"*\1*", text)


# --- redaction ---------------------------------------------------------------------------------

_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)[^/\s@'\"]+@", re.IGNORECASE)
_QUERY = re.compile(r"(?P<path>[^\s'\"<>?]*/[^\s'\"<>?]*)\?[^\s'\"<>]*")
_MIN_SECRET_PART = 16  # path segments this long in a webhook URL are tokens (Slack, Feishu)


def _secret_parts(value: str) -> list[str]:
    """A secret value, and the pieces of it that could show on their own."""
    parts = [value]
    url = urlsplit(value)
    if url.scheme and url.netloc:
        parts += [url.query, url.password or ""]
        parts += [v for _, v in parse_qsl(url.query)]
        parts += [s for s in url.path.split("/") if len(s) >= _MIN_SECRET_PART]
    return [p for p in parts if len(p) >= 4]


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    env = os.environ if env is None else env
    parts = [p for name in SECRET_VARS if env.get(name) for p in _secret_parts(env[name])]
    return sorted(set(parts), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """`text` without the configured secrets, URL credentials or URL query strings."""
    for secret in secret_values() if secrets is None else secrets:
        text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    text = _USERINFO.sub(r"\g<scheme>***@", text)
    return _QUERY.sub(r"\g<path>?***", text)


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), ()
        return True


_LIBRARY_LOGGERS = ("urllib3.connectionpool", "apprise")


def _guard_library_logs() -> None:
    """urllib3 logs request URLs (with tokens) at DEBUG; apprise logs SMTP errors."""
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactingFilter) for f in logger.filters):
            logger.addFilter(_RedactingFilter())


# --- channels ----------------------------------------------------------------------------------


def _post_json(
    url: str,
    payload: dict[str, Any],
    timeout: float,
    *,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    code_key: str | None = None,
) -> None:
    response = requests.post(url, json=payload, params=params, headers=headers, timeout=timeout)
    if not response.ok:
        raise DeliveryError(f"HTTP {response.status_code}: {response.text[:200]}")
    if code_key is not None:
        _check_vendor_code(response, code_key)


def _check_vendor_code(response: requests.Response, code_key: str) -> None:
    """DingTalk and WeCom answer HTTP 200 with {"errcode": non-zero} on failure; Feishu with
    {"code": non-zero}."""
    try:
        data = response.json()
    except ValueError:
        return
    code = data.get(code_key, 0) if isinstance(data, dict) else 0
    if code not in (0, "0", None):
        detail = data.get("errmsg") or data.get("msg") or ""
        raise DeliveryError(f"{code_key} {code}: {detail}")


def hmac_base64(key: str, message: str) -> str:
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _dingtalk(msg: Rendered, env: Mapping[str, str], timeout: float) -> None:
    """DingTalk custom robot: `timestamp` (ms) and `sign` = base64(HMAC-SHA256(key=secret,
    msg="{timestamp}\\n{secret}")) as query parameters (URL-encoded by requests)."""
    params = None
    if secret := env.get("SHOPLENS_DINGTALK_SECRET"):
        timestamp = str(round(time.time() * 1000))
        params = {"timestamp": timestamp, "sign": hmac_base64(secret, f"{timestamp}\n{secret}")}
    payload = {
        "msgtype": "markdown",
        "markdown": {"title": msg.title, "text": f"### {msg.title}\n\n{msg.body}"},
    }
    url = env["SHOPLENS_DINGTALK_WEBHOOK"]
    _post_json(url, payload, timeout, params=params, code_key="errcode")


def _feishu(msg: Rendered, env: Mapping[str, str], timeout: float) -> None:
    """Feishu / Lark custom bot: an interactive card; with a secret, `timestamp` (s) and
    `sign` = base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg="")) in the body."""
    payload: dict[str, Any] = {
        "msg_type": "interactive",
        "card": {
            "header": {
                "title": {"tag": "plain_text", "content": msg.title},
                "template": "green" if msg.recovery else "red",
            },
            "elements": [{"tag": "markdown", "content": msg.body}],
        },
    }
    if secret := env.get("SHOPLENS_FEISHU_SECRET"):
        timestamp = str(int(time.time()))
        payload |= {"timestamp": timestamp, "sign": hmac_base64(f"{timestamp}\n{secret}", "")}
    _post_json(env["SHOPLENS_FEISHU_WEBHOOK"], payload, timeout, code_key="code")


def _wecom(msg: Rendered, env: Mapping[str, str], timeout: float) -> None:
    payload = {"msgtype": "markdown", "markdown": {"content": f"### {msg.title}\n{msg.body}"}}
    _post_json(env["SHOPLENS_WECOM_WEBHOOK"], payload, timeout, code_key="errcode")


def _slack(msg: Rendered, env: Mapping[str, str], timeout: float) -> None:
    payload = {"text": f"*{msg.title}*\n{to_slack_mrkdwn(msg.body)}"}
    _post_json(env["SHOPLENS_SLACK_WEBHOOK"], payload, timeout)


def _sms(msg: Rendered, env: Mapping[str, str], timeout: float) -> None:
    """A generic SMS gateway: POST {"title", "body"}, with a bearer token when one is set."""
    token = env.get("SHOPLENS_SMS_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else None
    payload = {"title": msg.title, "body": to_plain_text(msg.body)}
    _post_json(env["SHOPLENS_SMS_WEBHOOK"], payload, timeout, headers=headers)


def _is_true(value: str | None, default: bool) -> bool:
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def email_url(env: Mapping[str, str]) -> str | None:
    """SHOPLENS_SMTP_URL as is (any apprise mailto:// or mailtos:// URL), or one built from
    SHOPLENS_SMTP_HOST / PORT / USER / PASSWORD / FROM / TO / STARTTLS (default on)."""
    if url := env.get("SHOPLENS_SMTP_URL"):
        return url
    host, sender, to = (env.get(f"SHOPLENS_SMTP_{k}") for k in ("HOST", "FROM", "TO"))
    if not (host and sender and to):
        return None
    starttls = _is_true(env.get("SHOPLENS_SMTP_STARTTLS"), default=True)
    port = env.get("SHOPLENS_SMTP_PORT") or ("587" if starttls else "25")
    user, password = env.get("SHOPLENS_SMTP_USER"), env.get("SHOPLENS_SMTP_PASSWORD")
    auth = f"{quote(user, safe='')}:{quote(password, safe='')}@" if user and password else ""
    query = {"smtp": host, "from": sender, "to": to, "mode": "starttls" if starttls else "insecure"}
    scheme = "mailtos" if starttls else "mailto"
    return f"{scheme}://{auth}{host}:{port}?{urlencode(query)}"


def _email(msg: Rendered, env: Mapping[str, str], timeout: float) -> None:
    """Through apprise (a fresh instance per attempt: a reused one throttles for seconds)."""
    notifier = apprise.Apprise()
    url = email_url(env) or ""
    if not notifier.add(f"{url}{'&' if '?' in url else '?'}cto={timeout}"):
        raise DeliveryError("apprise rejected the SMTP configuration")
    with apprise.LogCapture(level=logging.DEBUG, fmt="%(levelname)s %(message)s") as captured:
        delivered = notifier.notify(
            title=msg.title, body=msg.body, body_format=apprise.NotifyFormat.MARKDOWN
        )
    if not delivered:
        raise DeliveryError(_apprise_reason(captured.getvalue()))


def _apprise_reason(log_text: str) -> str:
    lines = [line for line in log_text.splitlines() if line.startswith(("WARNING", "ERROR"))]
    lines += [line for line in log_text.splitlines() if "Exception:" in line]
    return "; ".join(line.split(" ", 1)[1] for line in lines) or "apprise reported a failure"


@dataclass(frozen=True)
class Channel:
    deliver: Callable[[Rendered, Mapping[str, str], float], None]
    is_configured: Callable[[Mapping[str, str]], bool]
    needs: str  # what to set, for the "not configured" notice


CHANNELS: dict[str, Channel] = {
    "dingtalk": Channel(
        _dingtalk,
        lambda env: bool(env.get("SHOPLENS_DINGTALK_WEBHOOK")),
        "SHOPLENS_DINGTALK_WEBHOOK (+ SHOPLENS_DINGTALK_SECRET)",
    ),
    "feishu": Channel(
        _feishu,
        lambda env: bool(env.get("SHOPLENS_FEISHU_WEBHOOK")),
        "SHOPLENS_FEISHU_WEBHOOK (+ SHOPLENS_FEISHU_SECRET)",
    ),
    "wecom": Channel(
        _wecom, lambda env: bool(env.get("SHOPLENS_WECOM_WEBHOOK")), "SHOPLENS_WECOM_WEBHOOK"
    ),
    "slack": Channel(
        _slack, lambda env: bool(env.get("SHOPLENS_SLACK_WEBHOOK")), "SHOPLENS_SLACK_WEBHOOK"
    ),
    "email": Channel(
        _email,
        lambda env: email_url(env) is not None,
        "SHOPLENS_SMTP_URL, or SHOPLENS_SMTP_HOST, SHOPLENS_SMTP_FROM and SHOPLENS_SMTP_TO",
    ),
    "sms": Channel(_sms, lambda env: bool(env.get("SHOPLENS_SMS_WEBHOOK")), "SHOPLENS_SMS_WEBHOOK"),
}


# --- sending -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int
    backoff_seconds: float
    timeout_seconds: float
    sleep: Callable[[float], None]

    def wait(self, attempt: int) -> None:
        """Exponential backoff after failed attempt number `attempt` (1-based)."""
        self.sleep(self.backoff_seconds * 2 ** (attempt - 1))


def send(
    message: AlertMessage,
    channels: Iterable[str],
    *,
    attempts: int = 3,
    backoff_seconds: float = 2.0,
    timeout_seconds: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[DeliveryResult]:
    """Send `message` to each channel (in order, each once); never raises."""
    _guard_library_logs()
    rendered = Rendered(*render(message), recovery=message.kind == "recovery")
    env = dict(os.environ)
    policy = RetryPolicy(max(1, attempts), backoff_seconds, timeout_seconds, sleep)
    names = dict.fromkeys(name.strip().lower() for name in channels if name.strip())
    return [_deliver(name, rendered, env, policy) for name in names]


def _deliver(
    name: str, rendered: Rendered, env: Mapping[str, str], policy: RetryPolicy
) -> DeliveryResult:
    channel = CHANNELS.get(name)
    if channel is None:
        error = f"unknown channel {name!r} (known: {', '.join(CHANNELS)})"
        log.warning("notify: %s", error)
        return DeliveryResult(name, ok=False, attempts=0, error=error)
    if not channel.is_configured(env):
        log.warning("notify: %s skipped: not configured (set %s)", name, channel.needs)
        return DeliveryResult(name, ok=False, attempts=0, skipped=True)
    return _attempt(name, channel, rendered, env, policy)


def _attempt(
    name: str, channel: Channel, rendered: Rendered, env: Mapping[str, str], policy: RetryPolicy
) -> DeliveryResult:
    secrets = secret_values(env)
    error = ""
    for attempt in range(1, policy.attempts + 1):
        try:
            channel.deliver(rendered, env, policy.timeout_seconds)
        except Exception as exc:  # any failure is recorded, never raised
            error = redact(f"{type(exc).__name__}: {exc}", secrets)
            log.warning(
                "notify: %s attempt %d/%d failed: %s", name, attempt, policy.attempts, error
            )
            if attempt < policy.attempts:
                policy.wait(attempt)
            continue
        log.info("notify: %s delivered (attempt %d)", name, attempt)
        return DeliveryResult(name, ok=True, attempts=attempt)
    return DeliveryResult(name, ok=False, attempts=policy.attempts, error=error)
