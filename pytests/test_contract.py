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
    contract.DELETIONS_TABLE: "loader",
    contract.DELETION_COUNTS_TABLE: "loader",
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


COLUMN_KEYS = {
    "name",
    "description",
    "data_tests",
    "meta",
    "data_type",
    "config",
    "constraints",
    "quote",
    "granularity",  # a time-spine column's grain (MetricFlow)
}


class _DuplicateKeyLoader(yaml.SafeLoader):
    """A YAML loader that fails on a key given twice in one mapping (YAML keeps the last)."""


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    keys = [loader.construct_object(key) for key, _ in node.value]
    duplicated = {key for key in keys if keys.count(key) > 1}
    if duplicated:
        raise AssertionError(f"duplicate keys {duplicated} at line {node.start_mark.line + 1}")
    return yaml.SafeLoader.construct_mapping(loader, node)


_DuplicateKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def test_yaml_files_have_no_duplicate_keys() -> None:
    for path in [
        *Path(ROOT, "models").rglob("*.yml"),
        *Path(ROOT, "seeds").glob("*.yml"),
        Path(ROOT, "dbt_project.yml"),
        Path(ROOT, "profiles.yml"),
    ]:
        try:
            yaml.load(path.read_text(), Loader=_DuplicateKeyLoader)
        except AssertionError as exc:
            raise AssertionError(f"{path}: {exc}") from None


def test_yaml_column_entries_have_no_stray_keys() -> None:
    """In YAML flow style, an unquoted comma ends a value: `{description: Amount, fen.}` quietly
    becomes description 'Amount' plus a key 'fen.'. Every column entry must parse cleanly."""
    stray = []
    for path in [*Path(ROOT, "models").rglob("*.yml"), *Path(ROOT, "seeds").glob("*.yml")]:
        document = yaml.safe_load(path.read_text()) or {}
        for kind in ("models", "sources", "seeds"):
            for item in document.get(kind) or []:
                for table in item.get("tables", [item]) if kind == "sources" else [item]:
                    for column in table.get("columns") or []:
                        if set(column) - COLUMN_KEYS:
                            stray.append(f"{path.name}: {table['name']}.{column['name']}")
    assert not stray
