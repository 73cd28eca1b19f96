"""Notifications against real servers on 127.0.0.1: a recording HTTP server (stdlib) for the
webhooks and aiosmtpd for email. No mocks. Expected texts and signatures are computed here by
hand from the message and the secrets, not taken from the code under test."""

from __future__ import annotations

import base64
import email
import email.header
import email.policy
import hashlib
import hmac
import logging
import time
from datetime import datetime

import pytest

from local_servers import CHANNEL_VARS, Mailbox, WebhookServer, dingtalk_sign, free_port, no_sleep
from shoplens.notify import AlertMessage, DeliveryResult, redact, render, send

DINGTALK_TOKEN = "dt0ken4c0ffee5eed1234567890abcdef"
DINGTALK_SECRET = "SECdingtalk+signing/secret=42"
SLACK_TOKEN = "xoxslacktokenXYZ123456789"
SMTP_PASSWORD = "smtp-p@ss:w0rd!"

# Payment success rate 70 % against 95 %: change = 0.70 / 0.95 − 1 = −0.2632 → "-26.3%".
PAYMENT_ALERT = AlertMessage(
    rule_id="payment_success_rate_drop",
    rule_label_en="Payment success rate dropped",
    rule_label_zh="支付成功率驟降",
    metric="payment_success_rate",
    severity="critical",
    window_start_local=datetime(2026, 3, 2, 14, 0),
    window_end_local=datetime(2026, 3, 2, 14, 10),
    value=0.70,
    baseline=0.95,
    change=0.70 / 0.95 - 1,
    kind="alert",
    report_url="https://reports.shoplens.test/daily/2026-03-02.html",
)
EXPECTED_IN_BODY = (
    "支付成功率驟降",
    "Payment success rate dropped",
    "支付成功率",
    "payment_success_rate",
    "2026-03-02 14:00–14:10",
    "70.00%",
    "95.00%",
    "-26.3%",
    "critical",
    "https://reports.shoplens.test/daily/2026-03-02.html",
)


# --- a recording HTTP server -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_channel_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test configures its channels itself; nothing from the caller's environment."""
    for name in CHANNEL_VARS:
        monkeypatch.delenv(name, raising=False)


# --- rendering ---------------------------------------------------------------------------------


def test_render_is_bilingual_with_units() -> None:
    title, body = render(PAYMENT_ALERT)
    assert title == "[告警 ALERT · critical] 支付成功率驟降 / Payment success rate dropped"
    for text in EXPECTED_IN_BODY:
        assert text in body
    assert "Value**: 70.00%" in body and "Baseline**: 95.00%" in body

    # GMV ¥12,345.60 against ¥20,000.00: 12345.6 / 20000 − 1 = −0.38272 → "-38.3%".
    gmv = AlertMessage(
        **{**PAYMENT_ALERT.__dict__, "metric": "gmv_yuan", "value": 12345.6, "baseline": 20000.0},
    )
    gmv = AlertMessage(**{**gmv.__dict__, "change": 12345.6 / 20000 - 1, "kind": "recovery"})
    title, body = render(gmv)
    assert title.startswith("[已恢復 RECOVERED · critical]")
    for text in ("¥12,345.60", "¥20,000.00", "-38.3%", "成交總額", "已恢復正常", "back to normal"):
        assert text in body


def test_redact_drops_url_credentials_queries_and_known_secrets() -> None:
    text = (
        "POST https://bob:pw@oapi.dingtalk.com/robot/send?access_token=abc&sign=x failed; "
        "url: /robot/send?access_token=abc (refused); "
        f"https://hooks.slack.com/services/T0/B0/{SLACK_TOKEN} 404"
    )
    assert redact(text, [SLACK_TOKEN]) == (
        "POST https://***@oapi.dingtalk.com/robot/send?*** failed; "
        "url: /robot/send?*** (refused); "
        "https://hooks.slack.com/services/T0/B0/*** 404"
    )


# --- HTTP channels -----------------------------------------------------------------------------


