"""Replay (回放): feed a generated landing folder into a landing folder in simulated time.

Each row becomes visible at its collector time, the moment the pipeline could first have seen
it: events at `received_at`; payments at `finished_at` (the order system exports an attempt
once it has finished); refunds at `refunded_at`; users at `registered_at`; consents at
`changed_at`; order items at their order's `created_at`; orders twice, as the order system
re-exports an order when it changes: at `created_at` as `pending_payment` (with `updated_at` =
`created_at`) and at `updated_at` in the exported final state (staging keeps the newest row per
order); products (no timestamp) with the history. A line that is not JSON (the generator's
malformed lines) keeps the time of the line before it.

`write_until(t)` writes every row not yet written whose time is before `t` as new files
`<table>/dt=<reporting date>/replay-<tag>.ndjson`, so the loader picks them up as new files.
NDJSON sources only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from shoplens import contract
from shoplens.errors import ShoplensError

REPORTING_TZ = ZoneInfo("Asia/Shanghai")

# The column whose time makes a row visible (orders: see the module docstring).
VISIBLE_AT = {
    "events": "received_at",
    "payments": "finished_at",
    "refunds": "refunded_at",
    "users": "registered_at",
    "consents": "changed_at",
    "orders": "updated_at",
    "order_items": "created_at",  # of the order
    "products": "",
}


def _ms(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    return None


def _source_lines(source: Path, table: str) -> Iterator[str]:
    folder = source / table
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith((".", "_")):
            continue
        if not path.name.endswith(contract.NDJSON_SUFFIXES) or path.name.endswith(".gz"):
            raise ShoplensError(f"replay reads plain NDJSON landing files only, not {path}")
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                line = line.rstrip("\n")
                if line:
                    yield line


@dataclass
class Replay:
    """The rows of a landing folder, each with the time it becomes visible (ms since epoch)."""

    source: Path
    landing: Path
    rows: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    written_until: int | None = None

    def __post_init__(self) -> None:
        if not self.source.is_dir():
            raise ShoplensError(f"replay source not found: {self.source}")
        order_created: dict[str, int] = {}
        first_ms: int | None = None
        for table in ("orders", *(t for t in contract.TABLES if t not in ("orders", "products"))):
            rows: list[tuple[int, str]] = []
            previous = 0
            for line in _source_lines(self.source, table):
                try:
                    obj = json.loads(line)
                except ValueError:
                    rows.append((previous, line))
                    continue
                if not isinstance(obj, dict):
                    rows.append((previous, line))
                    continue
                rows.extend(self._versions(table, obj, line, order_created, previous))
                previous = rows[-1][0]
            rows.sort(key=lambda row: row[0])
            if rows:
                start = next((t for t, _ in rows if t > 0), None)
                if start is not None:
                    first_ms = start if first_ms is None else min(first_ms, start)
            self.rows[table] = rows
        products = list(_source_lines(self.source, "products"))
        self.rows["products"] = [(first_ms or 0, line) for line in products]

    @staticmethod
    def _versions(
        table: str, obj: dict, line: str, order_created: dict[str, int], previous: int
    ) -> list[tuple[int, str]]:
        if table == "orders":
            created = _ms(obj.get("created_at"))
            updated = _ms(obj.get("updated_at"))
            if created is not None and obj.get("order_id"):
                order_created[str(obj["order_id"])] = created
            if created is not None and updated is not None and updated > created:
                pending = {**obj, "status": "pending_payment", "updated_at": obj["created_at"]}
                return [(created, json.dumps(pending, ensure_ascii=False)), (updated, line)]
            return [(updated or created or previous, line)]
        if table == "order_items":
            at = order_created.get(str(obj.get("order_id")))
            return [(previous if at is None else at, line)]
        column = VISIBLE_AT[table]
        at = _ms(obj.get(column))
        if at is None and table == "payments":
            at = _ms(obj.get("created_at"))
        return [(previous if at is None else at, line)]

    def skip_until(self, moment: datetime) -> None:
        """Leave out everything before `moment` (a replay without that history)."""
        self.written_until = int(moment.timestamp() * 1000)

    def write_until(self, until: datetime, tag: str) -> int:
        """Write the rows visible before `until` not written yet; returns the rows written."""
        end = int(until.timestamp() * 1000)
        start = self.written_until
        written = 0
        for table, rows in self.rows.items():
            chunks: dict[str, list[str]] = {}
            for at, line in rows:
                if at >= end:
                    break
                if start is not None and at < start:
                    continue
                day = datetime.fromtimestamp(at / 1000, REPORTING_TZ).date().isoformat()
                chunks.setdefault(day, []).append(line)
            for day, lines in chunks.items():
                folder = self.landing / table / f"dt={day}"
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"replay-{tag}.ndjson"
                tmp = folder / f".replay-{tag}.ndjson.tmp"
                tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
                tmp.replace(path)  # the loader never sees half a file
                written += len(lines)
        self.written_until = end
        return written


def parse_moment(value: str) -> datetime:
    """ISO-8601; without an offset it is reporting-zone (Asia/Shanghai) wall-clock time."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ShoplensError(f"bad time {value!r}: use ISO-8601, e.g. 2026-09-02T20:30") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=REPORTING_TZ)
    return moment.astimezone(UTC)


def steps(start: datetime, until: datetime, step_seconds: float) -> Iterator[datetime]:
    """The ends of the steps from `start` to `until` (the last one may be short)."""
    from datetime import timedelta

    at = start
    while at < until:
        at = min(until, at + timedelta(seconds=step_seconds))
        yield at
