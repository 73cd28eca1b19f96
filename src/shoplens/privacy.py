"""Erasure of one person (`shoplens forget`) and retention of raw events (`shoplens purge`).

Erasure (PIPL right to deletion). The person is resolved from the raw data and from staging:

- `--user-id U`: the member U, their phone (raw users), every device U ever logged in on (raw
  events and consents with user_id U, and staged events with U's hash, so devices whose raw rows
  retention already purged are found too) and U's orders (raw and staged orders of U) with their
  lines, payments and refunds. Every event of those devices goes, also the anonymous ones before
  the login: the marts attribute a device to the first member seen on it.
- `--anonymous-id A`: the device A only (its events, its consents). The member accounts seen on
  it stay: a device id names a device, and a shared device must not erase a member's orders and
  other devices. Erase the member with --user-id.

Then, in one transaction: raw rows of the person are deleted (and the quarantine lines of
raw.rejected_rows that contain one of their ids); other people's raw events that name them (a
`share_user_id` property) get that value replaced by JSON null; in every table of the project's
schemas (`<SHOPLENS_SCHEMA>_*`: staging, intermediate, marts, monitoring state, and any model
added later, found through information_schema rather than a list) rows whose owner column
(OWNER_COLUMNS, or order_id) holds one of their hashes or orders are deleted, and any other
`*_hash` column holding one of their hashes is set to null. Last, dbt rebuilds what derives from
the touched tables (see `rebuild_selection`): the incremental models that held the person keep
their other rows (they may hold history that raw no longer has, see purge), everything else
downstream is rebuilt with --full-refresh, so aggregates without a person column (the monitoring
marts) drop exactly the person's contribution.

The audit (tables `deletions` and `deletion_counts` in the raw schema) records the request
reference, the kind of identifier, when, the target and the rows per table (per load batch and
file for raw tables, which the load-accounting data tests use) — never the id or its hash. A
second run for the same person finds nothing, changes nothing and records a row with zero counts.

Retention: `purge` deletes raw events received before the cutoff, in one statement, and the
quarantined rows loaded before it. Only events already staged are deleted (staging is
incremental and keeps them, so every model built from it keeps its history); older rows not
staged yet stay until a `dbt build` has staged them. A `dbt build --full-refresh` rebuilds
staging from raw and would lose the purged history (see README).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shoplens import contract
from shoplens.errors import ShoplensError

DEFAULT_RETENTION_DAYS = 400
DELETIONS_TABLE = contract.DELETIONS_TABLE
DELETION_COUNTS_TABLE = contract.DELETION_COUNTS_TABLE

# Columns that say whose row it is: a row of a derived table whose owner column holds one of the
# person's hashes is the person's row and is deleted. Any other column ending in _hash that holds
# one (e.g. share_user_id_hash, a reference to them in someone else's row) is set to null.
OWNER_COLUMNS = ("person_id", "anonymous_id_hash", "user_id_hash", "first_user_id_hash")
ORDER_COLUMN = "order_id"
HASH_SUFFIX = "_hash"

# A request reference is a ticket number or similar: short, no spaces.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/#-]{0,63}")
PHONE_LIKE = re.compile(r"\+?\d{7,}")
ANONYMOUS_ID_IN_LINE = re.compile(r'"anonymous_id"\s*:\s*"([^"\\]+)"')

# Raw tables whose rows belong to a person through their order_id.
ORDER_TABLES = ("order_items", "payments", "refunds")


@dataclass
class Person:
    """Who is erased: raw ids (never stored nor printed) and their salted hashes."""

    identifier_kind: str  # user_id | anonymous_id
    user_ids: set[str] = field(default_factory=set)
    anonymous_ids: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    order_ids: set[str] = field(default_factory=set)
    # Device hashes found only in staging (their raw rows were purged by retention).
    staged_device_hashes: set[str] = field(default_factory=set)
    salt: str = ""

    def hash(self, value: str) -> str:
        return hashlib.sha256((self.salt + value).encode()).hexdigest()

    @property
    def raw_ids(self) -> set[str]:
        return self.user_ids | self.anonymous_ids | self.phones

    @property
    def hashes(self) -> set[str]:
        return {self.hash(v) for v in self.raw_ids} | self.staged_device_hashes

    @property
    def owner_hashes(self) -> set[str]:
        """Hashes whose rows are the person's (phones are matched through the user's rows)."""
        return {self.hash(v) for v in self.user_ids | self.anonymous_ids} | (
            self.staged_device_hashes
        )


@dataclass
class Count:
    """Rows deleted from (or redacted in) one table, per load batch and file for raw tables."""

    schema_name: str
    table_name: str
    raw_table: str | None = None
    batch_id: str | None = None
    source_file: str | None = None
    rows_deleted: int = 0
    rows_redacted: int = 0
    rows_kept_in_staging: int = 0


@dataclass
class Deletion:
    deletion_id: str
    kind: str  # erasure | retention
    target: str
    deleted_at: datetime
    counts: list[Count]
    identifier_kind: str | None = None
    request_id: str | None = None
    older_than_days: int | None = None
    cutoff_at: datetime | None = None
    dry_run: bool = False
    kept_unstaged: int = 0

    @property
    def raw_rows(self) -> int:
        return sum(c.rows_deleted for c in self.counts if c.raw_table is not None)

    @property
    def derived_rows(self) -> int:
        return sum(c.rows_deleted for c in self.counts if c.raw_table is None)

    @property
    def redacted_rows(self) -> int:
        return sum(c.rows_redacted for c in self.counts)

    def per_table(self) -> dict[str, tuple[int, int]]:
        """schema.table -> (rows deleted, rows redacted), tables with any."""
        totals: dict[str, tuple[int, int]] = {}
        for c in self.counts:
            name = f"{c.schema_name}.{c.table_name}"
            deleted, redacted = totals.get(name, (0, 0))
            totals[name] = (deleted + c.rows_deleted, redacted + c.rows_redacted)
        return {k: v for k, v in sorted(totals.items()) if v != (0, 0)}


# --- helpers ------------------------------------------------------------------------------------


def retention_days() -> int:
    """SHOPLENS_RAW_RETENTION_DAYS, default 400."""
    value = os.environ.get("SHOPLENS_RAW_RETENTION_DAYS", str(DEFAULT_RETENTION_DAYS))
    try:
        days = int(value)
    except ValueError:
        days = 0
    if days < 1:
        raise ShoplensError(
            f"SHOPLENS_RAW_RETENTION_DAYS must be a whole number of days >= 1, not {value!r}"
        )
    return days


def check_request_id(request_id: str | None, ids: Iterable[str]) -> str | None:
    """A ticket reference, not personal data: short, no spaces, not (containing) the id or a
    phone-like run of digits."""
    if request_id is None:
        return None
    if not REQUEST_ID_PATTERN.fullmatch(request_id):
        raise ShoplensError(
            "--request-id must be 1-64 letters, digits or . _ : / # - (a ticket reference)"
        )
    if any(i and i in request_id for i in ids) or PHONE_LIKE.search(request_id):
        raise ShoplensError(
            "--request-id must not contain the id being erased or a phone number: "
            "give the ticket reference only (the audit holds no personal data)"
        )
    return request_id


def _in_list(param: str, values: Sequence[Any]) -> str:
    return "(" + ", ".join([param] * len(values)) + ")"


def _project_schema_prefix() -> str:
    return os.environ.get("SHOPLENS_SCHEMA", "analytics") + "_"


class _Session:
    """One warehouse connection with the SQL both engines need, differing where they differ."""

    def __init__(self, target: str) -> None:
        from shoplens.warehouse import connect, existing_duckdb_path, raw_schema

        if target == "duckdb":
            existing_duckdb_path()
        elif target == "postgres":
            from shoplens.dbt import pass_salt_to_postgres

            pass_salt_to_postgres()
        self.target = target
        self.raw = raw_schema()
        self.wh: Any = connect(target)
        self.p = self.wh.param
        try:
            self._check_built()
        except BaseException:
            self.wh.close()
            raise

    def q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        from shoplens.warehouse import database_errors

        with database_errors(self.target, "a statement of the erasure or purge"):
            return self.wh.query(sql, params)

    def _check_built(self) -> None:
        found = {
            name
            for (name,) in self.q(
                f"select table_name from information_schema.tables where table_schema = {self.p}",
                (self.raw,),
            )
        }
        missing = [t for t in (*contract.TABLES, contract.REJECTED_TABLE) if t not in found]
        if missing:
            raise ShoplensError(
                f"the warehouse ({self.target}) has no raw tables {', '.join(missing)} in schema "
                f"{self.raw}: load and build it first (shoplens load, dbt build)"
            )
        self.wh.ensure_raw_tables()  # the audit tables, on a warehouse loaded before they existed

    def salt(self) -> str:
        if self.target == "postgres":
            (value,) = self.q("select current_setting('shoplens.pii_salt', true)")[0]
            if value:
                return str(value)
        from shoplens.dbt_duckdb_plugin import pii_salt

        return pii_salt()

    def hash_sql(self, expr: str) -> str:
        """SQL hash of expr with the salt as a parameter (the salt never appears in SQL text)."""
        if self.target == "postgres":
            return f"encode(sha256(convert_to({self.p} || {expr}, 'UTF8')), 'hex')"
        return f"sha256({self.p} || {expr})"

    def tables(self) -> dict[tuple[str, str], list[str]]:
        """(schema, table) -> columns, for the base tables of the project's derived schemas."""
        prefix = _project_schema_prefix().replace("_", r"\_")
        rows = self.q(
            "select c.table_schema, c.table_name, c.column_name "
            "from information_schema.columns as c "
            "inner join information_schema.tables as t "
            "on c.table_schema = t.table_schema and c.table_name = t.table_name "
            f"where t.table_type = 'BASE TABLE' and c.table_schema like {self.p} escape '\\' "
            f"and c.table_schema <> {self.p} "
            "order by c.table_schema, c.table_name, c.ordinal_position",
            (prefix + "%", self.raw),
        )
        columns: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in rows:
            columns.setdefault((schema, table), []).append(column.lower())
        return columns

    def close(self) -> None:
        self.wh.close()


