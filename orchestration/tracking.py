"""Customer tracking (issue 8): one unguessable token per order and service date, and the serving table
``tracking`` that the customer-facing app (``dashboard/tracking_app.py``) reads.

Tokens live in ``plans.tracking_tokens(order_id, service_date, token, created_at_utc)``: created once, by
:func:`ensure_tracking_tokens` before every publish, for every order of a date's current plan (routed or left
unassigned) and of its live state, and never changed afterwards, so a link sent to a customer keeps working across
re-publishes and re-plans. A token is ``secrets.token_urlsafe(32)``: 256 random bits, 43 characters of
``[A-Za-z0-9_-]``; it says nothing about the order, the customer or the date.

The ``tracking`` table (:func:`tracking_queries`) has one row per token with the order's status and the current
ETA window, from the newest information the warehouse holds: what happened (``marts.fct_deliveries``), the date's
latest live state (``plans.live_stops``, ``plans.live_vehicles``), order changes (``intermediate.int_live_orders``)
and the current plan (``marts.fct_planned_stops``, ``marts.fct_plan_unassigned``, the stop status of
``plans.stops``). See docs/tracking.md for the rules.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

TOKEN_BYTES = 32
"""Random bytes per token: 256 bits, written as 43 URL-safe base64 characters."""
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
"""What every token matches in full (``secrets.token_urlsafe(TOKEN_BYTES)``)."""
TRACKING_STATUSES = ("planned", "out_for_delivery", "delivered", "failed", "cancelled", "not_planned")
"""Values of ``tracking.status``."""
# The ETA window's rules, as the tracking query writes them (its SQL holds the same numbers).
PLANNED_WINDOW_S = 3600
"""Width of the ETA window while the parcel is planned (not on its way yet)."""
OUT_FOR_DELIVERY_WINDOW_S = 1800
"""Width of the ETA window once the parcel is on the vehicle and the vehicle is on the road."""
WINDOW_ROUNDING_S = 900
"""ETA windows start on a quarter hour."""

TOKENS_DDL = (
    "create schema if not exists plans",
    """create table if not exists plans.tracking_tokens (
        order_id varchar not null, service_date date not null, token varchar not null unique,
        created_at_utc timestamptz not null, primary key (order_id, service_date))""",
)

# Where orders that need a token come from (all optional): the current plans' routed and unassigned orders, and
# the live state's orders (intraday orders no plan holds yet, cancelled ones).
_TOKEN_SOURCES = {
    ("marts", "fct_planned_stops"): "select service_date, order_id from marts.fct_planned_stops",
    ("marts", "fct_plan_unassigned"): "select service_date, order_id from marts.fct_plan_unassigned",
    ("plans", "live_stops"): "select service_date, order_id from plans.live_stops",
}
_MISSING_TOKENS_SQL = """
select distinct cast(service_date as date) as service_date, cast(order_id as varchar) as order_id
from _tracking_orders
where order_id is not null and service_date is not null
    and not exists (
        select 1 from plans.tracking_tokens as t
        where t.order_id = _tracking_orders.order_id and t.service_date = _tracking_orders.service_date
    )
