"""Row-level rules: which landing rows are quarantined instead of loaded, and why.

Each rule is a SQL predicate over one staged landing row (every CSV field as text, empty = NULL) that is true
when the row is unusable, with the field at fault and a plain reason. The first rule a row breaks decides its
reason code. A rule may use:

* ``{date}``: the partition's service date (a ``date`` parameter, bound once per statement);
* ``{staged:<table>}``: the accepted rows of another table staged in the same load (vehicles -> depots);
* ``raw.<table>``: what earlier loads stored (stop events -> the orders of the date).

Rows that are valid but odd (an order far from every depot, a parcel heavier than any van) are *not*
quarantined: they reach the planner, which explains them as unassigned with a reason, and the data checks
(Great Expectations) warn about them.
"""

from __future__ import annotations

from dataclasses import dataclass

QUARANTINE_REASONS: dict[str, str] = {
    "MALFORMED_LINE": "The line does not split into the header's number of fields (a stray delimiter or quote).",
    "MISSING_VALUE": "A required field is empty.",
    "DUPLICATE_ID": "The id appeared earlier in the same file; the first occurrence was loaded.",
    "WRONG_DATE": "The row belongs to another service date than the file's.",
    "BAD_ENUM": "The value is not one the contract allows.",
    "BAD_NUMBER": "The value is not a number (decimal mark is '.').",
    "NON_POSITIVE": "The value must be greater than zero.",
    "OUT_OF_RANGE": "The value is outside its physically possible range.",
    "BAD_COORDINATES": "Latitude/longitude are missing, not numbers, outside [-90, 90] x [-180, 180], or 0/0.",
    "BAD_TIME": "The time of day is not HH:MM.",
    "BAD_TIMESTAMP": "The timestamp is not ISO 8601 with a time zone offset (or Z for UTC).",
    "BAD_WINDOW": "The time window is incomplete, ends before it starts, or lies on another day.",
    "BAD_TIMEZONE": "The time zone is not an IANA name such as Europe/Vaduz.",
    "OUT_OF_DAY": "The timestamp is not within the service date.",
    "UNKNOWN_DEPOT": "The depot id is not in depots.csv.",
    "UNKNOWN_VEHICLE_TYPE": "The vehicle type is not in vehicle_types.csv.",
    "UNKNOWN_VEHICLE": "The vehicle id is not in the fleet master data of the date.",
    "UNKNOWN_ORDER": "The order id is not among the orders of the date.",
    "ORDER_EXISTS": "A new order (order change 'new') whose id is already among the morning orders of the date.",
    "BAD_SHIPMENT": (
        "The shipment id is not on exactly one pickup and one delivery of the file's accepted rows: a lone end, or "
        "two ends of the same type; every row of the shipment is quarantined."
    ),
}
"""Reason code -> what it means; every ``quarantine.*`` row carries one of these codes."""


@dataclass(frozen=True)
class RowRule:
    """One way a row can be unusable: ``bad`` is true for such rows; ``reason`` is a SQL text expression."""

    code: str
    field: str | None
    bad: str
    reason: str


def _num(column: str) -> str:
    return f"try_cast({column} as double)"


def _q(column: str) -> str:
    """SQL text expression quoting a field's value for a reason message."""
    return f"'''' || coalesce({column}, '') || ''''"


def _missing(column: str) -> RowRule:
    return RowRule("MISSING_VALUE", column, f"{column} is null", f"'{column} is empty'")


def _duplicate(column: str) -> RowRule:
    return RowRule(
        "DUPLICATE_ID",
        column,
        f"row_number() over (partition by {column} order by _source_row) > 1",
        f"'{column} ' || {_q(column)} || ' already on line ' || (min(_source_row) over (partition by {column}) + 1)",
    )