# --- erasure ------------------------------------------------------------------------------------


def resolve(session: _Session, user_id: str | None, anonymous_id: str | None) -> Person:
    raw, p = session.raw, session.p
    person = Person("user_id" if user_id else "anonymous_id", salt=session.salt())
    if anonymous_id:
        person.anonymous_ids.add(anonymous_id)
        return person
    assert user_id is not None
    person.user_ids.add(user_id)
    for table in ("events", "consents"):
        person.anonymous_ids |= {
            a
            for (a,) in session.q(
                f"select distinct anonymous_id from {raw}.{table} where user_id = {p}", (user_id,)
            )
            if a
        }
    person.phones |= {
        ph
        for (ph,) in session.q(f"select phone from {raw}.users where user_id = {p}", (user_id,))
        if ph
    }
    person.order_ids |= {
        o
        for (o,) in session.q(f"select order_id from {raw}.orders where user_id = {p}", (user_id,))
    }
    # Staging may hold what retention purged from raw: devices and orders by the user's hash.
    tables = session.tables()
    user_hash = person.hash(user_id)
    known = {person.hash(a) for a in person.anonymous_ids}
    for (schema, table), columns in tables.items():
        if table == "stg_mini_program__events" and "user_id_hash" in columns:
            person.staged_device_hashes |= {
                h
                for (h,) in session.q(
                    f"select distinct anonymous_id_hash from {schema}.{table} "
                    f"where user_id_hash = {p}",
                    (user_hash,),
                )
                if h and h not in known
            }
        if table == "stg_order_system__orders" and "user_id_hash" in columns:
            person.order_ids |= {
                o
                for (o,) in session.q(
                    f"select order_id from {schema}.{table} where user_id_hash = {p}", (user_hash,)
                )
            }
    if person.staged_device_hashes:
        # Their raw device ids may survive only in quarantined lines (a purge keeps those until
        # their own cutoff): find them there by hash, so the lines can go too.
        for (line,) in session.q(f"select raw_line from {raw}.{contract.REJECTED_TABLE}"):
            for value in ANONYMOUS_ID_IN_LINE.findall(line or ""):
                if person.hash(value) in person.staged_device_hashes:
                    person.anonymous_ids.add(value)
                    person.staged_device_hashes.discard(person.hash(value))
    return person


