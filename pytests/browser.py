"""Headless Chromium for the report and board tests: Debian's `chromium` (installed by
`make browser`, a step of `make test`), driven from the command line — `--dump-dom` for the
DOM after scripts ran, with Chromium's log on stderr for the page's console messages, and
`--screenshot` for a PNG. Nothing is downloaded; the flags keep it off the network."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT

CHROMIUM = Path(os.environ.get("SHOPLENS_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "artifacts" / "test-artifacts"
FLAGS = (
    "--headless",
    "--no-sandbox",  # as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
)
# Chromium logs every console message of the page (log, warn, error, uncaught exceptions, failed
# resource loads) as `...:INFO:CONSOLE:<line>] "<message>", source: <url> (<line>)`.
CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\]\s*(.*)")


def require_chromium() -> None:
    if os.access(CHROMIUM, os.X_OK):
        return
    reason = f"{CHROMIUM} not found: run `make browser` (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run)")
    pytest.skip(reason)


@dataclass
class Rendered:
    dom: str
    console: list[str]  # console messages of the page: any is a failure for our pages
    stderr: str


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(
        prefix="chromium-profile-", ignore_cleanup_errors=True
    ) as profile:
        return subprocess.run(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def render(url: str, timeout: float = 60, extra: tuple[str, ...] = ()) -> Rendered:
    """The DOM of `url` after its scripts ran, and the console messages it logged."""
    result = _run(["--enable-logging=stderr", "--v=0", *extra, "--dump-dom", url], timeout)
    assert result.returncode == 0, f"chromium exited {result.returncode}: {result.stderr[-3000:]}"
    console = [m.group(1) for line in result.stderr.splitlines() if (m := CONSOLE.search(line))]
    return Rendered(result.stdout, console, result.stderr)


def screenshot(url: str, name: str, width: int = 1280, height: int = 3600) -> Path:
    """A PNG of `url` under artifacts/test-artifacts/ (git-ignored), kept after the run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.unlink(missing_ok=True)
    result = _run([f"--window-size={width},{height}", f"--screenshot={path}", url], 60)
    assert result.returncode == 0 and path.is_file(), f"no screenshot: {result.stderr[-3000:]}"
    assert path.stat().st_size > 10_000, f"suspiciously small screenshot {path}"
    return path


def charts(dom: str) -> dict[str, int]:
    """chart id -> data-points of every `<svg class="chart">` in the DOM."""
    found = {}
    for tag in re.findall(r"<svg\b[^>]*>", dom):
        chart = re.search(r'data-chart="([^"]+)"', tag)
        points = re.search(r'data-points="(\d+)"', tag)
        if chart and points:
            found[chart.group(1)] = int(points.group(1))
    return found


def metric_values(dom: str) -> dict[str, float | None]:
    """data-metric -> data-value of the metric cards."""
    return {
        name: None if value == "None" else float(value)
        for name, value in re.findall(r'data-metric="([^"]+)" data-value="([^"]*)"', dom)
    }


def is_self_contained(html: str) -> list[str]:
    """References to anything outside the file: scripts, styles, images, fonts or frames
    (src=, <link>, CSS url() / @import) and links that would reach the network."""
    bad = re.findall(r"\bsrc\s*=\s*[^\s>]+|<link\b[^>]*>|@import|url\([^)]*\)", html)
    bad += re.findall(r'href\s*=\s*["\']?\s*(?:https?:)?//[^"\'\s>]+', html)
    return bad