order by service_date, order_id"""
_INSERT_TOKENS_SQL = """
insert or ignore into plans.tracking_tokens (order_id, service_date, token, created_at_utc)
select order_id, service_date, token, created_at_utc from _new_tracking_tokens"""

# The tracking query's inputs: one CTE per source, read from the warehouse when the relation exists, else an empty
# relation with the same columns (a warehouse without live data or actuals, or from before a feature).
_SOURCES: dict[str, tuple[tuple[str, str], str, str]] = {
    "planned": (
        ("marts", "fct_planned_stops"),
        """
    with stops as (
        select * from marts.fct_planned_stops
        union all by name
        select null::integer as trip where false
    )
    select
        cast(service_date as date) as service_date, plan_id, route_id, vehicle_id, sequence, order_id,
        street, postcode, town, tw_start_s, tw_end_s, service_start_s, departure_s, coalesce(trip, 1) as trip
    from stops""",
        """
    select
        null::date as service_date, null::varchar as plan_id, null::varchar as route_id,
        null::varchar as vehicle_id, null::integer as sequence, null::varchar as order_id, null::varchar as street,
        null::varchar as postcode, null::varchar as town, null::integer as tw_start_s, null::integer as tw_end_s,
        null::integer as service_start_s, null::integer as departure_s, null::integer as trip
    where false""",
    ),
    "stop_status": (
        ("plans", "stops"),
        """
    with stops as (
        select * from plans.stops
        union all by name
        select null::varchar as status where false
    )
    select plan_id, route_id, sequence, coalesce(status, 'planned') as status from stops""",
        """
    select null::varchar as plan_id, null::varchar as route_id, null::integer as sequence, null::varchar as status
    where false""",
    ),
    "unassigned": (
        ("marts", "fct_plan_unassigned"),
        """
    with unassigned as (
        select * from marts.fct_plan_unassigned
        union all by name
        select null::integer as tw_start_s, null::integer as tw_end_s where false
    )
    select distinct
        cast(service_date as date) as service_date, order_id, street, postcode, town, tw_start_s, tw_end_s
    from unassigned""",
        """
    select
        null::date as service_date, null::varchar as order_id, null::varchar as street, null::varchar as postcode,
        null::varchar as town, null::integer as tw_start_s, null::integer as tw_end_s
    where false""",
    ),
    "orders": (
        ("marts", "fct_orders_to_plan"),
        """
    select distinct on (service_date, order_id)
        cast(service_date as date) as service_date, order_id, street, postcode, town, tw_start_s, tw_end_s
    from marts.fct_orders_to_plan""",
        """
    select
        null::date as service_date, null::varchar as order_id, null::varchar as street, null::varchar as postcode,
        null::varchar as town, null::integer as tw_start_s, null::integer as tw_end_s
    where false""",
    ),
    # Only orders changed during the day: placed (their address), cancelled, or with a new window.
    "live_orders": (
        ("intermediate", "int_live_orders"),
        """
    select distinct on (service_date, order_id)
        cast(service_date as date) as service_date, order_id, street, postcode, town, tw_start_s, tw_end_s, status
    from intermediate.int_live_orders
    where source = 'intraday' or status = 'cancelled' or changed_at_utc is not null""",
        """
    select
        null::date as service_date, null::varchar as order_id, null::varchar as street, null::varchar as postcode,
        null::varchar as town, null::integer as tw_start_s, null::integer as tw_end_s, null::varchar as status
    where false""",
    ),
    "live_stops": (
        ("plans", "live_stops"),
        """
    with latest as (
        select * from plans.live_stops
        qualify as_of_s = max(as_of_s) over (partition by service_date)
    )
    select cast(service_date as date) as service_date, plan_id, order_id, vehicle_id, status, eta_s
    from latest
    qualify row_number() over (
        partition by service_date, order_id order by status = 'failed', sequence desc nulls last
    ) = 1""",
        """
    select
        null::date as service_date, null::varchar as plan_id, null::varchar as order_id,
        null::varchar as vehicle_id, null::varchar as status, null::integer as eta_s
    where false""",
    ),
    "live_vehicles": (
        ("plans", "live_vehicles"),
        """
    select cast(service_date as date) as service_date, vehicle_id, status
    from plans.live_vehicles
    qualify as_of_s = max(as_of_s) over (partition by service_date)""",
        """
    select null::date as service_date, null::varchar as vehicle_id, null::varchar as status
    where false""",
    ),
    "deliveries": (
        ("marts", "fct_deliveries"),
        """
    select cast(service_date as date) as service_date, order_id, outcome, actual_arrival_s, actual_departure_s
    from marts.fct_deliveries""",
        """
    select
        null::date as service_date, null::varchar as order_id, null::varchar as outcome,
        null::integer as actual_arrival_s, null::integer as actual_departure_s
    where false""",
    ),
}

# One row per token. Status, first rule that holds:
#   delivered / failed          what happened on the day (fct_deliveries; not attempted by the day's end = failed);
#   cancelled                   the order was withdrawn (order changes, or the live state says so);
#   delivered                   the live state or the current plan (a re-plan's finished stops) says so;
#   planned / out_for_delivery  the current plan retries it after a failed attempt;
#   failed                      the live state or the current plan says the attempt failed;
#   planned / out_for_delivery  the current plan routes it: out for delivery when it is the committed stop, or its
#                               vehicle is on the road and the stop is on the vehicle's current trip;
#   not_planned                 anything else (left unassigned, or no plan yet).
# ETA: the live state's re-timed arrival when the live state belongs to the current plan (newer than the plan),
# else the plan's service start; never before the window opens (the driver waits). Window: PLANNED_WINDOW_S or
# OUT_FOR_DELIVERY_WINDOW_S wide, centred on the ETA, starting on the nearest quarter hour, and not starting before
# the quarter hour the delivery window opens in. Delivered at: the day's actual completion (else arrival), else the
# time of the delivered event a re-plan's finished stop carries, else the live state's arrival.
_TRACKING_SELECT = """
plan_stops as (
    select
        p.*,
        coalesce(s.status, 'planned') as stop_status,
        count(*) filter (where s.status = 'failed') over (partition by p.plan_id, p.order_id) > 0 as had_failed,
        min(p.trip) filter (where coalesce(s.status, 'planned') in ('planned', 'committed'))
            over (partition by p.plan_id, p.vehicle_id) as open_trip
    from planned as p
    left join stop_status as s on s.plan_id = p.plan_id and s.route_id = p.route_id and s.sequence = p.sequence
    qualify row_number() over (
        partition by p.service_date, p.order_id order by coalesce(s.status, 'planned') = 'failed', p.sequence desc
    ) = 1
),

