"""Tests of the synthetic data generator (shoplens.generate) on real files in tmp_path.

Every check recomputes its expectation from the files (and the contract), never from a snapshot.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest

from conftest import ROOT
from shoplens import contract
from shoplens.generate import (
    EVENT_NAMES,
    REQUIRED_PROPERTIES,
    GeneratorConfig,
    IncidentSpec,
    benchmark,
    generate,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
REQUIRED_EVENT_FIELDS = ("event_id", "event", "anonymous_id", "received_at")
PART_RE = re.compile(r"^dt=(\d{4}-\d{2}-\d{2})$")
INCIDENT = IncidentSpec(
    start=datetime(2026, 9, 2, 9, 0, tzinfo=UTC), minutes=6 * 60, success_rate=0.3
)


# ---------------------------------------------------------------------------------------------
# helpers (independent of the generator's internals)
# ---------------------------------------------------------------------------------------------


def local_date(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(SHANGHAI).date().isoformat()


def parse_ts(text: str) -> datetime:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def read_rows(root: Path, table: str) -> list[tuple[str, dict]]:
    """(dt, row) for every row of a backend table, in NDJSON or Parquet."""
    out = []
    for part in sorted((root / table).glob("dt=*/part-*")):
        dt = PART_RE.match(part.parent.name).group(1)
        if part.suffix == ".parquet":
            out += [(dt, r) for r in pq.read_table(part).to_pylist()]
        else:
            out += [(dt, json.loads(line)) for line in part.read_text("utf-8").splitlines()]
    return out


def read_event_lines(root: Path) -> tuple[list[tuple[str, dict]], int]:
    """(dt, event) for valid event lines (NDJSON), and the number of malformed lines."""
    valid, bad = [], 0
    for part in sorted((root / "events").glob("dt=*/part-*.ndjson")):
        dt = PART_RE.match(part.parent.name).group(1)
        for line in part.read_text("utf-8").splitlines():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                bad += 1
                continue
            if not isinstance(obj, dict) or any(obj.get(k) is None for k in REQUIRED_EVENT_FIELDS):
                bad += 1
                continue
            valid.append((dt, obj))
    return valid, bad


def dedupe(events: list[tuple[str, dict]]) -> list[dict]:
    seen, out = set(), []
    for _, e in sorted(events, key=lambda x: x[1]["received_at"]):
        if e["event_id"] not in seen:
            seen.add(e["event_id"])
            out.append(e)
    return out


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def main_run(tmp_path_factory):
    """A medium NDJSON run with raised imperfection rates (so rates can be measured) and an
    incident long enough to collect payment attempts."""
    out = tmp_path_factory.mktemp("main") / "landing"
    config = GeneratorConfig(
        out_dir=out,
        users=20000,
        days=3,
        seed=7,
        promotion_day=None,
        lost_rate=0.04,
        duplicate_rate=0.02,
        late_rate=0.02,
        skew_rate=0.01,
        malformed_rate=0.004,
        unknown_event_rate=0.005,
        missing_property_rate=0.005,
        incidents=(INCIDENT,),
    )
    result = generate(config)
    events, bad = read_event_lines(out)
    return {
        "config": config,
        "result": result,
        "root": out,
        "events": events,
        "bad": bad,
        "unique": dedupe(events),
    }


@pytest.fixture(scope="module")
def parquet_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("pq") / "landing"
    config = GeneratorConfig(
        out_dir=out, users=600, days=2, seed=3, file_format="parquet", malformed_rate=0.01
    )
    return {"config": config, "result": generate(config), "root": out}


# ---------------------------------------------------------------------------------------------
# determinism, layout, columns
# ---------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path):
    def run(name: str, seed: int) -> dict[str, str]:
        cfg = GeneratorConfig(out_dir=tmp_path / name, users=300, days=2, seed=seed)
        generate(cfg)
        return tree_digest(tmp_path / name)

    a, b, c = run("a", 11), run("b", 11), run("c", 12)
    assert a == b
    assert a.keys() & c.keys()
    common = [k for k in a.keys() & c.keys() if k.startswith("events/")]
    assert common and all(a[k] != c[k] for k in common)


@pytest.mark.parametrize("run_name", ["main_run", "parquet_run"])
def test_layout_and_columns_match_contract(run_name, request):
    run = request.getfixturevalue(run_name)
    root: Path = run["root"]
    fmt = run["config"].file_format
    suffix = ".ndjson" if fmt == "ndjson" else ".parquet"
    assert {p.name for p in root.iterdir() if p.is_dir()} == set(contract.TABLES)
    assert (root / "ground_truth.json").is_file()
    first_day = run["config"].start_date.isoformat()
    for table, spec in contract.TABLES.items():
        parts = sorted((root / table).glob("*/*"))
        assert parts, table
        for part in parts:
            assert PART_RE.match(part.parent.name), part
            assert re.fullmatch(r"part-\d{4}" + re.escape(suffix), part.name), part
        if table == "products":
            assert [p.parent.name for p in parts] == [f"dt={first_day}"]
        if fmt == "parquet":
            names = [c.parquet_name for c in spec.columns]
            for part in parts:
                assert pq.read_schema(part).names == names, part
        else:
            expected = [c.json_path.split(".")[0] for c in spec.columns]
            expected = list(dict.fromkeys(expected))
            for part in parts[:5]:
                for line in part.read_text("utf-8").splitlines()[:200]:
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError:
                        assert table == "events"
                        continue
                    if table == "events" and any(k not in obj for k in REQUIRED_EVENT_FIELDS):
                        continue
                    assert list(obj) == expected, (table, obj)
                    if table == "events":
                        assert set(obj["lib"]) == {"name", "version"}
                        assert isinstance(obj["properties"], dict)
    assert sorted(run["result"].files) == sorted(p for p in root.rglob("part-*"))


def test_parquet_events_and_malformed_rows(parquet_run):
    root = parquet_run["root"]
    gt = json.loads((root / "ground_truth.json").read_text())
    rows, bad = 0, 0
    for part in sorted((root / "events").glob("dt=*/part-*.parquet")):
        table = pq.read_table(part)
        assert table.schema.field("time").type == "int64"
        assert table.schema.field("properties").type == "string"
        for r in table.to_pylist():
            rows += 1
            if any(r[k] is None for k in REQUIRED_EVENT_FIELDS):
                bad += 1
                continue
            assert isinstance(json.loads(r["properties"]), dict)
            assert r["lib_name"] == "miniprogram"
            assert local_date(r["received_at"]) == part.parent.name[3:]
    assert rows == parquet_run["result"].events_written == gt["rows"]["events"]
    assert bad == gt["imperfections"]["malformed"] > 0


# ---------------------------------------------------------------------------------------------
# events: validity, imperfection rates, partitions, daily pattern
# ---------------------------------------------------------------------------------------------


def test_every_event_line_is_valid_or_counted_malformed(main_run):
    gt = main_run["result"].ground_truth
    on_disk = json.loads((main_run["root"] / "ground_truth.json").read_text())
    assert on_disk == json.loads(json.dumps(gt))
    lines = len(main_run["events"]) + main_run["bad"]
    assert lines == main_run["result"].events_written == gt["rows"]["events"]
    assert main_run["bad"] == gt["imperfections"]["malformed"]
    for _, e in main_run["events"]:
        assert isinstance(e["received_at"], int) and isinstance(e["time"], int)
        assert re.fullmatch(r"oX3k[A-Za-z0-9_-]{24}", e["anonymous_id"])
        assert e["user_id"] is None or re.fullmatch(r"M\d{7}", e["user_id"])


def test_imperfection_rates_near_configured(main_run):
    cfg, gt = main_run["config"], main_run["result"].ground_truth
    events, unique = main_run["events"], main_run["unique"]
    n_unique = len(unique)
    dup_lines = len(events) - n_unique
    assert dup_lines == gt["imperfections"]["duplicated"]
    assert n_unique == gt["events"]["unique_valid_lines"]
    assert dup_lines / n_unique == pytest.approx(cfg.duplicate_rate, rel=0.2)
    total_lines = len(events) + main_run["bad"]
    assert main_run["bad"] / total_lines == pytest.approx(cfg.malformed_rate, rel=0.3)
    # lost: tracked events that never show up (unknown events are extra, not tracked)
    unknown = sum(1 for e in unique if e["event"] not in contract_events())
    assert unknown == gt["imperfections"]["unknown_event"]
    assert unknown / n_unique == pytest.approx(cfg.unknown_event_rate, rel=0.3)
    tracked = gt["events"]["tracked"]
    lost = tracked - (n_unique - unknown) - main_run["bad"] - gt["events"]["received_after_window"]
    assert lost / tracked == pytest.approx(cfg.lost_rate, rel=0.1)
    assert abs(lost - gt["imperfections"]["lost"]) <= main_run["bad"] + 5
    # clock skew as defined in events.md; late arrivals
    skewed = sum(
        1
        for e in unique
        if e["time"] > e["received_at"] + 10 * 60_000
        or e["time"] < e["received_at"] - 7 * 86_400_000
    )
    assert skewed == gt["imperfections"]["skewed"]
    assert skewed / n_unique == pytest.approx(cfg.skew_rate, rel=0.3)
    normal = [e["received_at"] - e["time"] for e in unique if e["received_at"] - e["time"] >= 0]
    assert sum(1 for x in normal if 100 <= x <= 5000) / len(normal) > 0.95
    late = sum(1 for x in normal if x > 60_000)
    assert late / n_unique == pytest.approx(cfg.late_rate, rel=0.35)


def plan_rows(seed: str) -> list[dict[str, str]]:
    with open(ROOT / "seeds" / "tracking_plan" / f"{seed}.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def contract_events() -> set[str]:
    """Canonical events of the tracking plan seed (the vendor-only ones are never generated)."""
    return {
        r["event_name"] for r in plan_rows("tracking_plan__events") if r["event_group"] != "vendor"
    }


def test_generator_follows_the_tracking_plan_seed() -> None:
    """The seed is the authority; the generator's copy of the plan must match it."""
    assert set(EVENT_NAMES) == contract_events()
    required: dict[str, set[str]] = {name: set() for name in contract_events()}
    for row in plan_rows("tracking_plan__event_properties"):
        if row["is_required"] == "true" and row["event_name"] in required:
            required[row["event_name"]].add(row["property_name"])
    assert {name: set(props) for name, props in REQUIRED_PROPERTIES.items()} == required