def _number(column: str, positive: bool = False, low: float | None = None, high: float | None = None) -> list[RowRule]:
    rules = [
        RowRule(
            "BAD_NUMBER",
            column,
            f"{column} is not null and {_num(column)} is null",
            f"'{column} ' || {_q(column)} || ' is not a number'",
        )
    ]
    if positive:
        rules.append(
            RowRule("NON_POSITIVE", column, f"{_num(column)} <= 0", f"'{column} ' || {column} || ' is not above 0'")
        )
    if low is not None and high is not None:
        rules.append(
            RowRule(
                "OUT_OF_RANGE",
                column,
                f"{_num(column)} not between {low} and {high}",
                f"'{column} ' || {column} || ' is outside {low:g}..{high:g}'",
            )
        )
    return rules


def _whole(column: str, low: int, high: int) -> list[RowRule]:
    """An optional whole number in ``low..high`` (DuckDB's cast would round '2.5' to 3, so match digits)."""
    return [
        RowRule(
            "BAD_NUMBER",
            column,
            f"{column} is not null and not regexp_full_match(trim({column}), '[0-9]+')",
            f"'{column} ' || {_q(column)} || ' is not a whole number'",
        ),
        RowRule(
            "OUT_OF_RANGE",
            column,
            f"try_cast({column} as bigint) not between {low} and {high}",
            f"'{column} ' || {column} || ' is outside {low}..{high}'",
        ),
    ]


def _coordinates(required: bool = True) -> RowRule:
    lat, lon = _num("lat"), _num("lon")
    present = "" if required else "(lat is not null or lon is not null) and "
    return RowRule(
        "BAD_COORDINATES",
        "lat/lon",
        f"{present}({lat} is null or {lon} is null or {lat} not between -90 and 90 "
        f"or {lon} not between -180 and 180 or ({lat} = 0 and {lon} = 0))",
        f"'lat/lon ' || {_q('lat')} || ', ' || {_q('lon')} || ' is not a position'",
    )


def _enum(column: str, values: tuple[str, ...], required: bool = True) -> RowRule:
    allowed = ", ".join(f"'{v}'" for v in values)
    bad = f"lower(trim({column})) not in ({allowed})"
    if required:
        bad = f"{column} is null or {bad}"
    return RowRule("BAD_ENUM", column, bad, f"'{column} ' || {_q(column)} || ' is not one of {', '.join(values)}'")


def _words(column: str, values: tuple[str, ...]) -> RowRule:
    allowed = ", ".join(f"'{v}'" for v in values)
    return RowRule(
        "BAD_ENUM",
        column,
        f"{column} is not null and len(list_filter(string_split(trim({column}), ' '), "
        f"w -> w <> '' and w not in ({allowed}))) > 0",
        f"'{column} ' || {_q(column)} || ' has a word outside {' '.join(values)}'",
    )


def _hhmm(column: str) -> RowRule:
    return RowRule(
        "BAD_TIME",
        column,
        f"{column} is null or not regexp_full_match(trim({column}), '([01][0-9]|2[0-3]):[0-5][0-9]|24:00')",
        f"'{column} ' || {_q(column)} || ' is not HH:MM'",
    )


def _hhmm_order(start: str, end: str) -> RowRule:
    return RowRule(
        "BAD_WINDOW", end, f"trim({end}) <= trim({start})", f"'{end} ' || {end} || ' is not after {start} ' || {start}"
    )


# Timestamps carry an offset ('Z' or +01:00): a bare local time would be read in the loader's time zone.
_TS_SHAPE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})"


def _timestamp(column: str, required: bool = True) -> RowRule:
    bad = f"not regexp_full_match(trim({column}), '{_TS_SHAPE}') or try_cast({column} as timestamptz) is null"
    bad = f"{column} is null or {bad}" if required else f"{column} is not null and ({bad})"
    return RowRule("BAD_TIMESTAMP", column, bad, f"'{column} ' || {_q(column)} || ' is not an ISO 8601 timestamp'")


def _utc_midnight(date_sql: str) -> str:
    """Midnight UTC of a date as timestamptz, whatever the session's time zone."""
    return f"timezone('UTC', cast({date_sql} as timestamp))"


