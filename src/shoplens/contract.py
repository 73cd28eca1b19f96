"""The raw data contract: what lands in the landing folder and in the warehouse's `raw` schema.

One definition serves the generator (which writes landing files), the loader (which validates
them and creates the `raw` tables) and the docs. The dbt sources in
`models/staging/*/_*__sources.yml` describe the same tables; a Python test checks they agree.

Landing layout (Hive-style partitions, one folder per raw table)::

    <landing>/<table>/dt=YYYY-MM-DD/part-NNNN.ndjson     (or .ndjson.gz, .jsonl, .parquet)

`dt` is the reporting-zone date on which the rows arrived (events: `received_at`; backend
tables: the row's own timestamp, see `partition_column`).

Client events are the JSON objects of the tracking SDK (spec/events.md section 1). The loader
keeps the envelope as typed columns and the `properties` object as JSON text; staging extracts
properties according to the tracking plan seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Logical column types, mapped to each engine's DDL by the loader.
STRING = "string"
BIGINT = "bigint"
INTEGER = "integer"
BOOLEAN = "boolean"
TIMESTAMP = "timestamp"  # UTC, no time zone; landing files carry ISO-8601 with an offset
JSON = "json"  # a JSON object, stored as text (DuckDB JSON / PostgreSQL jsonb)

FILE_FORMATS = ("ndjson", "parquet")
NDJSON_SUFFIXES = (".ndjson", ".jsonl", ".json", ".ndjson.gz", ".jsonl.gz", ".json.gz")
PARQUET_SUFFIXES = (".parquet",)

# The collector clock is trusted, within reason: 2000-01-01 to 2100-01-01 (ms since epoch).
RECEIVED_AT_BOUNDS_MS = (946_684_800_000, 4_102_444_800_000)

RAW_SCHEMA = "raw"
REJECTED_TABLE = "rejected_rows"
LOAD_FILES_TABLE = "load_files"
# The audit of erasures and retention purges (src/shoplens/privacy.py).
DELETIONS_TABLE = "deletions"
DELETION_COUNTS_TABLE = "deletion_counts"

# Columns the loader adds to every raw table.
LOAD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_batch_id", STRING),
    ("_source_file", STRING),
    ("_line_number", BIGINT),
    ("_loaded_at", TIMESTAMP),
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False  # a row without it is rejected (kept in raw.rejected_rows)
    path: str | None = None  # key path in the landing object (dotted) when it differs from `name`
    description: str = ""
    bounds: tuple[int, int] | None = None  # integers outside [low, high] are rejected

    @property
    def json_path(self) -> str:
        """Key path in an NDJSON object, dotted for nested keys (`lib.name`)."""
        return self.path or self.name

    @property
    def parquet_name(self) -> str:
        """Column name in a Parquet file: the key path, flattened (`lib.name` -> `lib_name`)."""
        return self.json_path.replace(".", "_")


@dataclass(frozen=True)
class RawTable:
    name: str
    description: str
    columns: tuple[Column, ...]
    # The timestamp whose reporting-zone date is the dt= partition (order_items: their order's
    # created_at; "" for products: the catalog is one file under the first day).
    partition_column: str
    key: tuple[str, ...] = field(default=())

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


EVENTS = RawTable(
    name="events",
    description="Client tracking events from the mini-program SDK, one row per delivered event "
    "(SDK retries are delivered again with the same event_id; staging dedupes).",
    partition_column="received_at",
    key=("event_id",),
    columns=(
        Column(
            "event_id",
            STRING,
            required=True,
            description="Unique per tracked event; retries resend it.",
        ),
        Column(
            "event_name",
            STRING,
            required=True,
            path="event",
            description="Event name as sent (canonical or a vendor name).",
        ),
        Column(
            "client_time_ms",
            BIGINT,
            path="time",
            description="Client clock, ms since epoch; may be skewed, late or missing.",
        ),
        Column(
            "received_at_ms",
            BIGINT,
            required=True,
            path="received_at",
            description="Collector clock, ms since epoch; trustworthy.",
            bounds=RECEIVED_AT_BOUNDS_MS,
        ),
        Column(
            "anonymous_id",
            STRING,
            required=True,
            description="openid or device id (personal data).",
        ),
        Column("user_id", STRING, description="Member id, only after login (personal data)."),
        Column("lib_name", STRING, path="lib.name", description="SDK name."),
        Column("lib_version", STRING, path="lib.version", description="SDK version."),
        Column("app_version", STRING, description="Mini-program version."),
        Column("properties", JSON, description="Event properties object, as sent."),
    ),
)

PRODUCTS = RawTable(
    name="products",
    description="Product catalog from the order system, one row per SKU per export.",
    partition_column="",
    key=("sku_id",),
    columns=(
        Column("product_id", STRING, required=True),
        Column("sku_id", STRING, required=True),
        Column("title", STRING),
        Column("category", STRING),
        Column("brand", STRING),
        Column("list_price_fen", BIGINT),
        Column("is_active", BOOLEAN),
    ),
)

USERS = RawTable(
    name="users",
    description="Registered members from the order system (contains personal data: phone).",
    partition_column="registered_at",
    key=("user_id",),
    columns=(
        Column("user_id", STRING, required=True),
        Column("registered_at", TIMESTAMP, required=True),
        Column("phone", STRING, description="Mobile number (personal data)."),
        Column("gender", STRING),
        Column("city", STRING),
    ),
)

ORDERS = RawTable(
    name="orders",
    description="Orders from the order system; a later row for the same order_id "
    "(newer updated_at) supersedes an earlier one.",
    partition_column="created_at",
    key=("order_id",),
    columns=(
        Column("order_id", STRING, required=True),
        Column("user_id", STRING, required=True),
        Column("created_at", TIMESTAMP, required=True),
        Column("updated_at", TIMESTAMP),
        Column("status", STRING, required=True),
        Column("item_amount_fen", BIGINT),
        Column("discount_fen", BIGINT),
        Column("shipping_fen", BIGINT),
        Column("payable_fen", BIGINT),
        Column("coupon_id", STRING),
        Column("channel", STRING),
    ),
)

ORDER_ITEMS = RawTable(
    name="order_items",
    description="Order lines from the order system, one row per order and SKU.",
    partition_column="created_at",
    key=("order_id", "sku_id"),
    columns=(
        Column("order_id", STRING, required=True),
        Column("sku_id", STRING, required=True),
        Column("product_id", STRING, required=True),
        Column("quantity", INTEGER),
        Column("unit_price_fen", BIGINT),
        Column("item_discount_fen", BIGINT),
    ),
)

PAYMENTS = RawTable(
    name="payments",
    description="Payment attempts from the order system, one row per attempt.",
    partition_column="created_at",
    key=("payment_id",),
    columns=(
        Column("payment_id", STRING, required=True),
        Column("order_id", STRING, required=True),
        Column("created_at", TIMESTAMP, required=True),
        Column("finished_at", TIMESTAMP),
        Column("status", STRING, required=True, description="success | failed | cancelled"),
        Column("amount_fen", BIGINT),
        Column("pay_method", STRING),
        Column("error_code", STRING),
    ),
)

REFUNDS = RawTable(
    name="refunds",
    description="Refunds from the order system, one row per refund.",
    partition_column="refunded_at",
    key=("refund_id",),
    columns=(
        Column("refund_id", STRING, required=True),
        Column("order_id", STRING, required=True),
        Column("refunded_at", TIMESTAMP, required=True),
        Column("amount_fen", BIGINT),
        Column("status", STRING, description="success | failed | pending"),
    ),
)

CONSENTS = RawTable(
    name="consents",
    description="Consent changes (PIPL), one row per change.",
    partition_column="changed_at",
    key=("anonymous_id", "consent_type", "changed_at"),
    columns=(
        Column("anonymous_id", STRING, required=True),
        Column("user_id", STRING),
        Column("consent_type", STRING, required=True, description="analytics | marketing"),
        Column("granted", BOOLEAN, required=True),
        Column("changed_at", TIMESTAMP, required=True),
    ),
)

TABLES: dict[str, RawTable] = {
    t.name: t for t in (EVENTS, PRODUCTS, USERS, ORDERS, ORDER_ITEMS, PAYMENTS, REFUNDS, CONSENTS)
}