def _raw_condition(session: _Session, person: Person, table: str) -> tuple[str, list[Any]]:
    """WHERE condition (and its parameters) for the person's rows of a raw table."""
    p = session.p
    parts: list[str] = []
    params: list[Any] = []

    def add(column: str, values: set[str]) -> None:
        if values:
            ordered = sorted(values)
            parts.append(f"{column} in {_in_list(p, ordered)}")
            params.extend(ordered)

    if table in ("events", "consents"):
        add("user_id", person.user_ids)
        add("anonymous_id", person.anonymous_ids)
        if person.staged_device_hashes:
            ordered = sorted(person.staged_device_hashes)
            parts.append(f"{session.hash_sql('anonymous_id')} in {_in_list(p, ordered)}")
            params.extend([person.salt, *ordered])
    elif table == "users":
        add("user_id", person.user_ids)
    elif table == "orders":
        add("user_id", person.user_ids)
        add("order_id", person.order_ids)
    elif table in ORDER_TABLES:
        add("order_id", person.order_ids)
    elif table == contract.REJECTED_TABLE:
        # A quarantined line holding any of their ids or order ids, anywhere in the text.
        for value in sorted(person.raw_ids | person.order_ids):
            parts.append(f"position({p} in raw_line) > 0")
            params.append(value)
    return (" or ".join(f"({part})" for part in parts) if parts else "false"), params