joined as (
    select
        t.token,
        t.order_id,
        t.service_date,
        coalesce(p.street, u.street, lo.street, o.street) as street,
        coalesce(p.postcode, u.postcode, lo.postcode, o.postcode) as postcode,
        coalesce(p.town, u.town, lo.town, o.town) as town,
        coalesce(lo.tw_start_s, p.tw_start_s, u.tw_start_s, o.tw_start_s) as tw_start_s,
        coalesce(lo.tw_end_s, p.tw_end_s, u.tw_end_s, o.tw_end_s) as tw_end_s,
        p.order_id is not null as is_routed,
        p.stop_status,
        p.had_failed,
        p.departure_s as plan_departure_s,
        p.stop_status = 'committed'
            or (ls.plan_id = p.plan_id and ls.status = 'committed')
            or (lv.status in ('driving', 'at_stop') and p.trip = p.open_trip) as is_on_its_way,
        case when ls.plan_id = p.plan_id then ls.eta_s else p.service_start_s end as raw_eta_s,
        ls.status as live_status,
        ls.eta_s as live_eta_s,
        lo.status as order_status,
        d.outcome,
        d.actual_arrival_s,
        d.actual_departure_s
    from tokens as t
    left join plan_stops as p on p.service_date = t.service_date and p.order_id = t.order_id
    left join unassigned as u on u.service_date = t.service_date and u.order_id = t.order_id
    left join orders as o on o.service_date = t.service_date and o.order_id = t.order_id
    left join live_orders as lo on lo.service_date = t.service_date and lo.order_id = t.order_id
    left join live_stops as ls on ls.service_date = t.service_date and ls.order_id = t.order_id
    left join live_vehicles as lv
        on lv.service_date = t.service_date and lv.vehicle_id = coalesce(ls.vehicle_id, p.vehicle_id)
    left join deliveries as d on d.service_date = t.service_date and d.order_id = t.order_id
),

with_status as (
    select
        *,
        case
            when outcome = 'delivered' then 'delivered'
            when outcome in ('failed', 'not_attempted') then 'failed'
            when order_status = 'cancelled' or live_status = 'cancelled' then 'cancelled'
            when live_status = 'delivered' or stop_status = 'delivered' then 'delivered'
            when stop_status in ('planned', 'committed') and had_failed
                then case when is_on_its_way then 'out_for_delivery' else 'planned' end
            when live_status = 'failed' or stop_status = 'failed' then 'failed'
            when is_routed then case when is_on_its_way then 'out_for_delivery' else 'planned' end
            else 'not_planned'
        end as status
    from joined
),

with_eta as (
    select
        *,
        case when raw_eta_s < tw_start_s then tw_start_s else raw_eta_s end as eta_s,
        case when status = 'out_for_delivery' then 1800 else 3600 end
            as window_s
    from with_status
    where status in ('planned', 'out_for_delivery')
),

windows as (
    select
        token,
        greatest(
            cast(round((eta_s - window_s / 2) / 900) as integer) * 900,
            cast(floor(tw_start_s / 900) as integer) * 900
        ) as eta_from_s,
        window_s
    from with_eta
    where eta_s is not null
)

