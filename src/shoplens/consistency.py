"""One definition of each metric, checked: every mart column that reports a metric is compared
with the semantic layer's answer for the same grain.

The saved queries of the semantic layer (models/marts/*/_*__semantic_models.yml) each reproduce a
mart, or some of its columns, from the metrics; their `config.meta` says which:

    mart: agg_transaction__daily          the mart the query reproduces
    columns: {metric_time__day: metric_date, gmv: gmv_yuan}
                                          query column -> mart column (unlisted: same name)
    filter: {day_n: 1}                    compare only the mart rows with these values
    long: {column, key, values}           metrics compared with one mart column, each on the rows
                                          whose `key` column holds its value in `values`
    rank: {column, metric, order_by}      a rank recomputed from the query's columns per period
    allow_empty: <reason>                 a column whose rows are all empty passes (with the reason)
    semantic_rows_where_nonzero: m        keep the semantic layer's rows only where metric m is
                                          non-zero (a cumulative metric has a value on every day
                                          of the time spine; the mart has the days with activity)

Tolerances follow each metric's `unit` (its meta): counts exactly, money to the fen, rates and
other ratios to 1e-9. A row missing on one side reads as zero for counts and money and as null
for rates, so a mart that drops or invents a row is caught too; a null in a mart row that exists
equals only a null (a mart null where the semantic layer says 0 is a difference). A key twice on
either side is an error, and so is a column whose rows are all empty (zero or null) on both
sides — it compared nothing — unless the saved query allows it with a reason.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from shoplens.errors import ShoplensError
from shoplens.semantic import SemanticLayer
from shoplens.warehouse import connect, database_errors, existing_duckdb_path

FEN = Decimal("0.005")
RATE_TOLERANCE = 1e-9
MISSING = object()  # no row for the key on that side


@dataclass(frozen=True)
class ColumnCheck:
    """One metric against one mart column, over the rows of one saved query."""

    saved_query: str
    metric: str
    unit: str
    mart: str
    column: str
    allow_empty: str | None = None  # why this column may have nothing to compare


@dataclass
class Mismatch:
    key: tuple[str, ...]
    mart_value: Any
    semantic_value: Any


@dataclass
class ColumnResult:
    check: ColumnCheck
    rows: int = 0
    informative: int = 0  # rows with a non-zero, non-null value on either side
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.informative == 0

    @property
    def ok(self) -> bool:
        return not self.mismatches and (not self.empty or bool(self.check.allow_empty))

    def describe(self) -> str:
        if not self.mismatches:
            allowed = f"; allowed: {self.check.allow_empty}" if self.check.allow_empty else ""
            return (
                f"metric {self.check.metric} in {self.check.mart}.{self.check.column}: all "
                f"{self.rows} rows are empty (zero or null) on both sides (saved query "
                f"{self.check.saved_query}), so nothing was compared{allowed}"
            )
        first = self.mismatches[0]
        return (
            f"metric {self.check.metric} disagrees with {self.check.mart}.{self.check.column} "
            f"on {len(self.mismatches)} of {self.rows} rows (saved query "
            f"{self.check.saved_query}); e.g. at {', '.join(first.key)}: mart "
            f"{_show(first.mart_value)}, semantic layer {_show(first.semantic_value)}"
        )


def _show(value: Any) -> str:
    return "no row" if value is MISSING else "null" if value is None else str(value)


def load_manifest(target_path: Path) -> dict[str, Any]:
    path = target_path / "manifest.json"
    if not path.is_file():
        raise ShoplensError(f"no {path}: run `dbt build` (or `dbt parse`) first")
    return json.loads(path.read_text(encoding="utf-8"))


def metric_meta(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each semantic-layer metric's name -> its catalog meta (unit, spec_id, label_zh, ...)."""
    return {m["name"]: m["config"].get("meta") or {} for m in manifest["metrics"].values()}