def _within_day(column: str) -> RowRule:
    # Within the service date in any European time zone, with slack for late returns: 22:00 UTC the day
    # before to 06:00 UTC the day after.
    ts = f"try_cast({column} as timestamptz)"
    return RowRule(
        "OUT_OF_DAY",
        column,
        f"{ts} not between {_utc_midnight('{date}')} - interval 2 hour "
        f"and {_utc_midnight('{date}')} + interval 30 hour",
        f"'{column} ' || {column} || ' is not on ' || {{date}}",
    )


def _wrong_date() -> RowRule:
    return RowRule(
        "WRONG_DATE",
        "service_date",
        "service_date is distinct from cast({date} as varchar)",
        f"'service_date ' || {_q('service_date')} || ' is not ' || {{date}}",
    )


def _known(column: str, code: str, source: str, key: str, optional: bool = False) -> RowRule:
    bad = f"{column} not in (select {key} from {source})"
    if optional:
        bad = f"{column} is not null and {bad}"
    return RowRule(code, column, bad, f"'{column} ' || {_q(column)} || ' is unknown'")


def _window() -> list[RowRule]:
    start, end = "try_cast(window_start as timestamptz)", "try_cast(window_end as timestamptz)"
    return [
        RowRule(
            "BAD_WINDOW",
            "window_start/window_end",
            "(window_start is null) <> (window_end is null)",
            "'window_start/window_end: only one of the two is given'",
        ),
        _timestamp("window_start", required=False),
        _timestamp("window_end", required=False),
        RowRule(
            "BAD_WINDOW",
            "window_end",
            f"{end} <= {start}",
            "'window_end ' || window_end || ' is not after window_start ' || window_start",
        ),
        RowRule(
            "BAD_WINDOW",
            "window_start",
            # The local date is the one written in the value (its offset is local): no time zone lookup.
            f"left(trim(window_start), 10) <> cast({{date}} as varchar) "
            f"or {end} > {_utc_midnight('{date}')} + interval 30 hour",
            "'window ' || window_start || ' .. ' || window_end || ' is not on ' || {date}",
        ),
    ]


def _second_window() -> list[RowRule]:
    """``window2_start`` / ``window2_end``: a second window, after the first one, on the same day."""
    start, end = "try_cast(window2_start as timestamptz)", "try_cast(window2_end as timestamptz)"
    return [
        RowRule(
            "BAD_WINDOW",
            "window2_start/window2_end",
            "(window2_start is null) <> (window2_end is null)",
            "'window2_start/window2_end: only one of the two is given'",
        ),
        _timestamp("window2_start", required=False),
        _timestamp("window2_end", required=False),
        RowRule(
            "BAD_WINDOW",
            "window2_start",
            "window2_start is not null and window_start is null",
            "'window2 ' || window2_start || ' .. ' || window2_end || ' given without a first window'",
        ),
        RowRule(
            "BAD_WINDOW",
            "window2_end",
            f"{end} <= {start}",
            "'window2_end ' || window2_end || ' is not after window2_start ' || window2_start",
        ),
        RowRule(
            "BAD_WINDOW",
            "window2_start",
            f"{start} < try_cast(window_end as timestamptz)",
            "'window2_start ' || window2_start || ' is before window_end ' || window_end || "
            "' (the second window follows the first)'",
        ),
        RowRule(
            "BAD_WINDOW",
            "window2_start",
            f"left(trim(window2_start), 10) <> cast({{date}} as varchar) "
            f"or {end} > {_utc_midnight('{date}')} + interval 30 hour",
            "'window2 ' || window2_start || ' .. ' || window2_end || ' is not on ' || {date}",
        ),
    ]


