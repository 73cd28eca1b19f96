"""Real servers on 127.0.0.1 for the notification and monitoring tests: a recording HTTP
server (stdlib) for the webhooks and aiosmtpd for email; and what the tests compute by hand
(the DingTalk signature). The fixtures that start them are in conftest.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from shoplens.notify import SECRET_VARS

# Every channel variable: the tests clear them so that nothing comes from the caller's env.
CHANNEL_VARS = (
    *SECRET_VARS,
    "SHOPLENS_SMTP_HOST",
    "SHOPLENS_SMTP_PORT",
    "SHOPLENS_SMTP_USER",
    "SHOPLENS_SMTP_FROM",
    "SHOPLENS_SMTP_TO",
    "SHOPLENS_SMTP_STARTTLS",
)


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    raw_query: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class WebhookServer:
    base_url: str
    requests: list[Received] = field(default_factory=list)
    # path -> (HTTP status, response body); anything else answers {"errcode": 0, "errmsg": "ok"}
    replies: dict[str, tuple[int, str]] = field(default_factory=dict)

    def received(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


def handler(server: WebhookServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            url = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            server.requests.append(
                Received(
                    url.path, parse_qs(url.query), url.query, dict(self.headers), json.loads(raw)
                )
            )
            status, reply = server.replies.get(url.path, (200, '{"errcode": 0, "errmsg": "ok"}'))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(reply.encode())

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


# --- a real SMTP server ------------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A port nothing listens on (aiosmtpd cannot bind port 0 itself)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def no_sleep(_: float) -> None:
    pass


def dingtalk_sign(secret: str, timestamp: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()