def saved_queries(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The saved queries that reproduce a mart (config.meta.mart), by name."""
    queries = [q for q in manifest["saved_queries"].values() if q["config"]["meta"].get("mart")]
    return sorted(queries, key=lambda q: q["name"])


def _key_part(value: Any) -> str:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value.isoformat() if isinstance(value, date) else str(value)


def _equal(unit: str, mart: Any, semantic: Any) -> bool:
    if unit in ("count", "money"):
        if mart is None:  # a null in an existing mart row: only a null (or no row) matches
            return semantic is None or semantic is MISSING
        a = Decimal(str(0 if mart is MISSING else mart))
        b = Decimal(str(0 if semantic in (None, MISSING) else semantic))
        return a == b if unit == "count" else abs(a - b) < FEN
    mart = None if mart is MISSING else mart
    semantic = None if semantic is MISSING else semantic
    if mart is None or semantic is None:
        return mart is None and semantic is None
    a, b = float(mart), float(semantic)
    return abs(a - b) <= RATE_TOLERANCE * max(1.0, abs(a), abs(b))


def _informative(value: Any) -> bool:
    return value is not None and value is not MISSING and value != 0


def _index(rows: list[dict[str, Any]], key: Any, what: str) -> dict[Any, dict[str, Any]]:
    """Rows by key; a key twice is an error (a mart with a duplicated row must not pass)."""
    indexed: dict[Any, dict[str, Any]] = {}
    for row in rows:
        k = key(row)
        if k in indexed:
            parts = [p for part in k for p in (part if isinstance(part, tuple) else (part,))]
            shown = ", ".join(str(p) for p in parts if p is not None)
            raise ShoplensError(f"{what} has the key ({shown}) twice: a duplicated row")
        indexed[k] = row
    return indexed


def _rank(rows: list[dict[str, Any]], period: str, order_by: list[str], column: str) -> None:
    """Number each period's rows 1.. by order_by ("-x": descending); bytes order for text."""

    def sort_key(row: dict[str, Any]) -> tuple:
        parts: list[Any] = []
        for name in order_by:
            value = row[name.lstrip("-")]
            if isinstance(value, str):
                parts.append(value.encode())
            else:
                number = Decimal(str(value or 0))
                parts.append(-number if name.startswith("-") else number)
        return tuple(parts)

    by_period: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_period[row[period]].append(row)
    for members in by_period.values():
        for number, row in enumerate(sorted(members, key=sort_key), start=1):
            row[column] = number


_GROUP_BY = re.compile(r"^(Time)?Dimension\('([a-z0-9_]+)'(?:,\s*'([a-z]+)')?\)$")


def group_by_columns(query: dict[str, Any]) -> list[str]:
    """The output column of each group-by of a saved query (metric_time__day, order__channel)."""
    columns = []
    for item in query["query_params"]["group_by"]:
        match = _GROUP_BY.match(item.strip())
        if match is None:
            raise ShoplensError(f"saved query {query['name']}: cannot read group_by {item!r}")
        _, name, grain = match.groups()
        columns.append(f"{name}__{grain}" if grain else name)
    return columns


def column_checks(
    query: dict[str, Any], units: dict[str, dict[str, Any]]
) -> list[tuple[str, ColumnCheck]]:
    """(query column, check) for every mart column a saved query reproduces."""
    meta = query["config"]["meta"]
    mapping: dict[str, str] = meta.get("columns") or {}
    long = meta.get("long") or {"values": {}}
    pairs: list[tuple[str, ColumnCheck]] = []
    for metric in query["query_params"]["metrics"]:
        column = long["column"] if metric in long["values"] else mapping.get(metric, metric)
        unit = units.get(metric, {}).get("unit")
        if unit is None:
            raise ShoplensError(f"metric {metric} has no meta.unit (count, money, rate, ...)")
        check = ColumnCheck(
            query["name"], metric, unit, meta["mart"], column, meta.get("allow_empty")
        )
        pairs.append((metric, check))
    rank = meta.get("rank")
    if rank:
        check = ColumnCheck(query["name"], rank["metric"], "count", meta["mart"], rank["column"])
        pairs.append((rank["column"], check))
    return pairs


def check_saved_query(
    query: dict[str, Any],
    manifest: dict[str, Any],
    layer: SemanticLayer,
    warehouse: Any,
) -> list[ColumnResult]:
    """Compare the mart columns one saved query reproduces with the semantic layer's answer."""
    meta = query["config"]["meta"]
    mapping: dict[str, str] = meta.get("columns") or {}
    node = manifest["nodes"].get(f"model.shoplens.{meta['mart']}")
    if node is None:
        raise ShoplensError(f"saved query {query['name']}: no model {meta['mart']}")
    keys = group_by_columns(query)
    mart_keys = [mapping.get(name, name) for name in keys]
    long = meta.get("long") or {"key": None, "values": {}}

    semantic_rows = warehouse.records(layer.sql(saved_query=query["name"]))
    nonzero = meta.get("semantic_rows_where_nonzero")
    if nonzero:
        semantic_rows = [row for row in semantic_rows if _informative(row[nonzero])]
    rank = meta.get("rank")
    if rank:
        _rank(semantic_rows, keys[0], rank["order_by"], rank["column"])
    semantic = _index(
        semantic_rows,
        lambda row: tuple(_key_part(row[k]) for k in keys),
        f"the semantic layer's answer to {query['name']}",
    )

    mart_rows = warehouse.records(f"select * from {node['relation_name']}")
    for column, value in (meta.get("filter") or {}).items():
        mart_rows = [row for row in mart_rows if _key_part(row[column]) == _key_part(value)]
    # Keyed by the query's grain and, for a long mapping, the value of its key column.
    mart = _index(
        mart_rows,
        lambda row: (
            tuple(_key_part(row[k]) for k in mart_keys),
            _key_part(row[long["key"]]) if long["key"] else None,
        ),
        f"mart {meta['mart']}",
    )
    # Null keys (e.g. orders without a paid_date) are not mart rows.
    grain = {key for key, _ in mart} | semantic.keys()
    compared = sorted(key for key in grain if "None" not in key)

    results = []
    for name, check in column_checks(query, metric_meta(manifest)):
        result = ColumnResult(check)
        long_value = long["values"].get(name)
        for key in compared:
            mart_row = mart.get((key, _key_part(long_value) if long_value else None))
            semantic_row = semantic.get(key)
            mart_value = mart_row[check.column] if mart_row else MISSING
            semantic_value = semantic_row[name] if semantic_row else MISSING
            result.rows += 1
            result.informative += _informative(mart_value) or _informative(semantic_value)
            if not _equal(check.unit, mart_value, semantic_value):
                result.mismatches.append(Mismatch(key, mart_value, semantic_value))
        results.append(result)
    return results


def check_consistency(target: str, target_path: Path) -> list[ColumnResult]:
    """Every saved query's mart columns against the semantic layer, on one warehouse."""
    manifest = load_manifest(target_path)
    built_for = manifest.get("metadata", {}).get("adapter_type")
    if built_for != target:
        raise ShoplensError(
            f"{target_path / 'manifest.json'} was made for {built_for}, not {target}: pass "
            f"--target-path of a `dbt build --target {target}`"
        )
    if target == "duckdb":
        existing_duckdb_path()
    layer = SemanticLayer(target_path, target)
    warehouse = connect(target)
    try:
        results: list[ColumnResult] = []
        for query in saved_queries(manifest):
            with database_errors(target, f"the check of saved query {query['name']}"):
                results.extend(check_saved_query(query, manifest, layer, warehouse))
    finally:
        warehouse.close()
    return results