def _delete_counted(
    session: _Session, table: str, condition: str, params: Sequence[Any], kept_sql: str = "0"
) -> list[Count]:
    """Delete the rows of a raw table matching condition, counted per batch and file first."""
    raw = session.raw
    keys = "_batch_id, _source_file"
    if table == contract.REJECTED_TABLE:
        keys = f"table_name, {keys}"  # the raw table the quarantined line was meant for
    rows = session.q(
        f"select {keys}, count(*), sum({kept_sql}) "
        f"from {raw}.{table} where {condition} group by {keys}",
        params,
    )
    if table != contract.REJECTED_TABLE:
        rows = [(table, *row) for row in rows]
    if rows:
        session.q(f"delete from {raw}.{table} where {condition}", params)
    return [
        Count(raw, table, str(rt), batch, source, int(n), 0, int(kept or 0))
        for rt, batch, source, n, kept in rows
    ]


def _redact_raw_references(session: _Session, person: Person) -> list[Count]:
    """Other people's raw events that name one of the person's ids in their properties (a
    share_user_id): the JSON string value becomes null."""
    raw, p = session.raw, session.p
    counts = []
    for value in sorted(person.user_ids | person.anonymous_ids):
        quoted = f'"{value}"'
        text = "cast(properties as varchar)"
        rows = session.q(
            f"select _batch_id, _source_file, count(*) from {raw}.events "
            f"where position({p} in {text}) > 0 group by _batch_id, _source_file",
            (quoted,),
        )
        if rows:
            session.q(
                f"update {raw}.events set properties = cast(replace({text}, {p}, 'null') as json) "
                f"where position({p} in {text}) > 0",
                (quoted, quoted),
            )
        counts += [Count(raw, "events", "events", b, s, 0, int(n)) for b, s, n in rows]
    return counts


def _erase_derived(session: _Session, person: Person) -> list[Count]:
    owners = sorted(person.owner_hashes)
    hashes = sorted(person.hashes)
    orders = sorted(person.order_ids)
    p = session.p
    counts = []
    for (schema, table), columns in session.tables().items():
        parts, params = [], []
        for column in columns:
            if column in OWNER_COLUMNS and owners:
                parts.append(f"{column} in {_in_list(p, owners)}")
                params += owners
            elif column == ORDER_COLUMN and orders:
                parts.append(f"{column} in {_in_list(p, orders)}")
                params += orders
        count = Count(schema, table)
        if parts:
            condition = " or ".join(parts)
            (n,) = session.q(f"select count(*) from {schema}.{table} where {condition}", params)[0]
            if n:
                session.q(f"delete from {schema}.{table} where {condition}", params)
            count.rows_deleted = int(n)
        references = [
            c for c in columns if c.endswith(HASH_SUFFIX) and c not in OWNER_COLUMNS and hashes
        ]
        for column in references:
            condition = f"{column} in {_in_list(p, hashes)}"
            (n,) = session.q(f"select count(*) from {schema}.{table} where {condition}", hashes)[0]
            if n:
                session.q(f"update {schema}.{table} set {column} = null where {condition}", hashes)
            count.rows_redacted += int(n)
        if parts or references:
            counts.append(count)  # zero counts too: rebuild_selection keeps these incremental
    return counts