select
    cast(s.token as varchar) as token,
    cast(s.order_id as varchar) as order_id,
    cast(s.service_date as date) as service_date,
    cast(s.street as varchar) as street,
    cast(s.postcode as varchar) as postcode,
    cast(s.town as varchar) as town,
    cast(s.tw_start_s as integer) as tw_start_s,
    cast(s.tw_end_s as integer) as tw_end_s,
    cast(s.status as varchar) as status,
    cast(w.eta_from_s as integer) as eta_from_s,
    cast(w.eta_from_s + w.window_s as integer) as eta_to_s,
    cast(
        case
            when s.status = 'delivered' then coalesce(
                s.actual_departure_s,
                s.actual_arrival_s,
                case when s.stop_status = 'delivered' then s.plan_departure_s end,
                case when s.live_status = 'delivered' then s.live_eta_s end
            )
        end as integer
    ) as delivered_at_s,
    cast(get_current_timestamp() as timestamptz) as updated_at_utc
from with_status as s
left join windows as w on w.token = s.token
order by s.token"""


def new_token() -> str:
    """A fresh tracking token: ``secrets.token_urlsafe(TOKEN_BYTES)``, 256 random bits in 43 URL-safe characters."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_token(text: object) -> bool:
    """Whether ``text`` has the exact shape of a tracking token (checked before any query uses it)."""
    return isinstance(text, str) and TOKEN_PATTERN.fullmatch(text) is not None


def _relations(conn: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """(schema, name) of every table and view of the warehouse's own catalog."""
    return {
        (schema, name)
        for schema, name in conn.execute(
            "select table_schema, table_name from information_schema.tables where table_catalog = current_database()"
        ).fetchall()
    }


def ensure_tracking_tokens(conn: duckdb.DuckDBPyConnection) -> int:
    """Give every order of every date that has none a tracking token, in one transaction.

    The orders are those of the dates' current plans (``marts.fct_planned_stops``, ``marts.fct_plan_unassigned``)
    and of their live states (``plans.live_stops``), whichever exist. Existing tokens are never changed: a token
    is only inserted for an (order, date) pair without one (``insert or ignore`` on the primary key).

    Parameters
    ----------
    conn
        Connection to the warehouse, writable.

    Returns
    -------
    int
        The number of tokens created.
    """
    relations = _relations(conn)
    sources = [sql for relation, sql in _TOKEN_SOURCES.items() if relation in relations]
    for statement in TOKENS_DDL:
        conn.execute(statement)
    if not sources:
        return 0
    # The queries are the fixed texts above, chosen by which relations exist; nothing of them is input.
    union = " union all ".join(sources)
    conn.execute("begin transaction")
    try:
        conn.execute("create or replace temp view _tracking_orders as " + union)
        missing = conn.execute(_MISSING_TOKENS_SQL).fetchall()
        if missing:
            created = datetime.now(UTC)
            rows = pa.table(
                {
                    "order_id": pa.array([order_id for _, order_id in missing], pa.string()),
                    "service_date": pa.array([service_date for service_date, _ in missing], pa.date32()),
                    "token": pa.array([new_token() for _ in missing], pa.string()),
                    "created_at_utc": pa.array([created] * len(missing), pa.timestamp("us", tz="UTC")),
                }
            )
            conn.register("_new_tracking_tokens", rows)
            try:
                conn.execute(_INSERT_TOKENS_SQL)
            finally:
                conn.unregister("_new_tracking_tokens")
        conn.execute("drop view _tracking_orders")
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    return len(missing)


def tracking_sql(relations: set[tuple[str, str]]) -> str:
    """The query of the ``tracking`` table over the warehouse relations present (see :func:`tracking_queries`)."""
    ctes = ["tokens as (\n    select token, order_id, cast(service_date as date) as service_date\n"
            "    from plans.tracking_tokens\n)"]  # fmt: skip
    for name, (relation, present, absent) in _SOURCES.items():
        ctes.append(name + " as (" + (present if relation in relations else absent) + "\n)")
    # Every piece is one of the fixed texts of this module: no input reaches the SQL text.
    return "with " + ",\n\n".join(ctes) + ",\n" + _TRACKING_SELECT


def tracking_queries(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """``tracking`` (one row per token) once the warehouse has ``plans.tracking_tokens``; none before.

    Columns: ``token, order_id, service_date, street, postcode, town, tw_start_s, tw_end_s, status``
    (:data:`TRACKING_STATUSES`), ``eta_from_s, eta_to_s`` (the ETA window in seconds after local midnight, set
    while the status is ``planned`` or ``out_for_delivery``), ``delivered_at_s`` (set when delivered) and
    ``updated_at_utc`` (when the row was computed: the publish). Ordered by token, so a reader looking up one
    token skips most of the file by the row groups' statistics.
    """
    relations = _relations(conn)
    if ("plans", "tracking_tokens") not in relations:
        return {}
    return {"tracking": tracking_sql(relations)}
