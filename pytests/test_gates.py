"""The structural gates fail on a violation: a copy of the project gets one planted mart that
calls source() and has neither a description nor a primary-key test; `make gates`'s two steps
(dbt parse, then dbt-score with the copy's pyproject.toml) must fail and name the rules and the
model. Real tools, no mocks."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from conftest import BIN, ROOT

PLANTED = "fct_planted_violations"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def gates(project: Path, work: Path) -> subprocess.CompletedProcess[str]:
    """Run the gates as `make gates` does, on `project`, with a target folder under `work`."""
    env = {**os.environ, "SHOPLENS_DUCKDB_PATH": ":memory:"}
    target = work / "target"
    parse = ["parse", "--quiet", "--target", "duckdb", "--target-path", str(target)]
    subprocess.run(
        [str(BIN / "dbt"), *parse, "--log-path", str(work / "logs")],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    result = subprocess.run(
        [str(BIN / "dbt-score"), "lint", "--manifest", str(target / "manifest.json")],
        cwd=project,  # dbt-score reads [tool.dbt-score] from the project's pyproject.toml
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return subprocess.CompletedProcess(
        result.args, result.returncode, ANSI.sub("", result.stdout), result.stderr
    )


def test_a_planted_violation_fails_the_gates(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(
        ROOT,
        project,
        ignore=shutil.ignore_patterns(
            ".venv", "target", "data", "logs", ".git", "artifacts", "*_cache", "__pycache__"
        ),
    )
    (project / "models" / "marts" / "quality" / f"{PLANTED}.sql").write_text(
        "select * from {{ source('loader', 'load_files') }}\n"
    )

    result = gates(project, tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    # The planted model's block: its header, then one line per broken rule.
    block = next((part for part in result.stdout.split("\n\n") if f"Model: {PLANTED} " in part), "")
    for rule in (
        "source_used_outside_staging",
        "mart_depends_on_source",
        "undocumented_model",
        "missing_primary_key_tests",
    ):
        assert f"shoplens.gates.{rule}:" in block, result.stdout
    assert f"Model {PLANTED} scored 0.0" in result.stdout
