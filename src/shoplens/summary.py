"""A short printed summary of a built warehouse: load accounting, staging, tracking quality."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from shoplens.dbt import schema_name
from shoplens.warehouse import connect, raw_schema


def summary_queries() -> dict[str, str]:
    raw, staging, marts = raw_schema(), schema_name("staging"), schema_name("marts")
    # The day the summary reports on: the last complete reporting day.
    last_complete = (
        f"(select last_complete_date from {schema_name('intermediate')}.int_reporting_dates)"
    )
    return {
        "accounting": f"""
            select
                count(distinct batch_id), sum(files), sum(rows_read), sum(rows_loaded),
                sum(rows_rejected), sum(events_staged), sum(duplicate_deliveries)
            from {marts}.agg_quality__load_batches
            where table_name = 'events'
        """,
        "events": f"""
            select
                min(event_date), max(event_date), sum(events), sum(conforming_events),
                sum(implausible_time_events),
                (select count(distinct anonymous_id_hash) from {marts}.fct_sessions)
            from {marts}.agg_quality__tracking_plan_daily
        """,
        "violations": f"""
            select plan_violations, count(*) as events
            from {staging}.stg_mini_program__events
            where plan_violations is not null
            group by plan_violations
            order by events desc, plan_violations
            limit 5
        """,
        "rejected": f"""
            select table_name || ': ' || reason, count(*) as rows_rejected
            from {raw}.rejected_rows
            group by table_name, reason
            order by rows_rejected desc, table_name, reason
            limit 5
        """,
        "traffic": f"""
            select
                traffic.metric_date, traffic.active_users, active.wau, active.mau,
                traffic.new_users, traffic.sessions, traffic.pv, traffic.avg_stay_seconds,
                (select avg(retention_rate) from {marts}.agg_retention__cohorts
                 where day_n = 1)
            from {marts}.agg_traffic__daily as traffic
            inner join {marts}.agg_active_users__daily as active
                on traffic.metric_date = active.metric_date
            where traffic.metric_date = {last_complete}
        """,
        "transaction": f"""
            select
                transaction.metric_date, transaction.gmv_yuan, transaction.orders,
                transaction.paying_users, transaction.arpu_paying_yuan,
                transaction.payment_success_rate, coverage.tracking_coverage
            from {marts}.agg_transaction__daily as transaction
            left join {marts}.agg_quality__tracking_coverage_daily as coverage
                on transaction.metric_date = coverage.metric_date
            where transaction.metric_date = {last_complete}
        """,
        "funnel": f"""
            select
                metric_date, step_label_zh || ' ' || step_label_en, sessions_reached,
                rate_from_first
            from {marts}.agg_funnel__daily
            where funnel_id = 'core' and metric_date = {last_complete}
            order by step_number
        """,
        "orders": f"""
            select
                (select count(*) from {marts}.fct_orders),
                (select count(*) from {marts}.fct_payments),
                (select count(*) from {marts}.fct_payments where is_success),
                (select count(*) from {marts}.fct_refunds)
        """,
    }


def print_summary(target: str, console: Console) -> None:
    warehouse = connect(target)
    try:
        results = {name: warehouse.query(sql) for name, sql in summary_queries().items()}
    finally:
        warehouse.close()
    batches, files, read, _loaded, rejected, staged, duplicates = results["accounting"][0]
    first, last, events, conforming, implausible, devices = results["events"][0]
    orders, attempts, successes, refunds = results["orders"][0]
    traffic = results["traffic"][0] if results["traffic"] else None
    n = lambda value: f"{int(value or 0):,}"  # noqa: E731

    table = Table(title=f"Shoplens on {target}", show_header=False, title_justify="left")
    table.add_row("event load batches / files", f"{n(batches)} / {n(files)}")
    table.add_row(
        "event rows read = staged + duplicates + rejected",
        f"{n(read)} = {n(staged)} + {n(duplicates)} + {n(rejected)}"
        + ("  ✓" if (read or 0) == (staged or 0) + (duplicates or 0) + (rejected or 0) else "  ✗"),
    )
    table.add_row("event dates", f"{first} … {last}")
    share = f"{(conforming or 0) / events:.2%}" if events else "-"
    table.add_row("events staged / conforming", f"{n(events)} / {n(conforming)} ({share})")
    table.add_row("events with implausible client time", n(implausible))
    table.add_row("devices with a session (anonymous ids)", n(devices))
    if traffic:
        day, dau, wau, mau, new, sessions, pv, stay, day1 = traffic
        table.add_row(f"{day}: DAU / WAU / MAU (活躍用戶)", f"{n(dau)} / {n(wau)} / {n(mau)}")
        table.add_row(
            f"{day}: new users / sessions / page views", f"{n(new)} / {n(sessions)} / {n(pv)}"
        )
        table.add_row(f"{day}: avg stay (平均停留時長)", f"{stay or 0:.1f} s")
        table.add_row(
            "day-1 retention, mean over cohorts (次日留存)",
            f"{day1:.1%}" if day1 is not None else "-",
        )
    if results["transaction"]:
        day, gmv, paid, buyers, arpu, success_rate, coverage = results["transaction"][0]
        table.add_row(f"{day}: GMV (成交總額)", f"¥{gmv:,.2f}")
        table.add_row(f"{day}: paid orders / paying users", f"{n(paid)} / {n(buyers)}")
        table.add_row(f"{day}: 客單價 (GMV per paying user)", f"¥{arpu or 0:,.2f}")
        table.add_row(
            f"{day}: payment success rate / tracking coverage",
            " / ".join(f"{v:.1%}" if v is not None else "-" for v in (success_rate, coverage)),
        )
    table.add_row(
        "orders / payment attempts / successful / refunds",
        f"{n(orders)} / {n(attempts)} / {n(successes)} / {n(refunds)}",
    )
    console.print(table)
    if results["funnel"]:
        funnel_day = results["funnel"][0][0]
        funnel = Table(title=f"core funnel (核心路徑漏斗), {funnel_day}", title_justify="left")
        funnel.add_column("step")
        funnel.add_column("sessions", justify="right")
        funnel.add_column("from step 1", justify="right")
        for _day, step, sessions, rate in results["funnel"]:
            funnel.add_row(str(step), n(sessions), f"{rate:.1%}" if rate is not None else "-")
        console.print(funnel)
    for title, rows in (
        ("top tracking-plan violations", results["violations"]),
        ("top rejection reasons", results["rejected"]),
    ):
        detail = Table(title=title, title_justify="left")
        detail.add_column("reason")
        detail.add_column("rows", justify="right")
        for reason, count in rows:
            detail.add_row(str(reason), n(count))
        console.print(detail)
