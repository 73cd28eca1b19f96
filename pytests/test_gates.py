"""The structural gates fail on a violation: a copy of the project gets one planted mart that
calls source() and has neither a description nor a primary-key test; `make gates`'s two steps
(dbt parse, then dbt-score with the copy's pyproject.toml) must fail and name the rules and the
model. Real tools, no mocks."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, run_command

PLANTED = "fct_planted_violations"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def parse(project: Path, work: Path) -> Path:
    """`make gates`'s first step: `dbt parse` of `project` into `work`; the manifest's path."""
    target = work / "target"
    result = run_command(
        "dbt",
        "parse",
        "--quiet",
        "--target",
        "duckdb",
        "--target-path",
        str(target),
        "--log-path",
        str(work / "logs"),
        env={**os.environ, "SHOPLENS_DUCKDB_PATH": ":memory:"},
        cwd=project,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return target / "manifest.json"


def score(manifest: Path, project: Path) -> subprocess.CompletedProcess[str]:
    """`make gates`'s second step: dbt-score over `manifest`, with `project`'s pyproject.toml
    (dbt-score reads [tool.dbt-score] from the folder it runs in); stdout without colours."""
    result = run_command("dbt-score", "lint", "--manifest", str(manifest), cwd=project, timeout=300)
    return subprocess.CompletedProcess(
        result.args, result.returncode, ANSI.sub("", result.stdout), result.stderr
    )


def gates(project: Path, work: Path) -> subprocess.CompletedProcess[str]:
    """Run the gates as `make gates` does, on `project`, with a target folder under `work`."""
    return score(parse(project, work), project)


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


def _mutated(manifest: dict, rule: str) -> tuple[dict, str]:
    """A copy of the manifest with one violation of `rule`, and the item that must fail."""
    data = json.loads(json.dumps(manifest))
    nodes, sources = data["nodes"], data["sources"]
    mart = nodes["model.shoplens.agg_traffic__daily"]
    source = sources["source.shoplens.mini_program.events"]  # no gate exception applies to it
    source_item = f"{source['source_name']}.{source['name']}"
    if rule == "model_naming_conventions":
        mart["name"] = mart["alias"] = "traffic_daily_without_prefix"
        return data, "traffic_daily_without_prefix"
    if rule == "mart_not_public":
        mart["access"] = "protected"
        return data, mart["name"]
    if rule == "public_model_without_contract":
        mart["config"]["contract"]["enforced"] = False
        return data, mart["name"]
    if rule == "public_mart_without_personal_data_scan":
        for node_id in [
            node_id
            for node_id, node in nodes.items()
            if node.get("attached_node") == mart["unique_id"]
            and (node.get("test_metadata") or {}).get("name") == "no_personal_data"
        ]:
            del nodes[node_id]
        return data, mart["name"]
    if rule == "undocumented_public_model_columns":
        mart["columns"]["pv"]["description"] = ""
        return data, mart["name"]
    if rule == "undocumented_source":
        source["source_description"] = ""
        return data, source_item
    if rule == "undocumented_source_table":
        source["description"] = ""
        return data, source_item
    if rule == "source_without_freshness":
        source["freshness"] = {"warn_after": {}, "error_after": {}}
        source["config"]["freshness"] = None
        return data, source_item
    if rule == "exposure_depends_on_private_model":
        exposure = next(iter(data["exposures"].values()))
        exposure["depends_on"]["nodes"].append("model.shoplens.int_events_sessionized")
        return data, exposure["name"]
    raise AssertionError(rule)


@pytest.fixture(scope="module")
def parsed_manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return json.loads(parse(ROOT, tmp_path_factory.mktemp("gates")).read_text())


@pytest.mark.parametrize(
    "rule",
    [
        "model_naming_conventions",
        "mart_not_public",
        "public_model_without_contract",
        "public_mart_without_personal_data_scan",
        "undocumented_public_model_columns",
        "undocumented_source",
        "undocumented_source_table",
        "source_without_freshness",
        "exposure_depends_on_private_model",
    ],
)
def test_each_rule_fails_on_its_violation(parsed_manifest: dict, rule: str, tmp_path: Path) -> None:
    """The rules the planted mart above does not break, each on a manifest with one violation."""
    data, item = _mutated(parsed_manifest, rule)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data))
    result = score(path, ROOT)
    output = result.stdout
    assert result.returncode == 1, output + result.stderr
    block = next((p for p in output.split("\n\n") if f": {item} " in p.splitlines()[0]), "")
    assert f"shoplens.gates.{rule}:" in block, output