SOURCES = {"events": "mini_program", contract.REJECTED_TABLE: "loader"}


def rebuild_selection(counts: Sequence[Count]) -> tuple[list[str], list[str]]:
    """dbt --select and --exclude for the rebuild after an erasure: everything downstream of a
    touched table, except the incremental models with a person column (rows of the person were
    deleted from them in place; a full refresh would rebuild them from raw, which retention may
    have thinned). The rest runs with --full-refresh: tables are rebuilt anyway, and incremental
    aggregates without a person column (the monitoring marts) are recomputed from the models
    above them, which keep history."""
    derived = [c for c in counts if c.raw_table is None]
    touched = {c.table_name for c in derived if c.rows_deleted or c.rows_redacted}
    raw_touched = {c.table_name for c in counts if c.raw_table is not None and c.rows_deleted}
    select = [f"{name}+" for name in sorted(touched)] + [
        f"source:{SOURCES.get(name, 'order_system')}.{name}+" for name in sorted(raw_touched)
    ]
    exclude = [
        f"config.materialized:incremental,{name}"
        for name in sorted({c.table_name for c in derived})
    ]
    exclude.append("config.materialized:view")
    return select, exclude


def _write_audit(session: _Session, deletion: Deletion) -> None:
    raw, p = session.raw, session.p
    session.q(
        f"insert into {raw}.{DELETIONS_TABLE} (deletion_id, kind, identifier_kind, request_id, "
        "older_than_days, cutoff_at, target, deleted_at, raw_rows_deleted, derived_rows_deleted, "
        f"rows_redacted, is_rebuilt) values ({', '.join([p] * 12)})",
        (
            deletion.deletion_id,
            deletion.kind,
            deletion.identifier_kind,
            deletion.request_id,
            deletion.older_than_days,
            deletion.cutoff_at,
            deletion.target,
            deletion.deleted_at,
            deletion.raw_rows,
            deletion.derived_rows,
            deletion.redacted_rows,
            # Nothing to rebuild after a purge (staging keeps the rows) or an erasure that found
            # nothing; otherwise set once dbt has rebuilt the derived models.
            deletion.kind == "retention"
            or not (deletion.raw_rows or deletion.derived_rows or deletion.redacted_rows),
        ),
    )
    for c in deletion.counts:
        session.q(
            f"insert into {raw}.{DELETION_COUNTS_TABLE} (deletion_id, schema_name, table_name, "
            "raw_table, batch_id, source_file, rows_deleted, rows_redacted, rows_kept_in_staging) "
            f"values ({', '.join([p] * 9)})",
            (
                deletion.deletion_id,
                c.schema_name,
                c.table_name,
                c.raw_table,
                c.batch_id,
                c.source_file,
                c.rows_deleted,
                c.rows_redacted,
                c.rows_kept_in_staging,
            ),
        )


def forget(
    target: str,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    request_id: str | None = None,
    dry_run: bool = False,
) -> Deletion:
    """Erase one person (see the module docstring); returns what was deleted."""
    if (user_id is None) == (anonymous_id is None):
        raise ShoplensError("give exactly one of --user-id and --anonymous-id")
    value = (user_id if user_id is not None else anonymous_id) or ""
    if not value.strip() or value != value.strip():
        raise ShoplensError("the id to erase is empty or has leading/trailing spaces")
    request_id = check_request_id(request_id, [value])
    session = _Session(target)
    deletion = Deletion(
        deletion_id=str(uuid.uuid4()),
        kind="erasure",
        target=target,
        deleted_at=datetime.now(UTC).replace(tzinfo=None),
        counts=[],
        request_id=request_id,
        dry_run=dry_run,
    )
    try:
        person = resolve(session, user_id, anonymous_id)
        deletion.identifier_kind = person.identifier_kind
        try:
            with session.wh.transaction():
                for table in (*contract.TABLES, contract.REJECTED_TABLE):
                    condition, params = _raw_condition(session, person, table)
                    deletion.counts += _delete_counted(session, table, condition, params)
                deletion.counts += _redact_raw_references(session, person)
                deletion.counts += _erase_derived(session, person)
                if dry_run:
                    raise _DryRun
                _write_audit(session, deletion)
        except _DryRun:
            return deletion
    finally:
        session.close()
    select, exclude = rebuild_selection(deletion.counts)
    if deletion.raw_rows or deletion.derived_rows or deletion.redacted_rows:
        _run_dbt_rebuild(target, select, exclude)
        session = _Session(target)
        try:
            session.q(
                f"update {session.raw}.{DELETIONS_TABLE} set is_rebuilt = true "
                f"where deletion_id = {session.p}",
                (deletion.deletion_id,),
            )
        finally:
            session.close()
    return deletion