REQUIRED = {
    "mp_launch": {"scene": int, "is_first_launch": bool},
    "mp_hide": {"duration_ms": int},
    "page_view": {"page_path": str, "page_type": str},
    "page_leave": {"page_path": str, "duration_ms": int},
    "exposure": {"module": str, "item_type": str, "item_id": str, "position": int},
    "recommend_click": {"product_id": str, "module": str, "position": int},
    "add_to_cart": {"product_id": str, "sku_id": str, "quantity": int, "unit_price_fen": int},
    "submit_order": {"order_id": str, "amount_fen": int, "item_count": int},
    "pay_request": {"order_id": str, "pay_amount_fen": int, "pay_method": str},
    "pay_success": {"order_id": str, "pay_amount_fen": int},
    "pay_fail": {"order_id": str, "error_code": str},
}


def conforms(e: dict) -> bool:
    spec = REQUIRED.get(e["event"], {})
    props = e["properties"]
    return all(k in props and type(props[k]) is t for k, t in spec.items())


def test_property_violations_are_rare_and_counted(main_run):
    unique = [e for e in main_run["unique"] if e["event"] in REQUIRED]
    broken = [e for e in unique if not conforms(e)]
    gt = main_run["result"].ground_truth["imperfections"]
    counted = gt["missing_property"] + gt["wrong_type_property"]
    assert 0 < len(broken) <= counted
    rate = main_run["config"].missing_property_rate
    assert len(broken) / len(unique) == pytest.approx(rate, rel=0.4)