def test_dingtalk_markdown_with_valid_signature(
    webhook_server: WebhookServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(
        "SHOPLENS_DINGTALK_WEBHOOK",
        f"{webhook_server.base_url}/robot/send?access_token={DINGTALK_TOKEN}",
    )
    monkeypatch.setenv("SHOPLENS_DINGTALK_SECRET", DINGTALK_SECRET)
    caplog.set_level(logging.DEBUG)  # urllib3 logs request URLs at DEBUG

    results = send(PAYMENT_ALERT, ["dingtalk"], sleep=no_sleep)

    assert results == [DeliveryResult("dingtalk", ok=True, attempts=1)]
    [request] = webhook_server.received("/robot/send")
    assert request.query["access_token"] == [DINGTALK_TOKEN]
    [timestamp] = request.query["timestamp"]
    assert abs(int(timestamp) - time.time() * 1000) < 3_600_000
    assert request.query["sign"] == [dingtalk_sign(DINGTALK_SECRET, timestamp)]
    assert "+" not in request.raw_query.split("sign=")[1]  # URL-encoded once, as documented
    assert request.body["msgtype"] == "markdown"
    markdown = request.body["markdown"]
    assert markdown["title"] == render(PAYMENT_ALERT)[0]
    for text in EXPECTED_IN_BODY:
        assert text in markdown["text"]
    assert "/robot/send?***" in caplog.text
    assert DINGTALK_TOKEN not in caplog.text and request.query["sign"][0] not in caplog.text


def test_dingtalk_errcode_is_a_failure_after_retries_and_slack_still_goes_out(
    webhook_server: WebhookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook_server.replies["/robot/send"] = (200, '{"errcode": 310000, "errmsg": "sign not match"}')
    webhook_server.replies["/slack/hook"] = (200, "ok")
    monkeypatch.setenv(
        "SHOPLENS_DINGTALK_WEBHOOK", f"{webhook_server.base_url}/robot/send?access_token=abc"
    )
    monkeypatch.setenv("SHOPLENS_DINGTALK_SECRET", DINGTALK_SECRET)
    monkeypatch.setenv("SHOPLENS_SLACK_WEBHOOK", f"{webhook_server.base_url}/slack/hook")
    slept: list[float] = []

    dingtalk, slack = send(
        PAYMENT_ALERT, ["dingtalk", "slack"], attempts=3, backoff_seconds=0.5, sleep=slept.append
    )

    assert (dingtalk.ok, dingtalk.attempts) == (False, 3)
    assert dingtalk.error is not None and "310000" in dingtalk.error
    assert "sign not match" in dingtalk.error
    assert len(webhook_server.received("/robot/send")) == 3
    assert slept == [0.5, 1.0]  # exponential backoff between the three attempts
    assert (slack.ok, slack.attempts) == (True, 1)
    [request] = webhook_server.received("/slack/hook")
    assert request.body["text"].startswith("*[告警 ALERT · critical] 支付成功率驟降")
    for text in EXPECTED_IN_BODY:
        assert text in request.body["text"]
    assert "**" not in request.body["text"]  # Slack's mrkdwn, not Markdown


def test_wecom_feishu_and_sms_payloads(
    webhook_server: WebhookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    feishu_secret = "feishu-signing-secret"
    webhook_server.replies["/feishu/hook/abc"] = (200, '{"code": 0, "msg": "success"}')
    webhook_server.replies["/sms"] = (202, '{"status": "queued"}')
    base = webhook_server.base_url
    monkeypatch.setenv("SHOPLENS_WECOM_WEBHOOK", f"{base}/cgi-bin/webhook/send?key=wecom-key")
    monkeypatch.setenv("SHOPLENS_FEISHU_WEBHOOK", f"{base}/feishu/hook/abc")
    monkeypatch.setenv("SHOPLENS_FEISHU_SECRET", feishu_secret)
    monkeypatch.setenv("SHOPLENS_SMS_WEBHOOK", f"{base}/sms")
    monkeypatch.setenv("SHOPLENS_SMS_TOKEN", "sms-gateway-token")

    results = send(PAYMENT_ALERT, ["wecom", "feishu", "sms"], sleep=no_sleep)

    assert [(r.channel, r.ok, r.attempts) for r in results] == [
        ("wecom", True, 1),
        ("feishu", True, 1),
        ("sms", True, 1),
    ]
    [wecom] = webhook_server.received("/cgi-bin/webhook/send")
    assert wecom.query["key"] == ["wecom-key"]
    assert wecom.body["msgtype"] == "markdown"
    assert set(wecom.body["markdown"]) == {"content"}
    for text in EXPECTED_IN_BODY:
        assert text in wecom.body["markdown"]["content"]

    [feishu] = webhook_server.received("/feishu/hook/abc")
    assert feishu.body["msg_type"] == "interactive"
    card = feishu.body["card"]
    assert card["header"]["title"]["content"] == render(PAYMENT_ALERT)[0]
    assert card["header"]["template"] == "red"
    for text in EXPECTED_IN_BODY:
        assert text in card["elements"][0]["content"]
    timestamp = feishu.body["timestamp"]
    assert abs(int(timestamp) - time.time()) < 3600  # seconds, within Feishu's hour
    key = f"{timestamp}\n{feishu_secret}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert feishu.body["sign"] == expected

    [sms] = webhook_server.received("/sms")
    assert sms.headers["Authorization"] == "Bearer sms-gateway-token"
    assert sms.body["title"] == render(PAYMENT_ALERT)[0]
    assert "**" not in sms.body["body"] and "](" not in sms.body["body"]
    for text in EXPECTED_IN_BODY:
        assert text in sms.body["body"]


def test_feishu_error_code_and_http_error_are_failures(
    webhook_server: WebhookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook_server.replies["/feishu"] = (200, '{"code": 19021, "msg": "sign match fail"}')
    webhook_server.replies["/slack"] = (403, "invalid_token")
    monkeypatch.setenv("SHOPLENS_FEISHU_WEBHOOK", f"{webhook_server.base_url}/feishu")
    monkeypatch.setenv("SHOPLENS_SLACK_WEBHOOK", f"{webhook_server.base_url}/slack")

    feishu, slack = send(PAYMENT_ALERT, ["feishu", "slack"], attempts=2, sleep=no_sleep)

    assert (feishu.ok, feishu.attempts, feishu.error) == (
        False,
        2,
        "DeliveryError: code 19021: sign match fail",
    )
    assert (slack.ok, slack.attempts, slack.error) == (
        False,
        2,
        "DeliveryError: HTTP 403: invalid_token",
    )


# --- email -------------------------------------------------------------------------------------


def _text_parts(message: email.message.Message) -> str:
    parts = [p for p in message.walk() if p.get_content_maintype() == "text"]
    return "\n".join(p.get_payload(decode=True).decode(p.get_content_charset()) for p in parts)


def test_email_reaches_a_local_smtp_server(
    smtp_server: tuple[int, Mailbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, mailbox = smtp_server
    monkeypatch.setenv("SHOPLENS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SHOPLENS_SMTP_PORT", str(port))
    monkeypatch.setenv("SHOPLENS_SMTP_FROM", "alerts@shoplens.test")
    monkeypatch.setenv("SHOPLENS_SMTP_TO", "oncall@shoplens.test")
    monkeypatch.setenv("SHOPLENS_SMTP_STARTTLS", "0")

    results = send(PAYMENT_ALERT, ["email"], sleep=no_sleep)

    assert results == [DeliveryResult("email", ok=True, attempts=1)]
    [envelope] = mailbox.envelopes
    assert envelope.mail_from == "alerts@shoplens.test"
    assert envelope.rcpt_tos == ["oncall@shoplens.test"]
    message = email.message_from_bytes(envelope.content)
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert subject == render(PAYMENT_ALERT)[0]
    text = _text_parts(message)
    for expected in EXPECTED_IN_BODY:
        assert expected in text


# --- failures and secrets ----------------------------------------------------------------------


def test_server_down_is_recorded_with_retries_and_no_secret_leaks(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    down = free_port()
    monkeypatch.setenv(
        "SHOPLENS_DINGTALK_WEBHOOK",
        f"http://127.0.0.1:{down}/robot/send?access_token={DINGTALK_TOKEN}",
    )
    monkeypatch.setenv("SHOPLENS_DINGTALK_SECRET", DINGTALK_SECRET)
    monkeypatch.setenv(
        "SHOPLENS_SLACK_WEBHOOK", f"http://127.0.0.1:{down}/services/T0/B0/{SLACK_TOKEN}"
    )
    monkeypatch.setenv("SHOPLENS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SHOPLENS_SMTP_PORT", str(down))
    monkeypatch.setenv("SHOPLENS_SMTP_USER", "alerts")
    monkeypatch.setenv("SHOPLENS_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("SHOPLENS_SMTP_FROM", "alerts@shoplens.test")
    monkeypatch.setenv("SHOPLENS_SMTP_TO", "oncall@shoplens.test")
    monkeypatch.setenv("SHOPLENS_SMTP_STARTTLS", "0")
    caplog.set_level(logging.DEBUG)

    results = send(PAYMENT_ALERT, ["dingtalk", "slack", "email"], attempts=2, sleep=no_sleep)

    assert [(r.channel, r.ok, r.attempts) for r in results] == [
        ("dingtalk", False, 2),
        ("slack", False, 2),
        ("email", False, 2),
    ]
    assert all(r.error and "refused" in r.error.lower() for r in results)
    assert caplog.text.count("attempt 1/2 failed") == 3
    captured = capsys.readouterr()
    seen = "\n".join([*(r.error or "" for r in results), caplog.text, captured.out, captured.err])
    for secret in (DINGTALK_TOKEN, DINGTALK_SECRET, SLACK_TOKEN, SMTP_PASSWORD):
        assert secret not in seen


def test_unconfigured_and_unknown_channels_are_skipped_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="shoplens.notify")

    feishu, pager = send(PAYMENT_ALERT, ["feishu", "pager"], sleep=no_sleep)

    assert feishu == DeliveryResult("feishu", ok=False, attempts=0, skipped=True)
    assert (pager.ok, pager.attempts, pager.skipped) == (False, 0, False)
    assert pager.error is not None and "unknown channel 'pager'" in pager.error
    [notice] = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert notice == (
        "notify: feishu skipped: not configured "
        "(set SHOPLENS_FEISHU_WEBHOOK (+ SHOPLENS_FEISHU_SECRET))"
    )