class _DryRun(Exception):
    """Rolls the transaction of a dry run back."""


def _run_dbt_rebuild(target: str, select: list[str], exclude: list[str]) -> None:
    from shoplens.dbt import run_dbt

    selection = ["--full-refresh", "--select", *select, "--exclude", *exclude]
    with tempfile.TemporaryDirectory(prefix="shoplens-forget-") as tmp:
        folders = ["--target-path", f"{tmp}/target", "--log-path", tmp]
        try:
            run_dbt(["run", "--quiet", *folders, *selection], target=target)
        except ShoplensError:
            raise ShoplensError(
                "the person's rows are deleted but rebuilding the models derived from them "
                f"failed; fix the cause and run: dbt run {' '.join(_quoted(selection))} "
                f"--target {target}"
            ) from None


def _quoted(args: Sequence[str]) -> list[str]:
    return [f"'{a}'" if any(ch in a for ch in "*+,:") else a for a in args]


# --- retention ----------------------------------------------------------------------------------


def purge(target: str, older_than_days: int | None = None, dry_run: bool = False) -> Deletion:
    """Delete raw events received, and quarantined rows loaded, before now - older_than_days."""
    days = retention_days() if older_than_days is None else older_than_days
    if days < 1:
        raise ShoplensError("--older-than-days must be at least 1")
    cutoff = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=days)
    session = _Session(target)
    deletion = Deletion(
        deletion_id=str(uuid.uuid4()),
        kind="retention",
        target=target,
        deleted_at=datetime.now(UTC).replace(tzinfo=None),
        counts=[],
        older_than_days=days,
        cutoff_at=cutoff,
        dry_run=dry_run,
    )
    raw, p = session.raw, session.p
    cutoff_ms = int(cutoff.replace(tzinfo=UTC).timestamp() * 1000)
    try:
        staging = _staged_events_table(session)
        staged = (
            f"exists (select 1 from {staging} as staged where staged.event_id = events.event_id)"
        )
        is_staged_delivery = (
            f"case when exists (select 1 from {staging} as staged "
            "where staged.event_id = events.event_id and staged._batch_id = events._batch_id "
            "and staged._source_file = events._source_file "
            "and staged._line_number = events._line_number) then 1 else 0 end"
        )
        old = f"received_at_ms < {p}"
        ((unstaged,),) = session.q(
            f"select count(*) from {raw}.events where {old} and not {staged}", (cutoff_ms,)
        )
        deletion.kept_unstaged = int(unstaged)
        with session.wh.transaction():
            deletion.counts += _delete_counted(
                session, "events", f"{old} and {staged}", (cutoff_ms,), is_staged_delivery
            )
            deletion.counts += _delete_counted(
                session, contract.REJECTED_TABLE, f"_loaded_at < {p}", (cutoff,)
            )
            if dry_run:
                raise _DryRun
            _write_audit(session, deletion)
    except _DryRun:
        pass
    finally:
        session.close()
    return deletion


def _staged_events_table(session: _Session) -> str:
    for (schema, table), _ in session.tables().items():
        if table == "stg_mini_program__events":
            return f"{schema}.{table}"
    raise ShoplensError(
        f"no stg_mini_program__events in the {_project_schema_prefix()}* schemas ({session.target})"
        ": run dbt build before purging raw events"
    )