def test_event_partitions_follow_received_at(main_run):
    for dt, e in main_run["events"]:
        assert local_date(e["received_at"]) == dt


def test_backend_partitions_follow_partition_column(main_run):
    root = main_run["root"]
    for table, spec in contract.TABLES.items():
        if table in ("events", "products", "order_items"):
            continue
        for dt, row in read_rows(root, table):
            ts = parse_ts(row[spec.partition_column])
            assert ts.astimezone(SHANGHAI).date().isoformat() == dt, (table, row)
    created = {r["order_id"]: dt for dt, r in read_rows(root, "orders")}
    for dt, item in read_rows(root, "order_items"):
        assert created[item["order_id"]] == dt


def test_evening_peak_and_quiet_night(main_run):
    hours = Counter(
        datetime.fromtimestamp(e["time"] / 1000, UTC).astimezone(SHANGHAI).hour
        for e in main_run["unique"]
    )
    evening = hours[20] + hours[21] + hours[22]
    night = hours[3] + hours[4] + hours[5]
    assert evening > 4 * night


def test_sessions_and_funnel_look_like_a_shop(main_run):
    """Sessionize one day independently (launch or >30 min gap) and check the funnel."""
    by_anon = defaultdict(list)
    for e in main_run["unique"]:
        if e["event"] in contract_events():
            t = e["time"]
            if t > e["received_at"] + 600_000 or t < e["received_at"] - 7 * 86_400_000:
                t = e["received_at"]
            by_anon[e["anonymous_id"]].append((t, e))
    sessions = []
    for evs in by_anon.values():
        evs.sort(key=lambda x: x[0])
        cur, last = [], None
        for t, e in evs:
            if cur and (e["event"] == "mp_launch" or t - last > 30 * 60_000):
                sessions.append(cur)
                cur = []
            cur.append(e)
            last = t
        sessions.append(cur)
    n = len(sessions)
    detail = [
        s
        for s in sessions
        if any(
            e["event"] == "page_view" and e["properties"].get("page_type") == "product_detail"
            for e in s
        )
    ]
    cart = [s for s in detail if any(e["event"] == "add_to_cart" for e in s)]
    ck = [s for s in cart if any(e["event"] == "checkout_click" for e in s)]
    paid = [s for s in ck if any(e["event"] == "pay_success" for e in s)]
    assert 0.45 < len(detail) / n < 0.75
    assert 0.07 < len(cart) / len(detail) < 0.2
    assert 0.3 < len(ck) / len(cart) < 0.65
    assert 0.55 < len(paid) / len(ck) < 0.9
    starts = Counter(s[0]["event"] for s in sessions)
    assert starts["mp_launch"] / n > 0.75
    assert starts["mp_show"] > 0  # resumed sessions without a launch
    # scene mix: direct and share lead
    scenes = Counter(
        e["properties"]["scene"]
        for s in sessions
        for e in s
        if e["event"] == "mp_launch" and conforms(e)
    )
    total = sum(scenes.values())
    direct = sum(scenes[s] for s in (1001, 1089, 1256)) / total
    share = sum(scenes[s] for s in (1007, 1008)) / total
    assert 0.28 < direct < 0.42 and 0.14 < share < 0.26
    # login mid-session: some sessions have events without and then with a user id
    switched = sum(1 for s in sessions if s[0]["user_id"] is None and any(e["user_id"] for e in s))
    assert switched > 0