ROW_RULES: dict[str, tuple[RowRule, ...]] = {
    "depots": (
        _missing("depot_id"),
        _duplicate("depot_id"),
        _coordinates(),
        _hhmm("opens"),
        _hhmm("closes"),
        _hhmm_order("opens", "closes"),
        RowRule(
            "BAD_TIMEZONE",
            "timezone",
            "timezone is null or trim(timezone) not in (select name from pg_timezone_names())",
            f"'timezone ' || {_q('timezone')} || ' is not an IANA time zone'",
        ),
        *_whole("reload_min", 0, 600),
    ),
    "vehicle_types": (
        _missing("vehicle_type"),
        _duplicate("vehicle_type"),
        *_number("capacity_kg", positive=True),
        *_number("capacity_l", positive=True),
        *_number("avg_speed_kmh", positive=True),
        *[
            rule
            for c in ("cost_per_km_eur", "cost_per_hour_eur", "cost_per_day_eur")
            for rule in _number(c, low=0, high=1e6)
        ],
        *_whole("capacity_parcels", 1, 1_000_000),
        *_whole("max_reloads", 0, 20),
        *_number("max_route_km", positive=True),
        *_number("max_route_hours", positive=True, low=0, high=24),
        *_whole("max_overtime_min", 0, 720),
        *_number("overtime_cost_per_hour_eur", low=0, high=1e6),
        *_whole("break_min", 0, 480),
        *_number("break_after_h", low=0, high=24),
        RowRule(
            "MISSING_VALUE",
            "break_after_h",
            "try_cast(break_min as bigint) > 0 and break_after_h is null",
            "'break_after_h is empty but break_min is ' || break_min",
        ),
    ),
    "vehicles": (
        _missing("vehicle_id"),
        _duplicate("vehicle_id"),
        _known("depot_id", "UNKNOWN_DEPOT", "{staged:depots}", "depot_id"),
        _known("vehicle_type", "UNKNOWN_VEHICLE_TYPE", "{staged:vehicle_types}", "vehicle_type"),
        _known("start_depot_id", "UNKNOWN_DEPOT", "{staged:depots}", "depot_id", optional=True),
        _known("end_depot_id", "UNKNOWN_DEPOT", "{staged:depots}", "depot_id", optional=True),
        _hhmm("shift_start"),
        _hhmm("shift_end"),
        _hhmm_order("shift_start", "shift_end"),
        _words("work_days", ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")),
    ),
    "orders": (
        _missing("order_id"),
        _duplicate("order_id"),
        _wrong_date(),
        _missing("customer_id"),
        _enum("order_type", ("delivery", "pickup")),
        _enum("site_type", ("house", "apartment", "business")),
        _enum("priority", ("optional", "normal", "high", "mandatory"), required=False),
        _coordinates(),
        RowRule(
            "BAD_NUMBER",
            "parcels",
            "parcels is null or try_cast(parcels as integer) is null or try_cast(parcels as integer) < 1",
            f"'parcels ' || {_q('parcels')} || ' is not a whole number of at least 1'",
        ),
        _missing("weight_kg"),
        *_number("weight_kg", positive=True),
        _missing("volume_l"),
        *_number("volume_l", positive=True),
        *_window(),
        *_second_window(),
        *_number("unserved_penalty_eur", low=0, high=1e6),
        _timestamp("created_at_utc", required=False),
    ),
    "stop_events": (
        _missing("event_id"),
        _duplicate("event_id"),
        _wrong_date(),
        _enum("event_type", ("depot_departure", "arrived", "delivered", "failed", "depot_return")),
        _timestamp("ts_utc"),
        _within_day("ts_utc"),
        _known("vehicle_id", "UNKNOWN_VEHICLE", "raw.vehicles where service_date = {date}", "vehicle_id"),
        RowRule(
            "MISSING_VALUE",
            "order_id",
            "order_id is null and lower(trim(event_type)) in ('arrived', 'delivered', 'failed')",
            "'order_id is empty on a ' || event_type || ' event'",
        ),
        _known("order_id", "UNKNOWN_ORDER", "raw.orders where service_date = {date}", "order_id", optional=True),
        _coordinates(required=False),
    ),
    "ratings": (
        _missing("order_id"),
        _duplicate("order_id"),
        _known("order_id", "UNKNOWN_ORDER", "raw.orders where service_date = {date}", "order_id"),
        RowRule(
            "OUT_OF_RANGE",
            "rating",
            "rating is null or try_cast(rating as integer) is null or try_cast(rating as integer) not between 1 and 5",
            f"'rating ' || {_q('rating')} || ' is not a whole number 1..5'",
        ),
        _timestamp("rated_at_utc"),
    ),
    "weather_observations": (
        _timestamp("observed_at_utc"),
        _duplicate("observed_at_utc"),
        _within_day("observed_at_utc"),
        *_number("temperature_c", low=-60, high=60),
        *_number("precipitation_mm", low=0, high=300),
        *_number("wind_kmh", low=0, high=400),
    ),
    "weather_forecasts": (
        _timestamp("issued_at_utc"),
        _timestamp("valid_at_utc"),
        _duplicate("valid_at_utc"),
        *_number("temperature_c", low=-60, high=60),
        *_number("precipitation_mm", low=0, high=300),
        *_number("precipitation_probability", low=0, high=1),
    ),
}
"""Landing table -> its row rules, in the order they are tried."""

_CHANGE_TYPE = "lower(trim(change_type))"


def _when(condition: str, rules) -> tuple[RowRule, ...]:
    """The rules, applied only to rows where the SQL ``condition`` holds."""
    return tuple(RowRule(r.code, r.field, f"({condition}) and ({r.bad})", r.reason) for r in rules)


# Live drops (issue 7, docs/replanning.md section 1). Events: as the daily stop events, plus `breakdown`, and an
# order may be one placed during the day (a 'new' change of the same load or an earlier one).
_LIVE_EVENT_TYPES = ("depot_departure", "arrived", "delivered", "failed", "depot_return", "breakdown")
_ORDERS_OF_DATE = (
    "(select order_id from raw.orders where service_date = {date} union all "
    "select order_id from {staged:order_changes} where lower(trim(change_type)) = 'new')"
)
ROW_RULES["live_events"] = tuple(
    _enum("event_type", _LIVE_EVENT_TYPES)
    if rule.code == "BAD_ENUM" and rule.field == "event_type"
    else _known("order_id", "UNKNOWN_ORDER", _ORDERS_OF_DATE, "order_id", optional=True)
    if rule.code == "UNKNOWN_ORDER"
    else rule
    for rule in ROW_RULES["stop_events"]
)
# Live weather: the weather station's hourly observations, as the daily file's, with a condition the planner's
# travel model knows (the weather sensor and the nowcast read it).
ROW_RULES["live_weather"] = (
    *ROW_RULES["weather_observations"],
    _enum("condition", ("dry", "rain", "heavy_rain", "snow")),
)
# Order changes: a `new` row carries a whole order (every order rule applies), a `window` row the new window(s),
# a `cancel` row only the order id. Changes of an order that is neither a morning order nor placed by a `new`
# change are UNKNOWN_ORDER; a `new` for a morning order's id is ORDER_EXISTS. The same order may change many
# times (a later change wins), so its id may repeat.
_ORDER_ROW_RULES = tuple(r for r in ROW_RULES["orders"] if r.field not in ("order_id", "service_date"))
ROW_RULES["order_changes"] = (
    _missing("change_id"),
    _duplicate("change_id"),
    _missing("order_id"),
    _enum("change_type", ("new", "cancel", "window")),
    _timestamp("received_at_utc"),
    _within_day("received_at_utc"),
    RowRule(
        "WRONG_DATE",
        "service_date",
        f"(service_date is not null or {_CHANGE_TYPE} = 'new') "
        "and service_date is distinct from cast({date} as varchar)",
        f"'service_date ' || {_q('service_date')} || ' is not ' || {{date}}",
    ),
    RowRule(
        "ORDER_EXISTS",
        "order_id",
        f"{_CHANGE_TYPE} = 'new' and order_id in (select order_id from raw.orders where service_date = {{date}})",
        f"'order_id ' || {_q('order_id')} || ' is already a morning order of ' || {{date}}",
    ),
    RowRule(
        "UNKNOWN_ORDER",
        "order_id",
        f"{_CHANGE_TYPE} <> 'new' and order_id not in (select order_id from raw.orders where service_date = {{date}}) "
        "and order_id not in (select order_id from _landing_rows where lower(trim(change_type)) = 'new')",
        f"'order_id ' || {_q('order_id')} || ' is neither an order of the date nor placed by a new change'",
    ),
    *_when(f"{_CHANGE_TYPE} = 'new'", _ORDER_ROW_RULES),
    RowRule(
        "BAD_WINDOW",
        "window_start/window_end",
        f"{_CHANGE_TYPE} = 'window' and window_start is null and window_end is null",
        "'a window change without window_start and window_end'",
    ),
    *_when(f"{_CHANGE_TYPE} = 'window'", (*_window(), *_second_window())),
)

_SHIPMENT_ENDS = "partition by trim(shipment_id)"
_PICKUPS = f"count(*) filter (where lower(trim(order_type)) = 'pickup') over ({_SHIPMENT_ENDS})"
_DELIVERIES = f"count(*) filter (where lower(trim(order_type)) = 'delivery') over ({_SHIPMENT_ENDS})"

ACCEPTED_ROWS_RULES: dict[str, tuple[RowRule, ...]] = {
    "orders": (
        RowRule(
            "BAD_SHIPMENT",
            "shipment_id",
            f"shipment_id is not null and ({_PICKUPS} <> 1 or {_DELIVERIES} <> 1)",
            f"'shipment_id ' || {_q('shipment_id')} || ' has ' || {_PICKUPS} || ' pickup(s) and ' || {_DELIVERIES} "
            "|| ' delivery(ies) among the accepted rows; it needs exactly one of each'",
        ),
    ),
}
"""Rules over the rows that passed :data:`ROW_RULES` (window functions see only those rows), tried afterwards:
both ends of a shipment must arrive, so a pickup whose delivery was quarantined goes to quarantine as well."""

PINGS_RULES: tuple[RowRule, ...] = (
    RowRule("MISSING_VALUE", "vehicle_id", "vehicle_id is null", "'vehicle_id is empty'"),
    RowRule("BAD_TIMESTAMP", "ts_utc", "ts_utc is null", "'ts_utc is empty'"),
    RowRule(
        "BAD_COORDINATES",
        "lat/lon",
        "lat is null or lon is null or isnan(lat) or isnan(lon) or lat not between -90 and 90 "
        "or lon not between -180 and 180 or (lat = 0 and lon = 0)",
        "'lat/lon ' || coalesce(lat::varchar, '') || ', ' || coalesce(lon::varchar, '') || ' is not a position'",
    ),
    RowRule(
        "OUT_OF_DAY",
        "ts_utc",
        f"ts_utc not between {_utc_midnight('service_date')} - interval 2 hour "
        f"and {_utc_midnight('service_date')} + interval 30 hour",
        "'ts_utc ' || ts_utc::varchar || ' is not on ' || service_date::varchar",
    ),
    RowRule(
        "UNKNOWN_VEHICLE",
        "vehicle_id",
        "not exists (select 1 from raw.vehicles v where v.service_date = p.service_date "
        "and v.vehicle_id = p.vehicle_id)",
        "'vehicle_id ''' || vehicle_id || ''' is unknown'",
    ),
)
"""Rules for telematics fixes (typed Parquet columns; ``p`` is the staged fix, several dates at once)."""


def classify_sql(rules: tuple[RowRule, ...]) -> tuple[str, str, str]:
    """SQL ``case`` expressions for (reason_code, field, reason): the first rule a row breaks, else NULL."""
    code = " ".join(f"when {r.bad} then '{r.code}'" for r in rules)
    field = " ".join(f"when {r.bad} then {_field_literal(r.field)}" for r in rules)
    reason = " ".join(f"when {r.bad} then {r.reason}" for r in rules)
    return f"case {code} end", f"case {field} end", f"case {reason} end"


def _field_literal(field: str | None) -> str:
    return "null" if field is None else f"'{field}'"
