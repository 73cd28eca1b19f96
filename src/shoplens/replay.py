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
from collections.abc import Iterable, Iterator
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


def _file_lines(path: Path) -> Iterator[str]:
    if not path.name.endswith(contract.NDJSON_SUFFIXES) or path.name.endswith(".gz"):
        raise ShoplensError(f"replay reads plain NDJSON landing files only, not {path}")
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line:
                yield line


def _source_files(source: Path, table: str) -> list[Path]:
    folder = source / table
    if not folder.is_dir():
        return []
    return [
        path
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith((".", "_"))
    ]


def _source_lines(source: Path, table: str) -> Iterator[str]:
    for path in _source_files(source, table):
        yield from _file_lines(path)


def visible_rows(
    table: str, lines: Iterable[str], order_created: dict[str, int], previous: int = 0
) -> Iterator[tuple[int, str]]:
    """Each line of `table` as (the ms it becomes visible, line); orders twice (see the module
    docstring). `order_created` collects orders' creation times for their items: read orders
    first. A line that is not a JSON object keeps the time of the line before it."""
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            yield previous, line
            continue
        if not isinstance(obj, dict):
            yield previous, line
            continue
        for at, text in Replay._versions(table, obj, line, order_created, previous):
            yield at, text
            previous = at


# orders first: their creation times place the order items
TABLE_ORDER = ("orders", *(t for t in contract.TABLES if t not in ("orders", "products")))


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
        for table in TABLE_ORDER:
            rows = list(visible_rows(table, _source_lines(self.source, table), order_created))
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


def _day_bounds_ms(path: Path) -> tuple[int, int] | None:
    """The ms range of the reporting day of a `dt=YYYY-MM-DD` folder, None without one."""
    from datetime import date, timedelta

    name = path.parent.name
    if not name.startswith("dt="):
        return None
    try:
        day = date.fromisoformat(name[3:])
    except ValueError:
        return None
    start = datetime(day.year, day.month, day.day, tzinfo=REPORTING_TZ)
    return int(start.timestamp() * 1000), int((start + timedelta(days=1)).timestamp() * 1000)


def _count_lines(path: Path) -> int:
    """Lines of a generated file (no empty lines), counted on bytes: it can be gigabytes."""
    count, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def write_window(
    source: Path, dest: Path, start: int | None, end: int, with_products: bool
) -> dict[str, int]:
    """Stream the rows of `source` visible in [start, end) ms (start None: from the beginning)
    into `dest`, mirroring the source's file layout; the rows per table. The same visibility as
    Replay (visible_rows) without holding the source in memory, for sources of tens of millions
    of events: an events file (partitioned by the reporting date of received_at) whose whole
    day lies inside the window is hard-linked, one outside it is skipped, and only the files of
    the window's first and last day are read line by line."""
    import os

    written: dict[str, int] = {}
    order_created: dict[str, int] = {}
    tables = [*TABLE_ORDER, *(["products"] if with_products else [])]
    for table in tables:
        count = 0
        for path in _source_files(source, table):
            target = dest / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            if table == "products":
                lines = list(_file_lines(path))
                target.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
                count += len(lines)
                continue
            day = _day_bounds_ms(path) if table == "events" else None
            if day is not None and (day[0] >= end or (start is not None and day[1] <= start)):
                continue
            if day is not None and (start is None or day[0] >= start) and day[1] <= end:
                os.link(path, target)
                count += _count_lines(path)
                continue
            kept = 0
            with target.open("w", encoding="utf-8") as handle:
                previous = day[0] if day is not None else 0
                lines = _file_lines(path)
                for at, line in visible_rows(table, lines, order_created, previous):
                    if at < end and (start is None or at >= start):
                        handle.write(line + "\n")
                        kept += 1
            if not kept:
                target.unlink()
            count += kept
        written[table] = count
    return written