def test_exposure_click_through_depends_on_position(main_run):
    expo, clicks = Counter(), Counter()
    for e in main_run["unique"]:
        p = e["properties"]
        if e["event"] == "exposure" and p.get("module") == "recommend" and conforms(e):
            expo[p["position"]] += 1
        elif e["event"] == "recommend_click" and conforms(e):
            assert p["module"] == "recommend"
            clicks[p["position"]] += 1
    assert clicks[1] / expo[1] > 3 * clicks[6] / expo[6]


# ---------------------------------------------------------------------------------------------
# backend tables: consistency with each other and with the events
# ---------------------------------------------------------------------------------------------


def test_orders_items_payments_refunds_are_consistent(main_run):
    root = main_run["root"]
    orders = {r["order_id"]: r for _, r in read_rows(root, "orders")}
    items = defaultdict(list)
    for _, it in read_rows(root, "order_items"):
        items[it["order_id"]].append(it)
    products = {r["sku_id"]: r["product_id"] for _, r in read_rows(root, "products")}
    users = {r["user_id"]: r for _, r in read_rows(root, "users")}
    assert orders
    for oid, o in orders.items():
        lines = items[oid]
        assert lines, oid
        assert len({it["sku_id"] for it in lines}) == len(lines)
        for it in lines:
            assert products[it["sku_id"]] == it["product_id"]
        assert o["item_amount_fen"] == sum(it["quantity"] * it["unit_price_fen"] for it in lines)
        assert o["discount_fen"] == sum(it["item_discount_fen"] for it in lines)
        assert o["payable_fen"] == o["item_amount_fen"] - o["discount_fen"] + o["shipping_fen"]
        assert o["shipping_fen"] in (0, 800, 1000)
        assert o["user_id"] in users
        assert parse_ts(users[o["user_id"]]["registered_at"]) <= parse_ts(o["created_at"])
        assert parse_ts(o["updated_at"]) >= parse_ts(o["created_at"])
    assert set(items) <= set(orders)
    payments = [r for _, r in read_rows(root, "payments")]
    first_success = {}
    for p in payments:
        o = orders[p["order_id"]]
        assert p["status"] in ("success", "failed", "cancelled")
        assert (p["error_code"] is None) == (p["status"] == "success")
        assert p["amount_fen"] == o["payable_fen"]
        created, finished = parse_ts(p["created_at"]), parse_ts(p["finished_at"])
        assert parse_ts(o["created_at"]) <= created < finished < created + timedelta(minutes=5)
        if p["status"] == "success":
            first_success[p["order_id"]] = min(finished, first_success.get(p["order_id"], finished))
    for oid, o in orders.items():
        paid = oid in first_success
        assert (o["status"] in ("paid", "completed", "refunded")) == paid, o
    refunds = [r for _, r in read_rows(root, "refunds")]
    for r in refunds:
        o = orders[r["order_id"]]
        assert r["amount_fen"] <= o["payable_fen"]
        assert parse_ts(r["refunded_at"]) > first_success[r["order_id"]]
    pay_rate = len(first_success) / len(orders)
    assert 0.7 < pay_rate < 0.97


