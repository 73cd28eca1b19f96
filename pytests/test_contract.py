"""The raw data contract has one definition (shoplens.contract); the dbt sources must agree."""

from __future__ import annotations

from pathlib import Path

import yaml

from conftest import ROOT
from shoplens import contract
from shoplens.warehouse import table_columns

SOURCE_OF_TABLE = {name: "order_system" for name in contract.TABLES} | {
    "events": "mini_program",
    contract.REJECTED_TABLE: "loader",
    contract.LOAD_FILES_TABLE: "loader",
}


def declared_sources() -> dict[tuple[str, str], dict]:
    tables = {}
    for path in Path(ROOT, "models", "staging").rglob("_*__sources.yml"):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                tables[(source["name"], table["name"])] = table
    return tables


def test_every_raw_table_is_a_documented_source_with_exactly_the_loaded_columns() -> None:
    declared = declared_sources()
    for table, source in SOURCE_OF_TABLE.items():
        spec = declared[(source, table)]
        columns = [c["name"] for c in spec["columns"]]
        assert columns == [name for name, _ in table_columns(table)], table
        assert all(c.get("description") for c in spec["columns"]), table
        assert spec.get("description"), table
    assert len(declared) == len(SOURCE_OF_TABLE)


def test_required_landing_fields_are_the_spec_ones() -> None:
    # spec/events.md §3: a line lacking event_id / event / anonymous_id / received_at is rejected.
    required = {c.json_path for c in contract.EVENTS.columns if c.required}
    assert required == {"event_id", "event", "anonymous_id", "received_at"}
