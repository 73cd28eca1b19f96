"""Synthetic data for Shoplens: a simulated WeChat-style mini-program shop.

`generate()` writes the landing layout of `shoplens.contract` (client events plus the order
system's tables) for a population of people over a number of reporting days, with the
imperfections of spec/events.md injected at configurable rates and a `ground_truth.json` that
records what was injected.

Everything is vectorised with numpy: one day is simulated as arrays of sessions, page visits
and events (expanded with `np.repeat` over count matrices), and the NDJSON text is built
column-wise with `pyarrow.compute` and written straight from the Arrow buffers. Output is a pure
function of the config: the same seed gives byte-identical files.

Simulation outline (per reporting day):

1. active people (new arrivals + returning, with weekday / promotion factors) -> sessions with a
   device, a start time from the hourly profile, a WeChat scene and a login state;
2. per session a list of page visits (home, browse pages, product details, cart, checkout,
   pay result, ...) decided by the funnel probabilities;
3. per visit a count per event "slot" (page_view, exposures, clicks, add_to_cart, ..., pay
   attempts, page_leave), expanded into events whose times are cumulative sums of gaps;
4. payment outcomes (with incident windows), orders / items / payments rows, deferred
   payments (paid in a later session, run as a second pass of "pay later" sessions);
5. delivery: loss, duplicates, late arrival, clock skew, unknown events, property violations,
   malformed lines; rows are partitioned by the reporting date of `received_at`.

Backend tables (orders with their final status, items, payments, refunds, users, consents) are
written at the end, partitioned by the reporting date of their `partition_column`; anything
that happens after the end of the last reporting day (the export time) is left out.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shoplens import contract

__all__ = [
    "GenerationResult",
    "GeneratorConfig",
    "IncidentSpec",
    "benchmark",
    "generate",
]


@dataclass(frozen=True)
class IncidentSpec:
    """A payment-gateway outage: attempts created in the window succeed at `success_rate`."""

    start: datetime  # UTC, tz-aware
    minutes: int = 20
    success_rate: float = 0.4


@dataclass(frozen=True)
class GeneratorConfig:
    out_dir: Path
    users: int = 5000  # people (persons) in the simulated population
    days: int = 30
    start_date: date = date(2026, 9, 1)  # first reporting day (reporting zone)
    seed: int = 42
    file_format: str = "ndjson"  # "ndjson" or "parquet"
    reporting_tz: str = "Asia/Shanghai"
    lost_rate: float = 0.02
    duplicate_rate: float = 0.005
    late_rate: float = 0.01
    skew_rate: float = 0.003
    malformed_rate: float = 0.0005
    unknown_event_rate: float = 0.001
    missing_property_rate: float = 0.001
    promotion_day: int | None = 10
    refund_rate: float = 0.04  # share of paid orders refunded (1-10 days after payment)
    incidents: tuple[IncidentSpec, ...] = ()
    # Scales the share of interested sessions that go on to buy (add to cart / buy now), capped
    # at certainty: more payments per 10-minute window without a larger population (1.0 keeps
    # the default output byte for byte).
    purchase_multiplier: float = 1.0
    # Share of consenting devices that withdraw their analytics consent during the period
    # (about a third of them grant it again within three days).
    consent_withdrawal_rate: float = 0.015


@dataclass
class GenerationResult:
    out_dir: Path
    events_written: int  # lines written to events files, incl. duplicates and malformed lines
    files: list[Path]
    seconds: float
    ground_truth: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

EVENT_NAMES = [
    "mp_launch",
    "mp_show",
    "mp_hide",
    "page_view",
    "page_leave",
    "exposure",
    "banner_click",
    "recommend_click",
    "activity_entry_click",
    "carousel_switch",
    "customer_service_click",
    "add_to_cart",
    "buy_now_click",
    "cart_quantity_change",
    "cart_item_delete",
    "checkout_click",
    "submit_order",
    "pay_request",
    "pay_success",
    "pay_fail",
]
UNKNOWN_EVENTS = ["share_click", "coupon_receive", "video_play", "live_room_enter", "debug_ping"]
ALL_EVENTS = EVENT_NAMES + UNKNOWN_EVENTS
E = {name: i for i, name in enumerate(ALL_EVENTS)}
N_KNOWN = len(EVENT_NAMES)

# Required properties of the tracking plan (spec/events.md), used to inject violations.
REQUIRED_PROPERTIES: dict[str, tuple[str, ...]] = {
    "mp_launch": ("scene", "is_first_launch"),
    "mp_show": (),
    "mp_hide": ("duration_ms",),
    "page_view": ("page_path", "page_type"),
    "page_leave": ("page_path", "duration_ms"),
    "exposure": ("module", "item_type", "item_id", "position"),
    "banner_click": ("banner_id", "position"),
    "recommend_click": ("product_id", "module", "position"),
    "activity_entry_click": ("activity_id", "position"),
    "carousel_switch": ("product_id", "image_index"),
    "customer_service_click": ("page_type",),
    "add_to_cart": ("product_id", "sku_id", "quantity", "unit_price_fen"),
    "buy_now_click": ("product_id", "sku_id", "quantity"),
    "cart_quantity_change": ("sku_id", "quantity_before", "quantity_after"),
    "cart_item_delete": ("sku_id", "quantity"),
    "checkout_click": ("item_count", "amount_fen"),
    "submit_order": ("order_id", "amount_fen", "item_count"),
    "pay_request": ("order_id", "pay_amount_fen", "pay_method"),
    "pay_success": ("order_id", "pay_amount_fen"),
    "pay_fail": ("order_id", "error_code"),
}

# WeChat scene values and their weights (channel mix from spec/metrics.md).
SCENES = np.array(
    [
        1001,
        1089,
        1256,
        1007,
        1008,
        1005,
        1006,
        1053,
        1045,
        1046,
        1011,
        1012,
        1047,
        1048,
        1035,
        1043,
        1058,
        1037,
        1038,
        1014,
        1023,
        1104,
    ],
    dtype=np.int64,
)
SCENE_W = np.array(
    [
        0.10,
        0.20,
        0.05,
        0.12,
        0.08,
        0.05,
        0.03,
        0.04,
        0.06,
        0.04,
        0.02,
        0.01,
        0.02,
        0.01,
        0.02,
        0.03,
        0.02,
        0.03,
        0.02,
        0.02,
        0.015,
        0.015,
    ],
)
SCENE_W = SCENE_W / SCENE_W.sum()
SHARE_SCENES = (1007, 1008)
ADS_SCENES = (1045, 1046)
OA_SCENES = (1035, 1043, 1058)
RESUME_SCENES = np.array([1089, 1001, 1089, 1104], dtype=np.int64)

# page types (codes follow the tracking plan's list) and their page paths
PAGE_TYPES = [
    "home",
    "category",
    "search",
    "product_detail",
    "cart",
    "checkout",
    "pay_result",
    "order_list",
    "profile",
    "activity",
    "other",
]
PAGE_PATHS = [
    "pages/index/index",
    "pages/category/index",
    "pages/search/index",
    "pages/goods/detail",
    "pages/cart/index",
    "pages/order/confirm",
    "pages/pay/result",
    "pages/order/list",
    "pages/my/index",
    "pages/activity/index",
    "pages/webview/index",
]
PT = {name: i for i, name in enumerate(PAGE_TYPES)}

# visit kinds (in the order they appear within a session)
V_START, V_HOME, V_BROWSE, V_DETAIL, V_CART, V_CHECKOUT, V_PAYPAGE, V_PAYRESULT, V_TAIL, V_END = (
    range(10)
)
N_VISIT_KINDS = 10

# event slots (in the order they appear within a visit)
SLOTS = [
    "launch",
    "show",
    "pv",
    "expo",
    "click",
    "carousel",
    "cs",
    "atc",
    "buynow",
    "qty",
    "del",
    "checkout",
    "submit",
    "pr1",
    "ps1",
    "pr2",
    "ps2",
    "pr3",
    "ps3",
    "leave",
    "hide",
]
S = {name: i for i, name in enumerate(SLOTS)}
N_SLOTS = len(SLOTS)
SLOT_EVENT = np.array(
    [
        E["mp_launch"],
        E["mp_show"],
        E["page_view"],
        E["exposure"],
        E["banner_click"],
        E["carousel_switch"],
        E["customer_service_click"],
        E["add_to_cart"],
        E["buy_now_click"],
        E["cart_quantity_change"],
        E["cart_item_delete"],
        E["checkout_click"],
        E["submit_order"],
        E["pay_request"],
        E["pay_success"],
        E["pay_request"],
        E["pay_success"],
        E["pay_request"],
        E["pay_success"],
        E["page_leave"],
        E["mp_hide"],
    ],
    dtype=np.int16,
)
# gap before an event of this slot: lognormal median (ms) and sigma, plus a floor
GAP_MEDIAN = np.array(
    [
        0,
        120,
        600,
        500,
        5000,
        3500,
        9000,
        14000,
        12000,
        4000,
        4000,
        7000,
        25000,
        1500,
        9000,
        1500,
        9000,
        1500,
        9000,
        15000,
        400,
    ],
    dtype=np.float64,
)
GAP_SIGMA = np.array(
    [
        0,
        0.4,
        0.5,
        0.8,
        0.8,
        0.6,
        0.6,
        0.7,
        0.7,
        0.5,
        0.5,
        0.6,
        0.6,
        0.3,
        0.5,
        0.3,
        0.5,
        0.3,
        0.5,
        0.9,
        0.4,
    ]
)
GAP_FLOOR = np.array(
    [
        0,
        20,
        80,
        30,
        600,
        500,
        1500,
        2000,
        2000,
        800,
        800,
        1000,
        4000,
        300,
        2500,
        300,
        2500,
        300,
        2500,
        800,
        80,
    ],
    dtype=np.int64,
)

MODULES = ["banner", "recommend", "activity_entry", "product_list", "search_result"]
N_BANNERS = 6
N_ACTIVITIES = 5
PAY_METHODS = ["wechat_pay", "balance", "bank_card"]
PAY_METHOD_W = [0.95, 0.03, 0.02]
ERROR_CODES = ["user_cancel", "insufficient_balance", "gateway_timeout", "system_error"]
NORMAL_ERROR_W = [0.55, 0.28, 0.12, 0.05]
INCIDENT_ERROR_W = [0.05, 0.03, 0.62, 0.30]
PAY_SUCCESS_RATE = 0.93  # per attempt, outside incidents
PAY_STATUS = ["success", "failed", "cancelled"]
LIB_VERSIONS = ["1.3.2", "1.4.0"]
APP_VERSIONS = ["3.1.4", "3.2.0", "3.2.1"]
UTM = [
    ("", ""),
    ("tencent_ads", "autumn_new"),
    ("tencent_ads", "retarget_cart"),
    ("moments_ads", "brand_day"),
    ("official_account", "weekly_push"),
    ("kol", "live_recap"),
]
# local-hour traffic profile (reporting zone): evening peak 20-22h, trough 3-5h
HOUR_W = np.array(
    [
        3.0,
        1.8,
        1.0,
        0.6,
        0.45,
        0.55,
        1.2,
        2.5,
        3.5,
        4.0,
        4.5,
        5.0,
        6.0,
        5.5,
        4.8,
        4.8,
        5.0,
        5.3,
        5.8,
        7.0,
        8.5,
        9.0,
        8.0,
        5.5,
    ]
)
HOUR_W = HOUR_W / HOUR_W.sum()
WEEKDAY_W = np.array([0.92, 0.90, 0.93, 0.95, 1.05, 1.20, 1.22])  # Monday..Sunday
PROMO_TRAFFIC = 2.5

CATALOG = {
    "女装": (
        ["初语", "太平鸟", "欧时力", "Ur"],
        ["连衣裙", "针织开衫", "半身裙", "雪纺衬衫", "风衣"],
        9900,
        59900,
    ),
    "男装": (
        ["海澜之家", "GXG", "雅戈尔"],
        ["休闲夹克", "纯棉T恤", "商务衬衫", "直筒牛仔裤"],
        7900,
        49900,
    ),
    "美妆": (
        ["完美日记", "花西子", "珀莱雅", "薇诺娜"],
        ["口红", "粉底液", "精华液", "面膜", "防晒霜"],
        5900,
        39900,
    ),
    "食品": (
        ["三只松鼠", "良品铺子", "百草味", "认养一头牛"],
        ["每日坚果", "牛肉干", "纯牛奶", "芒果干"],
        1990,
        15900,
    ),
    "家居": (
        ["网易严选", "名创优品", "全棉时代"],
        ["四件套", "乳胶枕", "收纳箱", "毛巾礼盒"],
        2990,
        69900,
    ),
    "数码": (
        ["小米", "华为", "倍思", "漫步者"],
        ["蓝牙耳机", "充电宝", "智能手环", "数据线"],
        2990,
        129900,
    ),
    "母婴": (["好奇", "帮宝适", "贝亲"], ["纸尿裤", "奶瓶", "婴儿湿巾", "辅食碗"], 2990, 25900),
    "运动": (
        ["李宁", "安踏", "特步", "迪卡侬"],
        ["跑步鞋", "速干T恤", "瑜伽垫", "运动背包"],
        4990,
        69900,
    ),
}
ADJECTIVES = ["经典", "新款", "轻薄", "加厚", "简约", "国潮", "升级版", "限定"]
VARIANTS = ["标准款", "大号", "礼盒装", "家庭装"]
CITIES = [
    "上海",
    "北京",
    "广州",
    "深圳",
    "杭州",
    "成都",
    "武汉",
    "南京",
    "重庆",
    "西安",
    "苏州",
    "长沙",
    "天津",
    "郑州",
    "东莞",
    "青岛",
]
PHONE_PREFIXES = ["138", "139", "137", "136", "150", "158", "186", "188", "135", "177"]

LINE_BATCH = 1 << 18  # rows per NDJSON text chunk (bounds the memory of the intermediates)
MS_MIN = 60_000
MS_HOUR = 3_600_000
MS_DAY = 86_400_000
HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
B64 = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", np.uint8)


# --------------------------------------------------------------------------------------------
# Small vectorised helpers
# --------------------------------------------------------------------------------------------


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts per owner: (owner index per item, rank of the item within its owner)."""
    counts = counts.astype(np.int64, copy=False)
    owner = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    rank = np.arange(len(owner), dtype=np.int64) - starts[owner]
    return owner, rank


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _istr(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def _take(strings: pa.Array, idx: np.ndarray) -> pa.Array:
    return strings.take(pa.array(np.asarray(idx, dtype=np.int64)))


def _fixed_strings(chars: np.ndarray) -> pa.Array:
    """A (n, w) uint8 matrix of ASCII characters -> Arrow string array of n strings."""
    n, w = chars.shape
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
    data = np.ascontiguousarray(chars).tobytes()
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _uuids(rng: np.random.Generator, n: int) -> pa.Array:
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexd = np.empty((n, 32), dtype=np.uint8)
    hexd[:, 0::2] = HEX[raw >> 4]
    hexd[:, 1::2] = HEX[raw & 0x0F]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    out[:, 0:8] = hexd[:, 0:8]
    out[:, 9:13] = hexd[:, 8:12]
    out[:, 14:18] = hexd[:, 12:16]
    out[:, 19:23] = hexd[:, 16:20]
    out[:, 24:36] = hexd[:, 20:32]
    return _fixed_strings(out)


def _iso(ms: np.ndarray) -> pa.Array:
    """Integer ms since epoch -> ISO-8601 UTC strings with milliseconds and a Z suffix."""
    text = np.datetime_as_string(np.asarray(ms, dtype=np.int64).astype("datetime64[ms]"), "ms")
    return _join(pa.array(text.astype(object), pa.string()), "Z")


def _lognormal_ms(rng, median: np.ndarray, sigma: np.ndarray, floor: np.ndarray) -> np.ndarray:
    g = median * np.exp(sigma * rng.standard_normal(len(median)))
    return np.maximum(g.astype(np.int64), floor)


def _write_lines(path: Path, lines: pa.Array) -> None:
    """Write string arrays whose elements end with a newline as one file, zero-copy."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chunks = lines.chunks if isinstance(lines, pa.ChunkedArray) else [lines]
    with open(path, "wb") as fh:
        for chunk in chunks:
            if len(chunk) == 0:
                continue
            _, off_buf, data_buf = chunk.buffers()
            width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
            offsets = np.frombuffer(off_buf, dtype=width)[
                chunk.offset : chunk.offset + len(chunk) + 1
            ]
            fh.write(memoryview(data_buf)[int(offsets[0]) : int(offsets[-1])])


def _splice(chunks: list[pa.Array], rows: np.ndarray, texts: list[str]) -> pa.ChunkedArray:
    """Replace the lines at global positions `rows` (sorted) by `texts`, without copying."""
    out: list[pa.Array] = []
    j, lo = 0, 0
    for arr in chunks:
        hi = lo + len(arr)
        cur = lo
        while j < len(rows) and rows[j] < hi:
            r = int(rows[j])
            if r > cur:
                out.append(arr.slice(cur - lo, r - cur))
            out.append(pa.array([texts[j]], pa.string()))
            cur = r + 1
            j += 1
        if cur < hi:
            out.append(arr.slice(cur - lo, hi - cur))
        lo = hi
    return pa.chunked_array(out, pa.string())


def _ndjson_lines(table: pa.Table, spec: contract.RawTable) -> pa.Array:
    """Column-wise JSON text for a backend table (string/int/bool columns, no escaping needed)."""
    parts: list = []
    for i, column in enumerate(spec.columns):
        values = table.column(column.name)
        if pa.types.is_string(values.type):
            text = pc.fill_null(_join('"', values, '"'), "null")
        elif pa.types.is_boolean(values.type):
            text = pc.fill_null(pc.if_else(values, "true", "false"), "null")
        else:
            text = pc.fill_null(pc.cast(values, pa.string()), "null")
        parts += [("{" if i == 0 else ",") + f'"{column.json_path}":', text]
    parts.append("}\n")
    return _join(*parts)


# --------------------------------------------------------------------------------------------
# The simulation
# --------------------------------------------------------------------------------------------


class _Simulation:
    def __init__(self, config: GeneratorConfig) -> None:
        if config.file_format not in contract.FILE_FORMATS:
            raise ValueError(f"file_format must be one of {contract.FILE_FORMATS}")
        if config.users < 1 or config.days < 1:
            raise ValueError("users and days must be >= 1")
        if config.purchase_multiplier <= 0:
            raise ValueError("purchase_multiplier must be > 0")
        self.cfg = config
        self.rng = np.random.default_rng(config.seed)
        self.tz = ZoneInfo(config.reporting_tz)
        self.out = Path(config.out_dir)
        days = config.days
        # day boundaries (UTC ms of local midnights) for days -400..days+40
        self.day_start = np.array(
            [
                self._local_midnight_ms(config.start_date + timedelta(days=k))
                for k in range(days + 1)
            ],
            dtype=np.int64,
        )
        self.export_end = int(self.day_start[-1])
        wd = np.array([(config.start_date + timedelta(days=k)).weekday() for k in range(days)])
        self.day_w = WEEKDAY_W[wd].copy()
        if config.promotion_day is not None and 0 <= config.promotion_day < days:
            self.day_w[config.promotion_day] *= PROMO_TRAFFIC
        self.incidents = [
            (
                int(inc.start.timestamp() * 1000),
                int((inc.start + timedelta(minutes=inc.minutes)).timestamp() * 1000),
                float(inc.success_rate),
            )
            for inc in config.incidents
        ]
        self.files: list[Path] = []
        self.events_written = 0
        self.carry: dict[int, list[tuple[np.ndarray, object]]] = {}
        self.counts = {
            "tracked": 0,
            "lost": 0,
            "delivered": 0,
            "duplicated": 0,
            "late": 0,
            "skewed": 0,
            "malformed": 0,
            "malformed_by_kind": {},
            "unknown_event": 0,
            "missing_property": 0,
            "wrong_type_property": 0,
            "received_after_window": 0,
        }
        self.daily: list[dict] = []
        self._build_catalog()
        self._build_population()
        self.orders: list[dict] = []
        self.items: list[dict] = []
        self.payments: list[dict] = []
        self.order_seq = 0
        self.payment_seq = 0
        self.queue = {
            k: np.zeros(0, dtype=np.int64)
            for k in ("gidx", "person", "dev", "user", "due", "payable", "created")
        }
        self.queue_ids: list[str] = []

    # -- setup ---------------------------------------------------------------------------------

    def _local_midnight_ms(self, day: date) -> int:
        return int(datetime(day.year, day.month, day.day, tzinfo=self.tz).timestamp() * 1000)

    def _build_catalog(self) -> None:
        rng = self.rng
        n_prod = 200
        cats = list(CATALOG)
        prod_cat = rng.integers(0, len(cats), n_prod)
        rows: dict[str, list] = {
            k: []
            for k in (
                "product_id",
                "sku_id",
                "title",
                "category",
                "brand",
                "list_price_fen",
                "is_active",
            )
        }
        sku_product, sku_price = [], []
        prod_ids = []
        for p in range(n_prod):
            cat = cats[prod_cat[p]]
            brands, nouns, lo, hi = CATALOG[cat]
            brand = brands[rng.integers(len(brands))]
            adjective = ADJECTIVES[rng.integers(len(ADJECTIVES))]
            title = f"{brand} {adjective}{nouns[rng.integers(len(nouns))]}"
            base = int(np.exp(rng.uniform(np.log(lo), np.log(hi))) // 100 * 100 - 10)
            pid = f"P{10001 + p}"
            prod_ids.append(pid)
            active = bool(rng.random() < 0.96)
            for k in range(int(rng.integers(1, 5))):
                price = int(base * (1 + 0.25 * k))
                rows["product_id"].append(pid)
                rows["sku_id"].append(f"S{10001 + p}{k + 1:02d}")
                rows["title"].append(f"{title} {VARIANTS[k]}")
                rows["category"].append(cat)
                rows["brand"].append(brand)
                rows["list_price_fen"].append(price)
                rows["is_active"].append(active)
                sku_product.append(p)
                sku_price.append(price)
        self.products = pa.table(
            {
                **{
                    k: pa.array(v, pa.string())
                    for k, v in rows.items()
                    if k not in ("list_price_fen", "is_active")
                },
                "list_price_fen": pa.array(rows["list_price_fen"], pa.int64()),
                "is_active": pa.array(rows["is_active"], pa.bool_()),
            }
        ).select([c.name for c in contract.PRODUCTS.columns])
        self.sku_product = np.array(sku_product, dtype=np.int64)
        self.sku_price = np.array(sku_price, dtype=np.int64)
        n_sku = len(sku_product)
        active = np.array(rows["is_active"])
        pop = 1.0 / np.arange(1, n_prod + 1) ** 0.9
        pop = pop[rng.permutation(n_prod)]
        w = (
            pop[self.sku_product]
            * active
            / np.bincount(self.sku_product, minlength=n_prod)[self.sku_product]
        )
        self.sku_cdf = np.cumsum(w / w.sum())
        self.n_sku = n_sku
        self.n_prod = n_prod
        self.sku_ids = pa.array(rows["sku_id"], pa.string())
        self.sku_q = pa.array([f'"{s}"' for s in rows["sku_id"]], pa.string())
        self.prod_q = pa.array([f'"{p}"' for p in prod_ids], pa.string())
        self.prod_ids = pa.array(prod_ids, pa.string())
        # exposure items: banners, activities, products
        banners = [f"B{i + 1:03d}" for i in range(N_BANNERS)]
        activities = [f"A{i + 1:02d}" for i in range(N_ACTIVITIES)]
        item_ids = banners + activities + prod_ids
        item_types = ["banner"] * N_BANNERS + ["activity"] * N_ACTIVITIES + ["product"] * n_prod
        self.item_q = pa.array([f'"{i}"' for i in item_ids], pa.string())
        self.item_frag = pa.array(
            [
                f'"item_type":"{t}","item_id":"{i}"'
                for t, i in zip(item_types, item_ids, strict=True)
            ],
            pa.string(),
        )
        self.product_frag = pa.array([f',"product_id":"{p}"' for p in prod_ids] + [""], pa.string())

    def _build_population(self) -> None:
        rng, cfg = self.rng, self.cfg
        n = cfg.users
        days = cfg.days
        existing = rng.random(n) < 0.35
        ptype = np.where(
            existing,
            rng.choice(3, n, p=[0.30, 0.45, 0.25]),
            rng.choice(3, n, p=[0.50, 0.37, 0.13]),
        )
        self.p_return = np.array([0.015, 0.11, 0.42])[ptype] * rng.lognormal(0, 0.35, n)
        self.ptype = ptype
        self.existing = existing
        w = self.day_w / self.day_w.sum()
        self.arrival = np.where(existing, -1, rng.choice(days, n, p=w))
        self.volunteer_login = rng.random(n) < 0.45
        # user ids: "M" + 7 digits, unique
        nums = 1_000_000 + rng.choice(8_999_999, n, replace=False)
        self.user_ids = pa.array([f"M{x}" for x in nums.tolist()], pa.string())
        self.user_frag = pa.array(
            [f'"user_id":"M{x}",' for x in nums.tolist()] + ['"user_id":null,'], pa.string()
        )
        self.share_frag = pa.array(
            [f',"share_user_id":"M{x}"' for x in nums.tolist()] + [""], pa.string()
        )
        # devices: every person has one; 8% a second one
        two = rng.random(n) < 0.08
        n_dev = n + int(two.sum())
        self.dev_person = np.concatenate([np.arange(n), np.nonzero(two)[0]])
        self.dev2 = np.full(n, -1, dtype=np.int64)
        self.dev2[two] = np.arange(n, n_dev)
        chars = B64[rng.integers(0, 64, size=(n_dev, 28))]
        chars[:, :4] = np.frombuffer(b"oX3k", dtype=np.uint8)
        self.anon_ids = _fixed_strings(chars)
        self.anon_q = _join('"', self.anon_ids, '"')
        # rarely a device logs into a second account
        alt = rng.random(n_dev) < 0.006
        self.dev_alt = np.where(alt, rng.integers(0, n, n_dev), -1)
        self.dev_alt[self.dev_alt == self.dev_person] = -1
        self.dev_upgrade_day = rng.integers(2, days + 20, n_dev)  # app upgrade 3.2.0 -> 3.2.1
        self.dev_old = rng.random(n_dev) < 0.07  # still on 3.1.4 / SDK 1.3.2
        # state
        registered = existing & (rng.random(n) < 0.55)
        self.reg_ms = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        n_reg = int(registered.sum())
        self.reg_ms[registered] = self.day_start[0] - rng.integers(1 * MS_DAY, 180 * MS_DAY, n_reg)
        self.reg_dev = np.full(n, -1, dtype=np.int64)
        dev_ex = existing[self.dev_person]
        self.dev_launched = dev_ex.copy()
        self.dev_existing = dev_ex.copy()
        self.dev_logged = dev_ex & registered[self.dev_person] & (rng.random(n_dev) < 0.8)
        self.dev_first_ms = np.full(n_dev, -1, dtype=np.int64)
        self.dev_first_user = np.full(n_dev, -1, dtype=np.int64)
        self.n_dev = n_dev
        self.n_persons = n

    # -- sessions ------------------------------------------------------------------------------

    def _normal_sessions(self, d: int) -> dict[str, np.ndarray]:
        rng, n = self.rng, self.n_persons
        w = self.day_w[d]
        age = d - self.arrival
        decay = np.where(self.existing, 1.0, np.maximum(0.35, np.exp(-np.maximum(age, 0) / 12)))
        p = np.where(
            age == 0, 1.0, np.where(age > 0, np.minimum(0.95, self.p_return * decay * w), 0)
        )
        p = np.where(self.existing, np.minimum(0.95, self.p_return * w), p)
        persons = np.nonzero(rng.random(n) < p)[0]
        lam = np.where(self.ptype[persons] == 2, 0.55, 0.18) * min(w, 1.8)
        person = np.repeat(persons, 1 + rng.poisson(lam))
        ns = len(person)
        dev = np.where((self.dev2[person] >= 0) & (rng.random(ns) < 0.4), self.dev2[person], person)
        hour = np.searchsorted(np.cumsum(HOUR_W), rng.random(ns) * (1 - 1e-12))
        start = self.day_start[d] + hour * MS_HOUR + rng.integers(0, MS_HOUR, ns)
        order = np.lexsort((start, dev))
        person, dev, start = person[order], dev[order], start[order]
        first_in_dev = np.r_[True, dev[1:] != dev[:-1]]
        is_first = first_in_dev & ~self.dev_launched[dev]
        has_launch = is_first | (rng.random(ns) < 0.88)
        scene = np.where(
            has_launch,
            SCENES[np.searchsorted(np.cumsum(SCENE_W), rng.random(ns) * (1 - 1e-12))],
            RESUME_SCENES[rng.integers(0, len(RESUME_SCENES), ns)],
        )
        alt = self.dev_alt[dev]
        use_alt = (alt >= 0) & (rng.random(ns) < 0.3)
        return {
            "person": person,
            "dev": dev,
            "start": start,
            "kind": np.zeros(ns, dtype=np.int64),
            "has_launch": has_launch,
            "is_first": is_first,
            "scene": scene,
            "user": np.where(use_alt, alt, person),
            "use_alt": use_alt,
            "order": np.full(ns, -1, dtype=np.int64),
        }

    def _paylater_sessions(self, d: int, prev: dict) -> dict[str, np.ndarray]:
        """Sessions that pay an order created earlier (queued), due before the end of day d."""
        rng, q = self.rng, self.queue
        due_mask = q["due"] < self.day_start[d + 1]
        idx = np.nonzero(due_mask)[0]
        ns = len(idx)
        start = q["due"][idx].copy()
        dev = q["dev"][idx]
        # avoid overlapping a normal session of the same device
        if ns and len(prev["dev"]):
            key_prev = prev["dev"] * (1 << 42) + prev["start"]
            key = dev * (1 << 42) + start
            pos = np.searchsorted(key_prev, key, side="right") - 1
            ok = pos >= 0
            pos_c = np.maximum(pos, 0)
            same = ok & (prev["dev"][pos_c] == dev)
            overlap = same & (prev["end"][pos_c] + 2 * MS_MIN > start)
            start = np.where(
                overlap, prev["end"][pos_c] + 2 * MS_MIN + rng.integers(0, MS_MIN, ns), start
            )
        order = np.lexsort((start, dev))
        idx, start, dev = idx[order], start[order], dev[order]
        sess = {
            "person": q["person"][idx],
            "dev": dev,
            "start": start,
            "kind": np.ones(ns, dtype=np.int64),
            "has_launch": np.ones(ns, dtype=bool),
            "is_first": np.zeros(ns, dtype=bool),
            "scene": np.where(rng.random(ns) < 0.5, 1014, 1089).astype(np.int64),
            "user": q["user"][idx],
            "use_alt": np.ones(ns, dtype=bool),  # logged in from the start
            "order": q["gidx"][idx],
            "payable": q["payable"][idx],
            "order_id": [self.queue_ids[i] for i in idx.tolist()],
        }
        keep = ~due_mask
        self.queue = {k: v[keep] for k, v in q.items()}
        self.queue_ids = [s for s, k in zip(self.queue_ids, keep.tolist(), strict=True) if k]
        return sess

    # -- one pass: sessions -> events, orders, payments ----------------------------------------

    def _purchase_probabilities(self, promo: bool) -> tuple[float, float, float, float]:
        """P(add to cart | product detail seen), P(checkout | cart), P(buy now | no cart) and a
        factor on P(interested: views product details).

        `purchase_multiplier` m scales the share of sessions that check out by m: the cart
        probability grows first, then the checkout probability, each capped at certainty; what
        is left of m raises the share of interested sessions (itself capped at certainty), so
        checkouts grow about m-fold up to about 30x. Buy now scales by m too."""
        p_cart, p_ck, p_buynow = (0.2, 0.55, 0.015) if promo else (0.13, 0.46, 0.015)
        m = self.cfg.purchase_multiplier
        if m == 1.0:
            return p_cart, p_ck, p_buynow, 1.0
        checkout = min(1.0, p_cart * p_ck * m)
        scaled_cart = min(1.0, p_cart * m)
        interest = m * p_cart * p_ck / checkout  # what certainty left over: more interest
        return scaled_cart, checkout / scaled_cart, min(1.0, p_buynow * m), interest

    def _run_pass(self, d: int, sess: dict) -> dict | None:
        rng = self.rng
        ns = len(sess["dev"])
        if ns == 0:
            return None
        kind = sess["kind"]
        normal = kind == 0
        promo = self.cfg.promotion_day == d
        scene = sess["scene"]
        share = np.isin(scene, SHARE_SCENES)

        # --- page visits per session -------------------------------------------------------
        r = rng.random((ns, 12))
        has_home = normal & np.where(share, r[:, 0] < 0.3, r[:, 0] < 0.88)
        n_browse = np.where(normal, rng.poisson(1.1 if not promo else 1.5, ns), 0)
        p_cart, p_ck, p_buynow, interest = self._purchase_probabilities(promo)
        p_interested = np.where(share, 0.92, 0.56)
        if interest != 1.0:
            p_interested = np.minimum(1.0, p_interested * interest)
        interested = normal & (r[:, 1] < p_interested)
        n_detail = np.where(interested, np.minimum(rng.geometric(0.42, ns), 8), 0)
        cart = (n_detail > 0) & (r[:, 2] < p_cart)
        n_add = np.minimum(1 + (r[:, 3] < 0.3), n_detail) * cart
        buynow = (n_detail > 0) & ~cart & (r[:, 4] < p_buynow)
        cart_page = cart | (normal & (r[:, 5] < 0.04))
        ck = cart & (r[:, 6] < p_ck)
        checkout_page = ck | buynow
        submit = checkout_page & (r[:, 7] < 0.9)
        pay_now = submit & (r[:, 8] < 0.92)
        paypage = ~normal
        payresult = pay_now | paypage
        tail = normal & (r[:, 9] < 0.12)
        vcounts = np.zeros((ns, N_VISIT_KINDS), dtype=np.int64)
        vcounts[:, V_START] = 1
        vcounts[:, V_HOME] = has_home
        vcounts[:, V_BROWSE] = n_browse
        vcounts[:, V_DETAIL] = n_detail
        vcounts[:, V_CART] = cart_page
        vcounts[:, V_CHECKOUT] = checkout_page
        vcounts[:, V_PAYPAGE] = paypage
        vcounts[:, V_PAYRESULT] = payresult
        vcounts[:, V_TAIL] = tail
        vcounts[:, V_END] = 1
        n_visits = vcounts.sum(axis=1)
        flat = vcounts.ravel()
        v_kind = np.repeat(np.tile(np.arange(N_VISIT_KINDS), ns), flat)
        _, v_krank = _expand(flat)  # rank within (session, kind)
        v_sess, v_pos = _expand(n_visits)
        nv = len(v_kind)
        first_visit = np.cumsum(n_visits) - n_visits

        # page type per visit
        browse_pt = np.array(
            [
                PT["category"],
                PT["search"],
                PT["activity"],
                PT["profile"],
                PT["order_list"],
                PT["other"],
            ]
        )
        bw = np.array([0.33, 0.3, 0.35 if promo else 0.15, 0.1, 0.05, 0.05])
        v_pt = np.full(nv, -1, dtype=np.int64)
        kind_pt = np.array(
            [
                -1,
                PT["home"],
                -1,
                PT["product_detail"],
                PT["cart"],
                PT["checkout"],
                PT["order_list"],
                PT["pay_result"],
                -1,
                -1,
            ]
        )
        v_pt[:] = kind_pt[v_kind]
        m = v_kind == V_BROWSE
        v_pt[m] = browse_pt[
            np.searchsorted(np.cumsum(bw / bw.sum()), rng.random(m.sum()) * 0.999999)
        ]
        m = v_kind == V_TAIL
        v_pt[m] = np.where(rng.random(m.sum()) < 0.5, PT["order_list"], PT["profile"])
        is_page = v_pt >= 0
        v_ref = np.r_[-1, v_pt[:-1]]
        v_ref[first_visit] = -1
        # products for detail pages
        v_sku = np.full(nv, -1, dtype=np.int64)
        md = v_kind == V_DETAIL
        v_sku[md] = np.searchsorted(self.sku_cdf, rng.random(md.sum()) * 0.999999)
        v_prod = np.where(v_sku >= 0, self.sku_product[np.maximum(v_sku, 0)], -1)

        # --- exposures and clicks on the home page -----------------------------------------
        home_v = np.nonzero(v_kind == V_HOME)[0]
        nh = len(home_v)
        mcounts = np.stack(
            [rng.integers(1, 4, nh), rng.integers(0, 3, nh), rng.integers(4, 9, nh)], axis=1
        )  # banner, activity_entry, recommend
        mflat = mcounts.ravel()
        x_mod = np.repeat(np.tile(np.array([0, 2, 1]), nh), mflat)  # module codes (MODULES)
        x_owner, x_rank = _expand(mflat)
        x_visit = home_v[x_owner // 3]
        x_pos = x_rank + 1
        nx = len(x_visit)
        x_item = np.empty(nx, dtype=np.int64)
        mb = x_mod == 0
        x_item[mb] = (x_pos[mb] - 1 + d) % N_BANNERS
        ma = x_mod == 2
        x_item[ma] = N_BANNERS + (x_pos[ma] - 1 + d // 3) % N_ACTIVITIES
        mr = x_mod == 1
        x_item[mr] = (
            N_BANNERS
            + N_ACTIVITIES
            + self.sku_product[np.searchsorted(self.sku_cdf, rng.random(mr.sum()) * 0.999999)]
        )
        base_ctr = np.array([0.07, 0.09, 0.06])[x_mod]
        clicked = rng.random(nx) < base_ctr / x_pos**1.3
        c_idx = np.nonzero(clicked)[0]
        # occasionally an exposure is sent twice; rarely a click has no exposure
        reps = np.where(rng.random(nx) < 0.02, 2, 1)
        reps[c_idx[rng.random(len(c_idx)) < 0.02]] = 0
        xe = np.repeat(np.arange(nx), reps)
        expo_count = np.bincount(x_visit[xe], minlength=nv)
        click_count = np.bincount(x_visit[c_idx], minlength=nv)

        # --- slot counts per visit ---------------------------------------------------------
        C = np.zeros((nv, N_SLOTS), dtype=np.int32)
        vs = v_sess
        start_v = v_kind == V_START
        C[start_v, S["launch"]] = sess["has_launch"]
        C[start_v, S["show"]] = 1
        C[is_page, S["pv"]] = 1
        C[:, S["expo"]] = expo_count
        C[:, S["click"]] = click_count
        C[md, S["carousel"]] = np.minimum(rng.poisson(0.8, md.sum()), 5)
        C[md, S["cs"]] = rng.random(md.sum()) < 0.03
        det_rank = v_krank
        atc_v = md & (det_rank >= (n_detail - n_add)[vs]) & cart[vs]
        C[atc_v, S["atc"]] = 1
        bn_v = md & (det_rank == n_detail[vs] - 1) & buynow[vs]
        C[bn_v, S["buynow"]] = 1
        cart_v = v_kind == V_CART
        qty_v = cart_v & cart[vs] & (rng.random(nv) < 0.25)
        C[qty_v, S["qty"]] = 1
        C[cart_v, S["del"]] = rng.random(cart_v.sum()) < 0.1
        C[cart_v, S["checkout"]] = ck[vs[cart_v]]
        ck_v = v_kind == V_CHECKOUT
        C[ck_v, S["submit"]] = submit[vs[ck_v]]
        pay_v = (ck_v & pay_now[vs]) | (v_kind == V_PAYPAGE)
        for s in ("pr1", "ps1", "pr2", "ps2", "pr3", "ps3"):
            C[pay_v, S[s]] = 1
        last_page = np.r_[v_sess[1:] != v_sess[:-1], True]
        last_page = np.r_[last_page[1:], True] & is_page  # the visit before END
        p_leave = np.where(last_page, 0.75, 0.95)
        C[is_page, S["leave"]] = rng.random(is_page.sum()) < p_leave[is_page]
        C[v_kind == V_END, S["hide"]] = rng.random(ns) < 0.97

        # --- expand to events --------------------------------------------------------------
        nz = np.flatnonzero(C)
        cnz = C.ravel()[nz]
        e_slot = np.repeat((nz % N_SLOTS).astype(np.int16), cnz)
        e_visit = np.repeat(nz // N_SLOTS, cnz)
        _, e_rank = _expand(cnz)
        del C, nz, cnz
        e_sess = v_sess[e_visit]
        ne = len(e_slot)
        gap = _lognormal_ms(rng, GAP_MEDIAN[e_slot], GAP_SIGMA[e_slot], GAP_FLOOR[e_slot])
        is_leave = e_slot == S["leave"]
        gap[is_leave & (v_kind[e_visit] == V_DETAIL)] *= 2
        np.minimum(gap, 20 * MS_MIN, out=gap)
        n_ev_sess = np.bincount(e_sess, minlength=ns)
        first_ev = np.cumsum(n_ev_sess) - n_ev_sess
        gap[first_ev[n_ev_sess > 0]] = 0
        cs = np.cumsum(gap)
        off = cs - (cs[first_ev] - gap[first_ev])[e_sess]
        dur = off[first_ev + n_ev_sess - 1]

        # sessions of one device must not overlap (a resumed session comes > 30 min later)
        start = sess["start"].copy()
        if normal.all():
            same = np.r_[False, sess["dev"][1:] == sess["dev"][:-1]]
            need = np.where(sess["has_launch"], 2 * MS_MIN, 31 * MS_MIN) + rng.integers(
                0, 20 * MS_MIN, ns
            )
            for _ in range(200):
                prev_end = np.r_[0, start[:-1] + dur[:-1]]
                bad = same & (start < prev_end + need)
                if not bad.any():
                    break
                start = np.where(bad, prev_end + need, start)
        t = start[e_sess] + off
        sess["end"] = start + dur
        sess["start"] = start

        # --- login: events from the login visit on carry the user id ----------------------
        logged_before = self.dev_logged[sess["dev"]]
        want = submit | (
            normal & self.volunteer_login[sess["user"]] & (rng.random(ns) < 0.3) & (n_visits > 3)
        )
        # an earlier session today on the same device that logged in
        dev = sess["dev"]
        cum = np.cumsum(want)
        grp_first = np.r_[True, dev[1:] != dev[:-1]]
        base = np.maximum.accumulate(np.where(grp_first, cum - want, 0))
        earlier = (cum - want - base) > 0
        logged_start = logged_before | earlier | sess["use_alt"]
        ck_pos = 1 + has_home + n_browse + n_detail + cart_page
        n_pages = n_visits - 2
        hi = np.where(submit, ck_pos, np.maximum(n_pages, 1))
        login_pos = 1 + (rng.random(ns) * hi).astype(np.int64)
        login_pos = np.where(logged_start, 0, np.where(want, login_pos, 1 << 30))
        e_user = np.where(v_pos[e_visit] >= login_pos[e_sess], sess["user"][e_sess], -1)
        self.dev_logged[dev] |= logged_start | want
        # registration: the first time a user id is seen
        um = e_user >= 0
        if um.any():
            upos = np.nonzero(um)[0]
            _, fi = np.unique(e_sess[upos], return_index=True)
            fi = upos[fi]
            order = np.argsort(t[fi], kind="stable")
            fi = fi[order]
            users_, ui = np.unique(e_user[fi], return_index=True)
            cand = fi[ui]
            new = t[cand] < self.reg_ms[users_]
            u_new, c_new = users_[new], cand[new]
            self.reg_ms[u_new] = t[c_new] - rng.integers(1000, 30_000, len(c_new))
            self.reg_dev[u_new] = dev[e_sess[c_new]]
            # the first user of a device (for consent rows)
            fd = dev[e_sess[fi]]
            dd, di = np.unique(fd, return_index=True)
            unset = self.dev_first_user[dd] < 0
            self.dev_first_user[dd[unset]] = e_user[fi[di[unset]]]
        newdev = sess["is_first"]
        self.dev_first_ms[dev[newdev]] = start[newdev]
        self.dev_launched[dev] = True

        # --- carts, orders ------------------------------------------------------------------
        a_rows = np.nonzero(e_slot == S["atc"])[0]
        a_v = e_visit[a_rows]
        a_sess = v_sess[a_v]
        a_sku = v_sku[a_v]
        qsel = rng.random(len(a_rows))
        a_q = 1 + (qsel > 0.8) + (qsel > 0.95)
        price_factor = 0.85 if promo else 1.0
        a_price = (self.sku_price[a_sku] * price_factor).astype(np.int64) // 10 * 10
        # the quantity change applies to the session's first cart item
        q_rows = np.nonzero(e_slot == S["qty"])[0]
        q_sess = e_sess[q_rows]
        first_a = np.full(ns, -1, dtype=np.int64)
        if len(a_rows):
            us, ui = np.unique(a_sess, return_index=True)
            first_a[us] = ui
        q_a = first_a[q_sess]
        q_before = a_q[q_a]
        q_after = np.where(
            (q_before > 1) & (rng.random(len(q_rows)) < 0.3), q_before - 1, q_before + 1
        )
        a_q_final = a_q.copy()
        a_q_final[q_a] = q_after
        b_rows = np.nonzero(e_slot == S["buynow"])[0]
        b_sess = e_sess[b_rows]
        b_sku = v_sku[e_visit[b_rows]]
        b_q = 1 + (rng.random(len(b_rows)) > 0.85)
        b_price = (self.sku_price[b_sku] * price_factor).astype(np.int64) // 10 * 10
        # cart lines of sessions that check out (cart) or buy now
        sel = ck[a_sess]
        l_sess = np.r_[a_sess[sel], b_sess]
        l_sku = np.r_[a_sku[sel], b_sku]
        l_q = np.r_[a_q_final[sel], b_q]
        l_p = np.r_[a_price[sel], b_price]
        key = l_sess * self.n_sku + l_sku
        ukey, linv = np.unique(key, return_inverse=True)
        li_sess = ukey // self.n_sku
        li_sku = ukey % self.n_sku
        li_q = np.bincount(linv, weights=l_q, minlength=len(ukey)).astype(np.int64)
        li_p = np.zeros(len(ukey), dtype=np.int64)
        li_p[linv[::-1]] = l_p[::-1]  # first price of the sku in the session
        cart_amount = np.bincount(li_sess, weights=li_q * li_p, minlength=ns).astype(np.int64)
        cart_units = np.bincount(li_sess, weights=li_q, minlength=ns).astype(np.int64)

        o_sess = np.nonzero(submit)[0]
        no = len(o_sess)
        o_gidx = self.order_seq + np.arange(no)
        self.order_seq += no
        ymd = (self.cfg.start_date + timedelta(days=d)).strftime("%Y%m%d")
        o_ids = [f"O{ymd}{g:07d}" for g in o_gidx.tolist()]
        sess_order = np.full(ns, -1, dtype=np.int64)
        sess_order[o_sess] = np.arange(no)
        o_items = cart_amount[o_sess]
        o_units = cart_units[o_sess]
        coupon_p = 0.45 if promo else 0.22
        has_coupon = (rng.random(no) < coupon_p) & (o_items >= 3000)
        coupon_val = np.array([500, 1000, 2000, 3000, 5000])[rng.integers(0, 5, no)]
        o_disc = np.where(has_coupon, np.minimum(coupon_val, o_items // 5), 0)
        coupon_code = rng.integers(1, 40, no)
        o_ship = np.where(o_items >= 9900, 0, np.where(rng.random(no) < 0.8, 800, 1000))
        o_pay = o_items - o_disc + o_ship
        s_rows = np.nonzero(e_slot == S["submit"])[0]
        o_created = t[s_rows] + rng.integers(20, 90, no)  # s_rows are in session order
        # order items with the coupon spread over the lines
        li_order = sess_order[li_sess]
        keep = li_order >= 0
        li_order, li_sku, li_q, li_p = li_order[keep], li_sku[keep], li_q[keep], li_p[keep]
        li_amt = li_q * li_p
        li_disc = (o_disc[li_order] * li_amt) // np.maximum(o_items[li_order], 1)
        if len(li_order):
            rem = o_disc - np.bincount(li_order, weights=li_disc, minlength=no).astype(np.int64)
            last = np.r_[li_order[1:] != li_order[:-1], True]
            li_disc[last] += rem[li_order[last]]
        self.orders.append(
            {
                "gidx": o_gidx,
                "order_id": o_ids,
                "user": sess["user"][o_sess],
                "created": o_created,
                "item_amount": o_items,
                "discount": o_disc,
                "shipping": o_ship,
                "payable": o_pay,
                "coupon": np.where(has_coupon, coupon_code, -1),
            }
        )
        self.items.append(
            {"order": o_gidx[li_order], "sku": li_sku, "q": li_q, "p": li_p, "disc": li_disc}
        )

        # --- payment attempts ------------------------------------------------------------
        pv_rows = np.nonzero(pay_v[e_visit] & (e_slot == S["pr1"]))[0]
        p_sess = e_sess[pv_rows]
        npay = len(p_sess)
        if normal.all():
            p_order_local = sess_order[p_sess]
            p_gidx = o_gidx[p_order_local]
            p_amount = o_pay[p_order_local]
            p_oid = [o_ids[i] for i in p_order_local.tolist()]
        else:
            p_gidx = sess["order"][p_sess]
            p_amount = sess["payable"][p_sess]
            p_oid = [sess["order_id"][i] for i in p_sess.tolist()]
        p_method = np.searchsorted(np.cumsum(PAY_METHOD_W), rng.random(npay) * 0.999999)
        active = np.ones(npay, dtype=bool)
        paid = np.zeros(npay, dtype=bool)
        drop = np.zeros(ne, dtype=bool)
        ps_event = np.zeros(ne, dtype=np.int16)  # per event: 1 success, 2 fail (pay results)
        err_event = np.zeros(ne, dtype=np.int64)
        pay_rows = []
        for k in range(3):
            req = pv_rows + 2 * k
            res = req + 1
            p_created = t[req] + rng.integers(20, 90, npay)
            p_finished = t[res] - rng.integers(100, 600, npay)
            rate = np.full(npay, PAY_SUCCESS_RATE)
            in_inc = np.zeros(npay, dtype=bool)
            for a, b, sr in self.incidents:
                w = (p_created >= a) & (p_created < b)
                rate[w] = sr
                in_inc |= w
            ok = rng.random(npay) < rate
            err = np.where(
                in_inc,
                np.searchsorted(np.cumsum(INCIDENT_ERROR_W), rng.random(npay) * 0.999999),
                np.searchsorted(np.cumsum(NORMAL_ERROR_W), rng.random(npay) * 0.999999),
            )
            status = np.where(ok, 0, np.where(err == 0, 2, 1))
            drop[req[~active]] = True
            drop[res[~active]] = True
            ps_event[res] = np.where(ok, 1, 2)
            err_event[res] = err
            a_idx = np.nonzero(active)[0]
            pay_rows.append(
                {
                    "order": p_gidx[a_idx],
                    "order_pos": a_idx,
                    "attempt": np.full(len(a_idx), k),
                    "created": p_created[a_idx],
                    "finished": p_finished[a_idx],
                    "status": status[a_idx],
                    "amount": p_amount[a_idx],
                    "method": p_method[a_idx],
                    "error": np.where(ok, -1, err)[a_idx],
                }
            )
            paid |= active & ok
            retry = rng.random(npay) < np.where(in_inc, 0.7, 0.55)
            active = active & ~ok & retry
        if npay:
            pr = {key: np.concatenate([p[key] for p in pay_rows]) for key in pay_rows[0]}
            order_ = np.lexsort((pr["attempt"], pr["order_pos"]))
            pr = {key: v[order_] for key, v in pr.items()}
            del pr["order_pos"], pr["attempt"]
            self.payments.append(pr)
        # deferred payments: orders not paid now may be paid in a later session
        if normal.all() and no:
            paid_order = np.zeros(no, dtype=bool)
            paid_order[sess_order[p_sess[paid]]] = True
            tried = np.zeros(no, dtype=bool)
            tried[sess_order[p_sess]] = True
            defer = ~paid_order & (rng.random(no) < np.where(tried, 0.3, 0.4))
            di = np.nonzero(defer)[0]
            due = o_created[di] + rng.integers(MS_HOUR, 20 * MS_HOUR, len(di))
            so = o_sess[di]
            add = {
                "gidx": o_gidx[di],
                "person": sess["person"][so],
                "dev": sess["dev"][so],
                "user": sess["user"][so],
                "due": due,
                "payable": o_pay[di],
                "created": o_created[di],
            }
            self.queue = {k: np.concatenate([self.queue[k], add[k]]) for k in self.queue}
            self.queue_ids += [o_ids[i] for i in di.tolist()]

        # --- event arrays (after dropping unused payment attempts) ------------------------
        e_type = SLOT_EVENT[e_slot].astype(np.int16)
        ck_mod = e_slot == S["click"]
        c_mod = x_mod[c_idx]
        e_type[ck_mod] = np.array(
            [E["banner_click"], E["recommend_click"], E["activity_entry_click"]]
        )[c_mod]
        e_type[ps_event == 2] = E["pay_fail"]
        # page-level values
        pv_time = np.zeros(nv, dtype=np.int64)
        pvr = np.nonzero(e_slot == S["pv"])[0]
        pv_time[e_visit[pvr]] = t[pvr]
        show_rows = np.nonzero(e_slot == S["show"])[0]
        show_time = np.zeros(ns, dtype=np.int64)
        show_time[e_sess[show_rows]] = t[show_rows]

        # --- properties (JSON text), built per event type ---------------------------------
        chunks: list[pa.Array] = []
        rows_of: list[np.ndarray] = []

        def put(rows: np.ndarray, text) -> None:
            if len(rows):
                rows_of.append(rows)
                chunks.append(text)

        pth_q = pa.array(PAGE_PATHS, pa.string())
        ptype_s = pa.array(PAGE_TYPES, pa.string())
        ref_frag = pa.array([f',"referrer_path":"{p}"' for p in PAGE_PATHS] + [""], pa.string())
        rows = np.nonzero(e_slot == S["launch"])[0]
        if len(rows):
            es = e_sess[rows]
            sc = scene[es]
            utm = np.zeros(len(rows), dtype=np.int64)
            ads = np.isin(sc, ADS_SCENES)
            utm[ads] = rng.integers(1, 4, ads.sum())
            oa = np.isin(sc, OA_SCENES) & (rng.random(len(rows)) < 0.6)
            utm[oa] = 4
            kol = (~ads & ~oa) & (rng.random(len(rows)) < 0.01)
            utm[kol] = 5
            utm_frag = pa.array(
                ["" if not a else f',"utm_source":"{a}","utm_campaign":"{b}"' for a, b in UTM],
                pa.string(),
            )
            sharer = np.where(
                np.isin(sc, SHARE_SCENES) & (rng.random(len(rows)) < 0.7),
                rng.integers(0, self.n_persons, len(rows)),
                self.n_persons,
            )
            put(
                rows,
                _join(
                    '{"scene":',
                    _istr(sc),
                    ',"is_first_launch":',
                    _take(pa.array(["false", "true"]), sess["is_first"][es]),
                    _take(utm_frag, utm),
                    _take(self.share_frag, sharer),
                    "}",
                ),
            )
        rows = show_rows
        put(rows, _join('{"scene":', _istr(scene[e_sess[rows]]), "}"))
        rows = np.nonzero(e_slot == S["hide"])[0]
        put(rows, _join('{"duration_ms":', _istr(t[rows] - show_time[e_sess[rows]]), "}"))
        rows = pvr
        vv = e_visit[rows]
        put(
            rows,
            _join(
                '{"page_path":"',
                _take(pth_q, v_pt[vv]),
                '","page_type":"',
                _take(ptype_s, v_pt[vv]),
                '"',
                _take(self.product_frag, np.where(v_prod[vv] >= 0, v_prod[vv], self.n_prod)),
                _take(ref_frag, np.where(v_ref[vv] >= 0, v_ref[vv], len(PAGE_PATHS))),
                "}",
            ),
        )
        rows = np.nonzero(is_leave)[0]
        vv = e_visit[rows]
        put(
            rows,
            _join(
                '{"page_path":"',
                _take(pth_q, v_pt[vv]),
                '","duration_ms":',
                _istr(t[rows] - pv_time[vv]),
                "}",
            ),
        )
        rows = np.nonzero(e_slot == S["expo"])[0]
        put(
            rows,
            _join(
                '{"module":"',
                _take(pa.array(MODULES), x_mod[xe]),
                '",',
                _take(self.item_frag, x_item[xe]),
                ',"position":',
                _istr(x_pos[xe]),
                "}",
            ),
        )
        rows = np.nonzero(ck_mod)[0]
        if len(rows):
            pre = _take(pa.array(['{"banner_id":', '{"product_id":', '{"activity_id":']), c_mod)
            mid = _take(pa.array(["", ',"module":"recommend"', ""]), c_mod)
            put(
                rows,
                _join(
                    pre,
                    _take(self.item_q, x_item[c_idx]),
                    mid,
                    ',"position":',
                    _istr(x_pos[c_idx]),
                    "}",
                ),
            )
        rows = np.nonzero(e_slot == S["carousel"])[0]
        put(
            rows,
            _join(
                '{"product_id":',
                _take(self.prod_q, v_prod[e_visit[rows]]),
                ',"image_index":',
                _istr(e_rank[rows] + 1),
                "}",
            ),
        )
        rows = np.nonzero(e_slot == S["cs"])[0]
        put(
            rows,
            _join(
                '{"page_type":"product_detail","product_id":',
                _take(self.prod_q, v_prod[e_visit[rows]]),
                "}",
            ),
        )
        put(
            a_rows,
            _join(
                '{"product_id":',
                _take(self.prod_q, self.sku_product[a_sku]),
                ',"sku_id":',
                _take(self.sku_q, a_sku),
                ',"quantity":',
                _istr(a_q),
                ',"unit_price_fen":',
                _istr(a_price),
                "}",
            ),
        )
        put(
            b_rows,
            _join(
                '{"product_id":',
                _take(self.prod_q, self.sku_product[b_sku]),
                ',"sku_id":',
                _take(self.sku_q, b_sku),
                ',"quantity":',
                _istr(b_q),
                "}",
            ),
        )
        put(
            q_rows,
            _join(
                '{"sku_id":',
                _take(self.sku_q, a_sku[q_a]),
                ',"quantity_before":',
                _istr(q_before),
                ',"quantity_after":',
                _istr(q_after),
                "}",
            ),
        )
        rows = np.nonzero(e_slot == S["del"])[0]
        put(
            rows,
            _join(
                '{"sku_id":',
                _take(self.sku_q, rng.integers(0, self.n_sku, len(rows))),
                ',"quantity":',
                _istr(1 + (rng.random(len(rows)) < 0.2)),
                "}",
            ),
        )
        rows = np.nonzero(e_slot == S["checkout"])[0]
        es = e_sess[rows]
        put(
            rows,
            _join(
                '{"item_count":',
                _istr(cart_units[es]),
                ',"amount_fen":',
                _istr(cart_amount[es]),
                "}",
            ),
        )
        if no:
            oid = pa.array(o_ids, pa.string())
            put(
                s_rows,
                _join(
                    '{"order_id":"',
                    oid,
                    '","amount_fen":',
                    _istr(o_pay),
                    ',"item_count":',
                    _istr(o_units),
                    "}",
                ),
            )
        if npay:
            poid = pa.array(p_oid, pa.string())
            for k in range(3):
                req = pv_rows + 2 * k
                res = req + 1
                put(
                    req,
                    _join(
                        '{"order_id":"',
                        poid,
                        '","pay_amount_fen":',
                        _istr(p_amount),
                        ',"pay_method":"',
                        _take(pa.array(PAY_METHODS), p_method),
                        '"}',
                    ),
                )
                okm = ps_event[res] == 1
                put(
                    res[okm],
                    _join(
                        '{"order_id":"',
                        poid.filter(pa.array(okm)),
                        '","pay_amount_fen":',
                        _istr(p_amount[okm]),
                        "}",
                    ),
                )
                put(
                    res[~okm],
                    _join(
                        '{"order_id":"',
                        poid.filter(pa.array(~okm)),
                        '","error_code":"',
                        _take(pa.array(ERROR_CODES), err_event[res[~okm]]),
                        '"}',
                    ),
                )
        all_rows = np.concatenate(rows_of)
        pos = np.empty(ne, dtype=np.int64)
        pos[all_rows] = np.arange(len(all_rows))
        props = pa.chunked_array(chunks, pa.string()).combine_chunks()

        keep_ev = ~drop
        kidx = np.nonzero(keep_ev)[0]
        version = np.where(
            self.dev_old[dev[e_sess[kidx]]],
            0,
            np.where(d >= self.dev_upgrade_day[dev[e_sess[kidx]]], 2, 1),
        )

        # --- daily stats (true, before delivery) ------------------------------------------
        det_sess = np.zeros(ns, dtype=bool)
        det_sess[e_sess[pvr[v_pt[e_visit[pvr]] == PT["product_detail"]]]] = True
        stats = {
            "sessions": int(ns),
            "sessions_with_home": int(has_home.sum()),
            "sessions_with_detail": int(det_sess.sum()),
            "sessions_with_add_to_cart": int(cart.sum()),
            "sessions_with_checkout_click": int(ck.sum()),
            "orders_submitted": int(no),
            "payment_attempts": int(sum(len(p["order"]) for p in pay_rows)) if npay else 0,
            "sessions_with_pay_success": int(len(np.unique(p_sess[paid])) if npay else 0),
        }
        return {
            "t": t[kidx],
            "dev": dev[e_sess[kidx]],
            "user": e_user[kidx],
            "type": e_type[kidx],
            "version": version,
            "props_pos": pos[kidx],
            "props": props,
            "stats": stats,
            "sess": sess,
        }

    # -- delivery: imperfections, partitions, files --------------------------------------------

    def _deliver(self, d: int, parts: list[dict]) -> None:
        rng, cfg, cnt = self.rng, self.cfg, self.counts
        parts = [p for p in parts if p is not None]
        if not parts:
            self._flush_day(d, [])
            return
        # combine passes; properties are referenced by position
        offs = np.cumsum([0] + [len(p["props"]) for p in parts[:-1]])
        t = np.concatenate([p["t"] for p in parts])
        dev = np.concatenate([p["dev"] for p in parts])
        user = np.concatenate([p["user"] for p in parts])
        etype = np.concatenate([p["type"] for p in parts])
        version = np.concatenate([p["version"] for p in parts])
        ppos = np.concatenate([p["props_pos"] + o for p, o in zip(parts, offs, strict=True)])
        props = pa.chunked_array([p["props"] for p in parts], pa.string())
        n = len(t)
        cnt["tracked"] += n
        eids = _uuids(rng, n)
        # lost
        delivered = rng.random(n) >= cfg.lost_rate
        cnt["lost"] += int(n - delivered.sum())
        idx = np.nonzero(delivered)[0]
        # unknown events: extra rows on the envelope of a real event
        n_unk = int(rng.binomial(len(idx), cfg.unknown_event_rate)) if len(idx) else 0
        src = rng.choice(idx, n_unk) if n_unk else np.zeros(0, dtype=np.int64)
        unk_props = pa.array(
            [
                '{"source":"sdk_auto"}',
                '{"coupon_id":"CPN12","source":"home"}',
                '{"video_id":"V2031","position":1}',
                '{"room_id":"L88"}',
                '{"debug":true}',
            ],
            pa.string(),
        )
        unk_kind = rng.integers(0, len(UNKNOWN_EVENTS), n_unk)
        # row arrays of the delivered unique events: base event index or unknown
        r_base = np.r_[idx, src]
        r_t = np.r_[t[idx], t[src] + rng.integers(50, 3000, n_unk)]
        r_type = np.r_[etype[idx], (N_KNOWN + unk_kind).astype(np.int16)]
        r_unk = np.r_[np.full(len(idx), -1), unk_kind]
        nr = len(r_base)
        r_eid_pos = np.r_[idx, n + np.arange(n_unk)]
        if n_unk:
            eids = pa.concat_arrays([eids, _uuids(rng, n_unk)])
        # received_at: normal 0.1-5 s; late: minutes to days
        delay = rng.integers(100, 5000, nr)
        late = rng.random(nr) < cfg.late_rate
        nl = int(late.sum())
        lk = rng.random(nl)
        delay[late] = np.where(
            lk < 0.55,
            rng.integers(2 * MS_MIN, 60 * MS_MIN, nl),
            np.where(
                lk < 0.88,
                rng.integers(MS_HOUR, 24 * MS_HOUR, nl),
                rng.integers(MS_DAY, 4 * MS_DAY, nl),
            ),
        )
        r_recv = r_t + delay
        r_time = r_t.copy()
        skew = rng.random(nr) < cfg.skew_rate
        nsk = int(skew.sum())
        fwd = rng.random(nsk) < 0.5
        r_time[skew] = np.where(
            fwd,
            r_recv[skew] + rng.integers(11 * MS_MIN, 2 * MS_DAY, nsk),
            r_recv[skew] - rng.integers(7 * MS_DAY + MS_HOUR, 60 * MS_DAY, nsk),
        )
        # property violations (on known events with required properties)
        has_req = np.array([len(REQUIRED_PROPERTIES[nm]) > 0 for nm in EVENT_NAMES] + [False] * 5)
        viol = has_req[r_type] & (rng.random(nr) < cfg.missing_property_rate)
        # duplicates: the same event delivered again later
        dup = rng.random(nr) < cfg.duplicate_rate
        di = np.nonzero(dup)[0]
        dd = rng.random(len(di))
        dup_delay = np.where(
            dd < 0.7,
            rng.integers(1000, 10 * MS_MIN, len(di)),
            rng.integers(10 * MS_MIN, 36 * MS_HOUR, len(di)),
        )
        row = np.r_[np.arange(nr), di]
        recv = np.r_[r_recv, r_recv[di] + dup_delay]
        is_dup = np.r_[np.zeros(nr, dtype=bool), np.ones(len(di), dtype=bool)]
        # received after the export: not in the files
        in_window = recv < self.export_end
        cnt["received_after_window"] += int((~in_window).sum())
        sel = np.nonzero(in_window)[0]
        order = sel[np.argsort(recv[sel], kind="stable")]
        row, recv, is_dup = row[order], recv[order], is_dup[order]
        m = len(row)
        # malformed lines, chosen among events that are not duplicated
        dup_event = np.zeros(nr, dtype=bool)
        dup_event[di] = True
        malformed = (rng.random(m) < cfg.malformed_rate) & ~dup_event[row]
        # counts (lines written, not malformed)
        ok_first = ~is_dup & ~malformed
        cnt["delivered"] += int(ok_first.sum())
        cnt["duplicated"] += int(is_dup.sum())
        cnt["late"] += int((late[row] & ok_first).sum())
        cnt["skewed"] += int((skew[row] & ok_first).sum())
        cnt["unknown_event"] += int(((r_unk[row] >= 0) & ok_first).sum())

        # violations: rewrite the properties of those events (few rows, done in Python)
        base_props_pos = np.where(r_unk >= 0, -1, ppos[np.minimum(r_base, n - 1)])
        vrows = np.nonzero(viol)[0]
        vtext = props.take(pa.array(base_props_pos[vrows])).to_pylist() if len(vrows) else []
        new_text, vkind = [], np.zeros(nr, dtype=np.int8)
        for j, text in zip(vrows.tolist(), vtext, strict=True):
            obj = json.loads(text)
            req = REQUIRED_PROPERTIES[ALL_EVENTS[r_type[j]]]
            k = req[int(rng.integers(len(req)))]
            if rng.random() < 0.5 or k not in obj:
                obj.pop(k, None)
                vkind[j] = 1
            else:
                v = obj[k]
                obj[k] = str(v).lower() if isinstance(v, bool | int) else 10023
                vkind[j] = 2
            new_text.append(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
        cnt["missing_property"] += int(((vkind[row] == 1) & ok_first).sum())
        cnt["wrong_type_property"] += int(((vkind[row] == 2) & ok_first).sum())

        # --- build the output rows in received order -------------------------------------
        b = r_base[row]
        u = r_unk[row]
        known = u < 0
        ev_name = _take(pa.array(ALL_EVENTS, pa.string()), r_type[row])
        eid = _take(eids, r_eid_pos[row])
        prop_idx = np.where(known, ppos[np.minimum(b, n - 1)], len(props) + np.maximum(u, 0))
        all_props = pa.chunked_array([*props.chunks, unk_props], pa.string())
        if len(vrows):
            # replace violating events' properties: append their new text and point there
            extra = pa.array(new_text, pa.string())
            vpos = np.full(nr, -1, dtype=np.int64)
            vpos[vrows] = len(props) + len(unk_props) + np.arange(len(vrows))
            prop_idx = np.where(vpos[row] >= 0, vpos[row], prop_idx)
            all_props = pa.chunked_array([*all_props.chunks, extra], pa.string())
        dv = dev[np.minimum(b, n - 1)]
        us = user[np.minimum(b, n - 1)]
        ver = version[np.minimum(b, n - 1)]
        tm = r_time[row]
        dt_idx = np.searchsorted(self.day_start, recv, side="right") - 1
        lib_v = np.where(ver == 0, 0, 1)

        if cfg.file_format == "ndjson":
            lib_frag = pa.array(
                [
                    '"lib":{"name":"miniprogram","version":"1.3.2"},',
                    '"lib":{"name":"miniprogram","version":"1.4.0"},',
                ]
            )
            app = pa.array(APP_VERSIONS)
            user_idx = np.where(us >= 0, us, self.n_persons)
            chunks = []
            for lo in range(0, m, LINE_BATCH):
                sl = slice(lo, lo + LINE_BATCH)
                chunks.append(
                    _join(
                        '{"event_id":"',
                        eid.slice(lo, LINE_BATCH),
                        '","event":"',
                        ev_name.slice(lo, LINE_BATCH),
                        '","time":',
                        _istr(tm[sl]),
                        ',"received_at":',
                        _istr(recv[sl]),
                        ',"anonymous_id":',
                        _take(self.anon_q, dv[sl]),
                        ",",
                        _take(self.user_frag, user_idx[sl]),
                        _take(lib_frag, lib_v[sl]),
                        '"app_version":"',
                        _take(app, ver[sl]),
                        '","properties":',
                        all_props.take(pa.array(prop_idx[sl])),
                        "}\n",
                    )
                )
            mrows = np.nonzero(malformed)[0]
            bad = []
            for r in mrows.tolist():
                text = chunks[r // LINE_BATCH][r % LINE_BATCH].as_py()
                k = int(rng.integers(4))
                body = text[:-1]
                if k == 0:
                    bad.append(body[: int(rng.integers(10, len(body) - 5))] + "\n")
                    kind = "truncated_json"
                elif k == 1:
                    bad.append(f"<html>502 Bad Gateway</html> {rng.integers(1 << 30):x}\n")
                    kind = "garbage_text"
                else:
                    obj = json.loads(body)
                    field_ = ["event_id", "event", "anonymous_id", "received_at"][
                        int(rng.integers(4))
                    ]
                    obj.pop(field_)
                    bad.append(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
                    kind = f"missing_{field_}"
                mk = cnt["malformed_by_kind"]
                mk[kind] = mk.get(kind, 0) + 1
            lines = _splice(chunks, mrows, bad)
            payload = lines
        else:
            mrows = np.nonzero(malformed)[0]
            which = rng.integers(0, 4, len(mrows))
            nulls = [np.zeros(m, dtype=bool) for _ in range(4)]
            for k in range(4):
                nulls[k][mrows[which == k]] = True
                name = ["event_id", "event", "anonymous_id", "received_at"][k]
                mk = cnt["malformed_by_kind"]
                if (which == k).any():
                    mk[f"null_{name}"] = mk.get(f"null_{name}", 0) + int((which == k).sum())
            user_col = _take(self.user_ids, np.maximum(us, 0))
            prop_col = all_props.take(pa.array(prop_idx)).combine_chunks()
            payload = pa.table(
                {
                    "event_id": pc.if_else(pa.array(nulls[0]), pa.scalar(None, pa.string()), eid),
                    "event": pc.if_else(pa.array(nulls[1]), pa.scalar(None, pa.string()), ev_name),
                    "time": pa.array(tm, pa.int64()),
                    "received_at": pa.array(recv, pa.int64(), mask=nulls[3]),
                    "anonymous_id": pc.if_else(
                        pa.array(nulls[2]), pa.scalar(None, pa.string()), _take(self.anon_ids, dv)
                    ),
                    "user_id": pc.if_else(pa.array(us < 0), pa.scalar(None, pa.string()), user_col),
                    "lib_name": pa.array(np.full(m, "miniprogram", dtype=object), pa.string()),
                    "lib_version": _take(pa.array(LIB_VERSIONS), lib_v),
                    "app_version": _take(pa.array(APP_VERSIONS), ver),
                    "properties": prop_col,
                }
            )
        cnt["malformed"] += int(malformed.sum())
        # split by dt partition (recv is sorted)
        bounds = np.searchsorted(dt_idx, np.arange(d, self.cfg.days + 1), side="left")
        if bounds[0] != 0:
            raise AssertionError("event received before its simulation day")
        today = []
        for j, day in enumerate(range(d, self.cfg.days)):
            lo, hi = int(bounds[j]), int(bounds[j + 1])
            if hi <= lo:
                continue
            if day == d:
                today.append((recv[lo:hi], payload.slice(lo, hi - lo)))
            else:
                # a copy, so the carried rows do not keep today's buffers alive
                piece = payload.slice(lo, hi - lo)
                if isinstance(piece, pa.ChunkedArray):
                    piece = pa.chunked_array([pa.concat_arrays(piece.chunks)], pa.string())
                else:
                    piece = piece.take(pa.array(np.arange(hi - lo, dtype=np.int64)))
                self.carry.setdefault(day, []).append((recv[lo:hi].copy(), piece))
        self._flush_day(d, today)

    def _flush_day(self, d: int, today: list) -> None:
        """part-0000: rows simulated on day d; part-0001: rows carried in from earlier days
        (late arrivals and retries). Each file is in received_at order."""
        dt = (self.cfg.start_date + timedelta(days=d)).isoformat()
        ext = "ndjson" if self.cfg.file_format == "ndjson" else "parquet"
        for part_no, pieces in ((0, today), (1, self.carry.pop(d, []))):
            if not pieces:
                continue
            path = self.out / "events" / f"dt={dt}" / f"part-{part_no:04d}.{ext}"
            recv = np.concatenate([p[0] for p in pieces])
            order = pa.array(np.argsort(recv, kind="stable"))
            if self.cfg.file_format == "ndjson":
                lines = pa.chunked_array([c for p in pieces for c in p[1].chunks], pa.string())
                _write_lines(path, lines.take(order) if len(pieces) > 1 else lines)
            else:
                table = pa.concat_tables([p[1] for p in pieces])
                table = table.take(order) if len(pieces) > 1 else table
                path.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(table, path, compression="zstd")
            self.events_written += len(recv)
            self.files.append(path)

    # -- the whole run -------------------------------------------------------------------------

    def run(self, progress: Callable[[int, int], None] | None) -> dict:
        days = self.cfg.days
        for d in range(days):
            p1 = self._run_pass(d, self._normal_sessions(d))
            prev = p1["sess"] if p1 else {"dev": np.zeros(0, np.int64)}
            p2 = self._run_pass(d, self._paylater_sessions(d, prev))
            stats = p1["stats"] if p1 else {}
            stats = {"date": (self.cfg.start_date + timedelta(days=d)).isoformat(), **stats}
            stats["paylater_sessions"] = p2["stats"]["sessions"] if p2 else 0
            self.daily.append(stats)
            self._deliver(d, [p1, p2])
            if progress is not None:
                progress(d + 1, days)
        return self._write_backend()

    def _write_table(self, spec: contract.RawTable, table: pa.Table, part_ms: np.ndarray | None):
        ext = "ndjson" if self.cfg.file_format == "ndjson" else "parquet"
        table = table.select([c.name for c in spec.columns])
        if part_ms is None or table.num_rows == 0:
            # products (no partition column) and empty tables: one file under the first day
            groups = [(self.cfg.start_date.isoformat(), np.arange(table.num_rows))]
        else:
            keys = np.floor((part_ms - self.day_start[0]) / MS_DAY).astype(np.int64)
            # exact reporting dates for rows inside the window, plain day arithmetic outside
            inside = (part_ms >= self.day_start[0]) & (part_ms < self.export_end)
            keys[inside] = np.searchsorted(self.day_start, part_ms[inside], side="right") - 1
            order = np.argsort(keys, kind="stable")
            uk, first = np.unique(keys[order], return_index=True)
            bounds = np.r_[first, len(order)]
            groups = [
                ((self.cfg.start_date + timedelta(days=int(k))).isoformat(), order[a:b])
                for k, a, b in zip(uk.tolist(), bounds[:-1], bounds[1:], strict=True)
            ]
        for dt, rows in groups:
            path = self.out / spec.name / f"dt={dt}" / f"part-0000.{ext}"
            piece = table.take(pa.array(rows))
            if ext == "ndjson":
                _write_lines(path, _ndjson_lines(piece, spec))
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(piece, path, compression="zstd")
            self.files.append(path)
        return table.num_rows

    def _write_backend(self) -> dict:
        rng, end = self.rng, self.export_end
        rows: dict[str, int] = {}
        rows["products"] = self._write_table(contract.PRODUCTS, self.products, None)

        def cat(lst, key, dtype=np.int64):
            return np.concatenate([x[key] for x in lst]) if lst else np.zeros(0, dtype)

        o_gidx = cat(self.orders, "gidx")
        o_ids = [s for x in self.orders for s in x["order_id"]]
        o_user = cat(self.orders, "user")
        o_created = cat(self.orders, "created")
        o_payable = cat(self.orders, "payable")
        o_keep = o_created < end
        # payments finished before the export
        p_order = cat(self.payments, "order")
        p_created = cat(self.payments, "created")
        p_finished = cat(self.payments, "finished")
        p_status = cat(self.payments, "status")
        p_keep = p_finished < end
        p_order, p_created, p_finished, p_status = (
            p_order[p_keep],
            p_created[p_keep],
            p_finished[p_keep],
            p_status[p_keep],
        )
        p_amount = cat(self.payments, "amount")[p_keep]
        p_method = cat(self.payments, "method")[p_keep]
        p_error = cat(self.payments, "error")[p_keep]
        p_order_sorted = np.lexsort((p_created, p_order))
        p_order, p_created, p_finished, p_status, p_amount, p_method, p_error = (
            a[p_order_sorted]
            for a in (p_order, p_created, p_finished, p_status, p_amount, p_method, p_error)
        )
        n_orders = len(o_gidx)
        paid_at = np.full(n_orders, np.iinfo(np.int64).max, dtype=np.int64)
        succ = p_status == 0
        np.minimum.at(paid_at, p_order[succ], p_finished[succ])
        is_paid = paid_at < end
        # refunds: refund_rate of paid orders, 1-10 days after payment
        paid_idx = np.nonzero(is_paid & o_keep)[0]
        ref = paid_idx[rng.random(len(paid_idx)) < self.cfg.refund_rate]
        r_at = paid_at[ref] + rng.integers(MS_DAY, 10 * MS_DAY, len(ref))
        r_full = rng.random(len(ref)) < 0.75
        r_amount = np.where(
            r_full,
            o_payable[ref],
            (o_payable[ref] * rng.uniform(0.2, 0.9, len(ref))).astype(np.int64),
        )
        rs = rng.random(len(ref))
        r_status = np.where(rs < 0.92, 0, np.where(rs < 0.96, 1, 2))  # success, pending, failed
        rk = r_at < end
        ref, r_at, r_full, r_amount, r_status = (
            ref[rk],
            r_at[rk],
            r_full[rk],
            r_amount[rk],
            r_status[rk],
        )
        # final order status as of the export
        status = np.full(n_orders, "pending_payment", dtype=object)
        updated = o_created.copy()
        close_at = o_created + 24 * MS_HOUR
        closed = ~is_paid & (close_at < end)
        status[closed] = "closed"
        updated[closed] = close_at[closed]
        # the last failed attempt also touches the order
        last_try = np.zeros(n_orders, dtype=np.int64)
        np.maximum.at(last_try, p_order, p_finished)
        open_ = ~is_paid & ~closed
        updated[open_] = np.maximum(updated[open_], last_try[open_])
        status[is_paid] = "paid"
        updated[is_paid] = paid_at[is_paid]
        done_at = paid_at + 7 * MS_DAY
        completed = is_paid & (done_at < end)
        status[completed] = "completed"
        updated[completed] = done_at[completed]
        rf = ref[(r_status == 0) & r_full]
        status[rf] = "refunded"
        updated[rf] = np.maximum(updated[rf], r_at[(r_status == 0) & r_full])
        pr_ok = ref[(r_status == 0) & ~r_full]
        updated[pr_ok] = np.maximum(updated[pr_ok], r_at[(r_status == 0) & ~r_full])

        keep = np.nonzero(o_keep)[0]
        coupon = cat(self.orders, "coupon")
        orders = pa.table(
            {
                "order_id": pa.array([o_ids[i] for i in keep.tolist()], pa.string()),
                "user_id": _take(self.user_ids, o_user[keep]),
                "created_at": _iso(o_created[keep]),
                "updated_at": _iso(updated[keep]),
                "status": pa.array(status[keep].tolist(), pa.string()),
                "item_amount_fen": pa.array(cat(self.orders, "item_amount")[keep]),
                "discount_fen": pa.array(cat(self.orders, "discount")[keep]),
                "shipping_fen": pa.array(cat(self.orders, "shipping")[keep]),
                "payable_fen": pa.array(o_payable[keep]),
                "coupon_id": pa.array(
                    [None if c < 0 else f"CPN{c:03d}" for c in coupon[keep].tolist()], pa.string()
                ),
                "channel": pa.array(np.full(len(keep), "mini_program", dtype=object), pa.string()),
            }
        )
        rows["orders"] = self._write_table(contract.ORDERS, orders, o_created[keep])
        oid_arr = pa.array(o_ids, pa.string())
        i_order = cat(self.items, "order")
        ik = o_keep[i_order] if len(i_order) else np.zeros(0, bool)
        i_sku = cat(self.items, "sku")[ik]
        items = pa.table(
            {
                "order_id": _take(oid_arr, i_order[ik]),
                "sku_id": _take(self.sku_ids, i_sku),
                "product_id": _take(self.prod_ids, self.sku_product[i_sku]),
                "quantity": pa.array(cat(self.items, "q")[ik], pa.int32()),
                "unit_price_fen": pa.array(cat(self.items, "p")[ik]),
                "item_discount_fen": pa.array(cat(self.items, "disc")[ik]),
            }
        )
        rows["order_items"] = self._write_table(contract.ORDER_ITEMS, items, o_created[i_order[ik]])
        npay = len(p_order)
        pay_ids = [f"PAY{self.cfg.start_date:%Y%m}{i:08d}" for i in range(npay)]
        payments = pa.table(
            {
                "payment_id": pa.array(pay_ids, pa.string()),
                "order_id": _take(oid_arr, p_order),
                "created_at": _iso(p_created),
                "finished_at": _iso(p_finished),
                "status": _take(pa.array(PAY_STATUS), p_status),
                "amount_fen": pa.array(p_amount, pa.int64()),
                "pay_method": _take(pa.array(PAY_METHODS), p_method),
                "error_code": pc.if_else(
                    pa.array(p_error < 0),
                    pa.scalar(None, pa.string()),
                    _take(pa.array(ERROR_CODES), np.maximum(p_error, 0)),
                ),
            }
        )
        rows["payments"] = self._write_table(contract.PAYMENTS, payments, p_created)
        refunds = pa.table(
            {
                "refund_id": pa.array([f"R{i + 1:09d}" for i in range(len(ref))], pa.string()),
                "order_id": _take(oid_arr, ref),
                "refunded_at": _iso(r_at),
                "amount_fen": pa.array(r_amount, pa.int64()),
                "status": _take(pa.array(["success", "pending", "failed"]), r_status),
            }
        )
        rows["refunds"] = self._write_table(contract.REFUNDS, refunds, r_at)
        # users: everyone whose user id was seen (registered before or at the first login)
        reg = np.nonzero(self.reg_ms < end)[0]
        seen = np.zeros(self.n_persons, dtype=bool)
        seen[reg] = True
        n_u = len(reg)
        phone = [
            PHONE_PREFIXES[a] + f"{b:08d}"
            for a, b in zip(
                rng.integers(0, len(PHONE_PREFIXES), n_u).tolist(),
                rng.integers(0, 100_000_000, n_u).tolist(),
                strict=True,
            )
        ]
        gender = np.array(["female", "male", "unknown"])[
            np.searchsorted([0.52, 0.95, 1.0], rng.random(n_u))
        ]
        users = pa.table(
            {
                "user_id": _take(self.user_ids, reg),
                "registered_at": _iso(self.reg_ms[reg]),
                "phone": pa.array(phone, pa.string()),
                "gender": pa.array(gender.tolist(), pa.string()),
                "city": _take(pa.array(CITIES), rng.integers(0, len(CITIES), n_u)),
            }
        )
        rows["users"] = self._write_table(contract.USERS, users, self.reg_ms[reg])
        # consents: analytics on the privacy prompt just before a device's first launch is
        # tracked (most devices; the others never consent; devices from before the period
        # consented before it), marketing at registration, a few withdrawals during the period
        # (by the device's first member, if any), about a third of them granted again
        new_dev = np.nonzero(self.dev_first_ms >= 0)[0]
        grant_new = new_dev[rng.random(len(new_dev)) < 0.96]
        old_dev = np.nonzero(self.dev_existing)[0]
        grant_old = old_dev[rng.random(len(old_dev)) < 0.96]
        grant = np.concatenate([grant_new, grant_old])
        grant_at = np.concatenate(
            [
                self.dev_first_ms[grant_new] - rng.integers(500, 8000, len(grant_new)),
                self.day_start[0] - rng.integers(MS_DAY, 30 * MS_DAY, len(grant_old)),
            ]
        )
        c_dev = [grant]
        c_user = [np.full(len(grant), -1)]
        c_type = [np.zeros(len(grant), dtype=np.int64)]
        c_granted = [np.ones(len(grant), dtype=bool)]
        c_at = [grant_at]
        reg_new = np.nonzero(
            (self.reg_ms >= self.day_start[0]) & (self.reg_ms < end) & (self.reg_dev >= 0)
        )[0]
        mk = reg_new[rng.random(len(reg_new)) < 0.35]
        c_dev.append(self.reg_dev[mk])
        c_user.append(mk)
        c_type.append(np.ones(len(mk), dtype=np.int64))
        c_granted.append(np.ones(len(mk), dtype=bool))
        c_at.append(self.reg_ms[mk] + rng.integers(2000, 20_000, len(mk)))
        wsel = rng.random(len(grant)) < self.cfg.consent_withdrawal_rate
        wd = grant[wsel]
        w_at = np.maximum(grant_at[wsel], self.day_start[0]) + rng.integers(
            MS_HOUR, max(MS_HOUR + 1, self.cfg.days * MS_DAY), len(wd)
        )
        wk = w_at < end
        wd, w_at = wd[wk], w_at[wk]
        c_dev.append(wd)
        c_user.append(self.dev_first_user[wd])
        c_type.append(np.zeros(len(wd), dtype=np.int64))
        c_granted.append(np.zeros(len(wd), dtype=bool))
        c_at.append(w_at)
        rg = rng.random(len(wd)) < 0.3
        rg_at = w_at[rg] + rng.integers(MS_HOUR, 3 * MS_DAY, int(rg.sum()))
        rk = rg_at < end
        c_dev.append(wd[rg][rk])
        c_user.append(np.full(int(rk.sum()), -1))
        c_type.append(np.zeros(int(rk.sum()), dtype=np.int64))
        c_granted.append(np.ones(int(rk.sum()), dtype=bool))
        c_at.append(rg_at[rk])
        cd, cu, ct, cg, ca = (np.concatenate(x) for x in (c_dev, c_user, c_type, c_granted, c_at))
        co = np.lexsort((cd, ca))
        cd, cu, ct, cg, ca = cd[co], cu[co], ct[co], cg[co], ca[co]
        consents = pa.table(
            {
                "anonymous_id": _take(self.anon_ids, cd),
                "user_id": pc.if_else(
                    pa.array(cu < 0),
                    pa.scalar(None, pa.string()),
                    _take(self.user_ids, np.maximum(cu, 0)),
                ),
                "consent_type": _take(pa.array(["analytics", "marketing"]), ct),
                "granted": pa.array(cg, pa.bool_()),
                "changed_at": _iso(ca),
            }
        )
        rows["consents"] = self._write_table(contract.CONSENTS, consents, ca)

        # incidents
        incidents = []
        for (a, b, _rate), spec in zip(self.incidents, self.cfg.incidents, strict=True):
            w = (p_created >= a) & (p_created < b)
            n_att = int(w.sum())
            n_ok = int((w & (p_status == 0)).sum())
            incidents.append(
                {
                    "start": _iso_one(a),
                    "end": _iso_one(b),
                    "minutes": spec.minutes,
                    "configured_success_rate": spec.success_rate,
                    "payment_attempts": n_att,
                    "successful_attempts": n_ok,
                    "success_rate": round(n_ok / n_att, 4) if n_att else None,
                }
            )
        outside = np.ones(len(p_created), dtype=bool)
        for a, b, _ in self.incidents:
            outside &= ~((p_created >= a) & (p_created < b))
        finished = int(outside.sum())
        paid_orders = int((is_paid & o_keep).sum())
        return {
            "rows": {"events": self.events_written, **rows},
            "incidents": incidents,
            "payment_success_rate_outside_incidents": (
                round(int((outside & (p_status == 0)).sum()) / finished, 4) if finished else None
            ),
            "orders_paid": paid_orders,
            "orders_by_status": {
                s: int((status[keep] == s).sum())
                for s in ("pending_payment", "closed", "paid", "completed", "refunded")
            },
        }


def _iso_one(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    )


def _config_dict(config: GeneratorConfig) -> dict:
    out = {}
    for key in GeneratorConfig.__dataclass_fields__:
        value = getattr(config, key)
        if key == "out_dir" or (key == "purchase_multiplier" and value == 1.0):
            continue  # the default multiplier is left out: default output stays as it was
        if key == "incidents":
            value = [
                {
                    "start": _iso_one(int(i.start.timestamp() * 1000)),
                    "minutes": i.minutes,
                    "success_rate": i.success_rate,
                }
                for i in value
            ]
        elif isinstance(value, date):
            value = value.isoformat()
        out[key] = value
    return out


def generate(
    config: GeneratorConfig, progress: Callable[[int, int], None] | None = None
) -> GenerationResult:
    """Simulate the shop and write the landing files plus `ground_truth.json` to `out_dir`."""
    began = _time.perf_counter()
    sim = _Simulation(config)
    sim.out.mkdir(parents=True, exist_ok=True)
    backend = sim.run(progress)
    c = sim.counts
    truth = {
        "config": _config_dict(config),
        "export_end": _iso_one(sim.export_end),
        "rows": backend["rows"],
        "events": {
            "tracked": c["tracked"],
            "lines_written": sim.events_written,
            "unique_valid_lines": c["delivered"],
            "received_after_window": c["received_after_window"],
        },
        "imperfections": {
            "lost": c["lost"],
            "duplicated": c["duplicated"],
            "late": c["late"],
            "skewed": c["skewed"],
            "malformed": c["malformed"],
            "malformed_by_kind": dict(sorted(c["malformed_by_kind"].items())),
            "unknown_event": c["unknown_event"],
            "missing_property": c["missing_property"],
            "wrong_type_property": c["wrong_type_property"],
        },
        "incidents": backend["incidents"],
        "payment_success_rate_outside_incidents": backend["payment_success_rate_outside_incidents"],
        "orders_paid": backend["orders_paid"],
        "orders_by_status": backend["orders_by_status"],
        "daily": sim.daily,
    }
    gt_path = sim.out / "ground_truth.json"
    gt_path.write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return GenerationResult(
        out_dir=sim.out,
        events_written=sim.events_written,
        files=sorted(sim.files),
        seconds=_time.perf_counter() - began,
        ground_truth=truth,
    )


# events per person and day with the default behaviour (measured; used to size benchmarks)
_EVENTS_PER_PERSON_DAY = 3.66


def benchmark(
    events_target: int = 2_000_000,
    out_dir: Path | None = None,
    seed: int = 1,
    file_format: str = "ndjson",
) -> dict:
    """Generate about `events_target` events into a temporary folder and time it."""
    days = 10
    users = max(100, int(events_target / (_EVENTS_PER_PERSON_DAY * days)))
    base = Path(tempfile.mkdtemp(prefix="shoplens-bench-", dir=out_dir))
    threads = pa.cpu_count()
    pa.set_cpu_count(1)  # measure one core (run under `taskset -c 0` for the whole process)
    try:
        config = GeneratorConfig(
            out_dir=base / "landing", users=users, days=days, seed=seed, file_format=file_format
        )
        result = generate(config)
    finally:
        pa.set_cpu_count(threads)
        shutil.rmtree(base, ignore_errors=True)
    return {
        "events": result.events_written,
        "seconds": round(result.seconds, 3),
        "events_per_second": round(result.events_written / result.seconds) if result.seconds else 0,
        "format": file_format,
        "users": users,
        "days": days,
    }