def test_events_agree_with_the_order_system(main_run):
    root = main_run["root"]
    orders = {r["order_id"]: r for _, r in read_rows(root, "orders")}
    success = defaultdict(set)
    for _, p in read_rows(root, "payments"):
        if p["status"] == "success":
            success[p["order_id"]].add(p["amount_fen"])
    n_pay, n_submit = 0, 0
    for e in main_run["unique"]:
        if not conforms(e):
            continue
        p = e["properties"]
        if e["event"] == "pay_success":
            n_pay += 1
            assert p["pay_amount_fen"] in success[p["order_id"]]
        elif e["event"] == "submit_order":
            n_submit += 1
            o = orders[p["order_id"]]
            assert o["payable_fen"] == p["amount_fen"]
            assert abs(parse_ts(o["created_at"]).timestamp() * 1000 - e["time"]) < 60_000 or (
                e["time"] > e["received_at"] + 600_000
                or e["time"] < e["received_at"] - 7 * 86_400_000
            )
    assert n_pay > 50 and n_submit > 50


def test_incident_window_lowers_payment_success(main_run):
    root = main_run["root"]
    start = INCIDENT.start
    end = start + timedelta(minutes=INCIDENT.minutes)
    inside, outside = [], []
    for _, p in read_rows(root, "payments"):
        created = parse_ts(p["created_at"])
        (inside if start <= created < end else outside).append(p["status"] == "success")
    assert len(inside) >= 40
    rate_in = sum(inside) / len(inside)
    sd = (INCIDENT.success_rate * (1 - INCIDENT.success_rate) / len(inside)) ** 0.5
    assert abs(rate_in - INCIDENT.success_rate) < 4 * sd + 0.02
    assert sum(outside) / len(outside) >= 0.85
    (inc,) = main_run["result"].ground_truth["incidents"]
    assert inc["payment_attempts"] == len(inside)
    assert inc["start"] == "2026-09-02T09:00:00.000Z"
    # pay_fail events during the incident
    fails = [
        e
        for e in main_run["unique"]
        if e["event"] == "pay_fail"
        and start.timestamp() * 1000 <= e["time"] < end.timestamp() * 1000 + 60_000
    ]
    assert fails


