"""The metric catalog (指標目錄), generated from the semantic layer's YAML through dbt's manifest.

One row per semantic-layer metric: id, Chinese and English label, definition, type (with its
formula), unit, grain, owner, and the mart columns that report it (from the saved queries that
reproduce the marts; see shoplens.consistency). Written twice from the same text: a Markdown page
in the repository (docs/metric_catalog.md) and a dbt docs block (the docs site's overview page).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from shoplens.consistency import column_checks, group_by_columns, metric_meta, saved_queries

MARKDOWN_PATH = Path("docs/metric_catalog.md")
DOCS_BLOCK_PATH = Path("models/docs/overview.md")

DOMAINS = (
    ("traffic", "Traffic (流量層)"),
    ("conversion", "Conversion (轉化層)"),
    ("transaction", "Transaction (交易層)"),
    ("product", "Product (商品層)"),
    ("user", "User (用戶層)"),
    ("data-quality", "Tracking quality (數據質量)"),
)

INTRO = """\
Every metric has one definition: the semantic-layer metric below (MetricFlow, in
`models/marts/<domain>/_<domain>__semantic_models.yml`). Every mart column listed under
"reported in" is compared with it on every build of the test suite, on DuckDB and PostgreSQL
(`shoplens metrics check`): counts exactly, money to the fen, rates to 1e-9.

This page is generated from that YAML by `shoplens metrics catalog`; a test fails when it is out
of date. Query any metric with MetricFlow, e.g.
`mf query --metrics arpu_paying --group-by metric_time__day,sales_order__channel`.

Conventions (spec/metrics.md): a reporting day is a calendar day in the reporting time zone
(dbt var `reporting_timezone`, default Asia/Shanghai); user counts count persons (the first
member account seen on a device, else the device); a session ends after more than 30 minutes
without an event or at `mp_launch`, and belongs to the date and channel of its first event; a
paid order counts on the reporting date of its successful payment; money comes from the order
system, never from client events.

Choices where vendors disagree:
- **客單價** is GMV per *paying user* (`arpu_paying`), as in sales = visitors × conversion ×
  客單價; GMV per *order* is `aov`.
- **Sessions** time out after 30 minutes without an event (var `session_timeout_minutes`).
- **Retention** on day N means active on day D+N *exactly* (not "on or after"), and is defined
  only once day D+N is complete.
"""


def _formula(metric: dict[str, Any]) -> str:
    params = metric["type_params"]
    kind = metric["type"]
    if kind == "ratio":
        return f"ratio: {params['numerator']['name']} / {params['denominator']['name']}"
    if kind == "derived":
        return f"derived: {params['expr']}"
    if kind == "cumulative":
        window = (params.get("cumulative_type_params") or {}).get("window") or {}
        span = f"{window.get('count')} {window.get('granularity')}s" if window else "all time"
        return f"cumulative over {span}: {params['measure']['name']}"
    measure = params.get("measure") or {}
    return f"simple: {measure.get('name', '')}"


def reported_in(manifest: dict[str, Any]) -> dict[str, list[str]]:
    """Metric name -> the mart columns (mart.column) that report it: the columns the consistency
    check compares, from the saved queries."""
    units = metric_meta(manifest)
    columns: dict[str, set[str]] = defaultdict(set)
    for query in saved_queries(manifest):
        meta = query["config"]["meta"]
        mapping = meta.get("columns") or {}
        long = meta.get("long") or {"values": {}}
        rank = meta.get("rank") or {}
        where = [f"{k} = {v}" for k, v in (meta.get("filter") or {}).items()]
        grain = ", ".join(mapping.get(c, c) for c in group_by_columns(query))
        for name, check in column_checks(query, units):
            if name == rank.get("column"):
                columns[check.metric].add(f"{check.mart}.{check.column}")
                continue
            rows = [f"{long['key']} = {long['values'][name]}"] if name in long["values"] else []
            rows += where
            shown = check.column + (f" ({', '.join(rows)})" if rows else "")
            columns[check.metric].add(f"{check.mart}.{shown} [{grain}]")
    return {metric: sorted(found) for metric, found in columns.items()}


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render(manifest: dict[str, Any]) -> str:
    """The catalog as Markdown."""
    metrics = sorted(manifest["metrics"].values(), key=lambda m: m["name"])
    where = reported_in(manifest)
    by_owner: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for metric in metrics:
        by_owner[(metric["config"].get("meta") or {}).get("owner", "other")].append(metric)
    lines = ["# Metric catalog (指標目錄)", "", INTRO]
    header = (
        "| metric | 中文 | English | definition | type | unit | grain | reported in | spec id |"
    )
    for owner, title in (*DOMAINS, ("other", "Other")):
        if not by_owner.get(owner):
            continue
        lines += [f"## {title}", "", f"Owner: `{owner}`.", "", header, "|" + "---|" * 9]
        for metric in by_owner[owner]:
            meta = metric["config"].get("meta") or {}
            marts = "<br>".join(f"`{c}`" for c in where.get(metric["name"], [])) or "—"
            cells = (
                f"`{metric['name']}`",
                meta.get("label_zh", ""),
                metric.get("label") or "",
                metric.get("description") or "",
                _formula(metric),
                meta.get("unit", ""),
                meta.get("grain", ""),
                marts,
                ", ".join([meta.get("spec_id", ""), *meta.get("spec_also", [])]),
            )
            row = (c if "<br>" in c else _cell(c) for c in cells)
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    ranks = [
        (query["config"]["meta"]["mart"], query["config"]["meta"]["rank"])
        for query in saved_queries(manifest)
        if query["config"]["meta"].get("rank")
    ]
    if ranks:
        lines += [
            "## Ranks (computed in the marts from the metrics above)",
            "",
            "| rank | 中文 | definition | reported in |",
            "|---|---|---|---|",
        ]
        for mart, rank in ranks:
            order = ", then ".join(
                f"{name.lstrip('-')} {'descending' if name.startswith('-') else 'ascending'}"
                for name in rank["order_by"]
            )
            lines.append(
                f"| `{rank['metric']}` | {rank.get('label_zh', '')} | 1 = first by {order}, "
                f"per period | `{mart}.{rank['column']}` |"
            )
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def docs_block(markdown: str) -> str:
    """The catalog as the dbt docs site's overview page (a docs block named __overview__)."""
    return (
        "{% docs __overview__ %}\n"
        "{% raw %}\n"
        "Shoplens: an open-source dbt analytics warehouse for e-commerce mini programs.\n\n"
        f"{markdown}"
        "{% endraw %}\n"
        "{% enddocs %}\n"
    )


def write_catalog(manifest: dict[str, Any], root: Path) -> list[Path]:
    """Write both files under root; return the paths whose content changed."""
    markdown = render(manifest)
    changed = []
    for path, text in ((MARKDOWN_PATH, markdown), (DOCS_BLOCK_PATH, docs_block(markdown))):
        target = root / path
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def stale_files(manifest: dict[str, Any], root: Path) -> list[Path]:
    """The catalog files under root that differ from what the manifest generates."""
    markdown = render(manifest)
    return [
        path
        for path, text in ((MARKDOWN_PATH, markdown), (DOCS_BLOCK_PATH, docs_block(markdown)))
        if not (root / path).is_file() or (root / path).read_text(encoding="utf-8") != text
    ]