def test_users_consents_and_people(main_run):
    root = main_run["root"]
    users = [r for _, r in read_rows(root, "users")]
    assert len({u["user_id"] for u in users}) == len(users)
    for u in users:
        assert re.fullmatch(r"1[3-9]\d{9}", u["phone"])
        assert u["gender"] in ("female", "male", "unknown")
    user_ids = {u["user_id"] for u in users}
    anon_per_user = defaultdict(set)
    for e in main_run["unique"]:
        if e["user_id"]:
            assert e["user_id"] in user_ids
            anon_per_user[e["user_id"]].add(e["anonymous_id"])
    assert any(len(a) > 1 for a in anon_per_user.values())  # two devices, one member
    consents = [r for _, r in read_rows(root, "consents")]
    analytics = [c for c in consents if c["consent_type"] == "analytics"]
    assert sum(c["granted"] for c in analytics) > 10 * max(
        1, sum(not c["granted"] for c in analytics)
    )
    assert any(not c["granted"] for c in analytics)
    # Devices from before the period consented before it; a new device consents on the privacy
    # prompt before its first launch is tracked; some withdrawals are granted again later.
    start = datetime(2026, 8, 31, 16, tzinfo=UTC).isoformat().replace("+00:00", "")
    assert any(c["granted"] and c["changed_at"] < start for c in analytics)
    changes = defaultdict(list)
    for c in sorted(analytics, key=lambda c: c["changed_at"]):
        changes[c["anonymous_id"]].append(c)
    first_launch = {}
    for e in main_run["unique"]:
        if e["event"] == "mp_launch" and (e.get("properties") or {}).get("is_first_launch"):
            first_launch[e["anonymous_id"]] = min(
                e["received_at"], first_launch.get(e["anonymous_id"], e["received_at"])
            )
    granted_new = [d for d in first_launch if changes[d] and changes[d][0]["granted"]]
    assert len(granted_new) > 0.9 * len(first_launch)
    for device in granted_new:
        granted_at = datetime.fromisoformat(changes[device][0]["changed_at"].replace("Z", "+00:00"))
        assert granted_at.timestamp() * 1000 < first_launch[device]
    assert any(
        [c["granted"] for c in device_changes][-2:] == [False, True]
        for device_changes in changes.values()
    )


def test_ground_truth_has_config_counts_and_incidents(main_run):
    gt = main_run["result"].ground_truth
    assert gt["config"]["users"] == 20000 and gt["config"]["start_date"] == "2026-09-01"
    for table in contract.TABLES:
        n = gt["rows"][table]
        if table == "events":
            continue
        assert n == len(read_rows(main_run["root"], table))
    assert set(gt["imperfections"]) >= {
        "lost",
        "duplicated",
        "late",
        "skewed",
        "malformed",
        "unknown_event",
        "missing_property",
        "wrong_type_property",
    }


def test_promotion_day_spikes_traffic(tmp_path):
    cfg = GeneratorConfig(
        out_dir=tmp_path / "p",
        users=3000,
        days=3,
        start_date=date(2026, 9, 1),
        promotion_day=1,
        lost_rate=0,
        duplicate_rate=0,
        late_rate=0,
        skew_rate=0,
        malformed_rate=0,
    )
    generate(cfg)
    counts = Counter(
        dt for dt, e in read_event_lines(tmp_path / "p")[0] if e["event"] == "mp_launch"
    )
    assert counts["2026-09-02"] > 1.8 * max(counts["2026-09-01"], counts["2026-09-03"])


def test_progress_and_benchmark(tmp_path):
    calls = []
    cfg = GeneratorConfig(out_dir=tmp_path / "g", users=200, days=3)
    generate(cfg, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    figures = benchmark(events_target=20_000, out_dir=tmp_path)
    assert figures["format"] == "ndjson"
    assert 10_000 < figures["events"] < 40_000
    assert figures["events_per_second"] > 0
    assert not list(tmp_path.glob("shoplens-bench-*"))
