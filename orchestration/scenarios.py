"""What-if scenarios (issue 8, docs/scenarios.md): the spec, how it changes a date's planning problems, and the
serving tables that compare a what-if plan with the date's current plan.

A :class:`ScenarioSpec` names a service date and what to change before solving it: the fleet per depot and vehicle
type, every vehicle's shift, how much wider every delivery window is, and the solver's budget and seed.
:func:`apply_scenario` turns the date's problems (:func:`orchestration.planning_inputs.prepare_problems`) into the
scenario's; the ``whatif`` job (``orchestration/assets/whatif.py``) solves them, stores the plan as kind ``whatif``
(never current) and, for a past date, plays it through the simulator. :func:`scenario_queries` publishes the
results for the app.

This module imports neither the solver nor Dagster, so the app can build and write a spec cheaply.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from solver import Order, Problem, Vehicle

DAY_S = 86_400
"""Seconds of a service day: shifts and widened windows stay within ``0..DAY_S``."""
MAX_WIDEN_MIN = 720
"""Largest window widening, minutes on each side (12 h: every window then covers the whole day)."""
MAX_TIME_BUDGET_S = 600.0
"""Largest solver budget per depot a what-if may ask for, seconds."""
MAX_VEHICLES_PER_TYPE = 200
"""Largest count of one vehicle type at one depot a what-if may ask for."""
MAX_NAME_CHARS = 80
COPY_MARK = "-X"
"""An added vehicle is named after the vehicle it copies: ``<vehicle_id>-X<n>`` (e.g. ``V-SCH-01-X1``)."""
BREAK_WINDOW_S = 7200
"""A break's start window is 2 h long (the rule of ``marts.fct_vehicle_days``), applied again on a new shift."""
_FIELDS = (
    "name", "service_date", "fleet", "shift_start_s", "shift_end_s", "window_widen_min", "time_budget_s", "seed"
)  # fmt: skip


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


@dataclass(frozen=True)
class ScenarioSpec:
    """What a what-if plan changes about a service date.

    Parameters
    ----------
    name
        The scenario's name, shown in the app (non-empty, at most 80 characters).
    service_date
        ISO date (``YYYY-MM-DD``) to plan: a past date (also played through the simulator) or a future one.
    fleet
        ``"<depot_id>/<vehicle_type>"`` -> number of vehicles of that type at that depot (0: none). A missing key
        keeps the date's fleet. More vehicles than the date has: copies of one of them (of the type's vehicle at
        another depot when the depot has none); fewer: the last ones by vehicle id are left out.
    shift_start_s, shift_end_s
        Every vehicle's shift start / end, seconds after local midnight (None: as in the fleet master).
    window_widen_min
        Every delivery window opens this many minutes earlier and closes this many later, clipped to the day
        (0: as ordered).
    time_budget_s
        Solver time budget per depot, seconds.
    seed
        Seed of the solver.
    """

    name: str
    service_date: str
    fleet: Mapping[str, int] = field(default_factory=dict)
    shift_start_s: int | None = None
    shift_end_s: int | None = None
    window_widen_min: int = 0
    time_budget_s: float = 10.0
    seed: int = 1

    def validate(self) -> None:
        """Check every field.

        Raises
        ------
        ValueError
            Naming the first field that is wrong, and why.
        """
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("name must be a non-empty text")
        if len(self.name) > MAX_NAME_CHARS:
            raise ValueError(f"name must be at most {MAX_NAME_CHARS} characters, got {len(self.name)}")
        try:
            dt.date.fromisoformat(str(self.service_date))
        except ValueError as error:
            raise ValueError(f"service_date must be an ISO date YYYY-MM-DD, got {self.service_date!r}") from error
        if not isinstance(self.service_date, str) or len(self.service_date) != 10:
            raise ValueError(f"service_date must be an ISO date YYYY-MM-DD, got {self.service_date!r}")
        if not isinstance(self.fleet, Mapping):
            raise ValueError(f"fleet must map '<depot_id>/<vehicle_type>' to a count, got {self.fleet!r}")
        for key, count in self.fleet.items():
            depot_id, _, vehicle_type = str(key).partition("/")
            if not isinstance(key, str) or not depot_id.strip() or not vehicle_type.strip() or "/" in vehicle_type:
                raise ValueError(f"fleet key must be '<depot_id>/<vehicle_type>', got {key!r}")
            if not _is_int(count) or not 0 <= count <= MAX_VEHICLES_PER_TYPE:
                raise ValueError(f"fleet[{key!r}] must be a whole number 0..{MAX_VEHICLES_PER_TYPE}, got {count!r}")
        for name in ("shift_start_s", "shift_end_s"):
            value = getattr(self, name)
            if value is not None and (not _is_int(value) or not 0 <= value <= DAY_S):
                raise ValueError(f"{name} must be whole seconds 0..{DAY_S} after midnight, got {value!r}")
        if self.shift_start_s is not None and self.shift_end_s is not None and self.shift_end_s <= self.shift_start_s:
            raise ValueError(f"shift_end_s ({self.shift_end_s}) must be after shift_start_s ({self.shift_start_s})")
        if not _is_int(self.window_widen_min) or not 0 <= self.window_widen_min <= MAX_WIDEN_MIN:
            raise ValueError(
                f"window_widen_min must be whole minutes 0..{MAX_WIDEN_MIN}, got {self.window_widen_min!r}"
            )
        budget = self.time_budget_s
        if (
            not isinstance(budget, numbers.Real)
            or isinstance(budget, bool)
            or not math.isfinite(budget)
            or not 0 < budget <= MAX_TIME_BUDGET_S
        ):
            raise ValueError(f"time_budget_s must be a number of seconds in (0, {MAX_TIME_BUDGET_S:g}], got {budget!r}")
        if not _is_int(self.seed) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative whole number, got {self.seed!r}")

    def fleet_counts(self) -> dict[tuple[str, str], int]:
        """:attr:`fleet` as ``(depot_id, vehicle_type) -> count``."""
        return {tuple(key.split("/", 1)): int(count) for key, count in self.fleet.items()}

    def as_dict(self) -> dict[str, object]:
        """The fields as plain JSON-able values (``fleet`` a dict sorted by key); also the Dagster run config."""
        body = {name: getattr(self, name) for name in _FIELDS}
        body["fleet"] = {key: int(self.fleet[key]) for key in sorted(self.fleet)}
        body["time_budget_s"] = float(self.time_budget_s)
        return body

    def to_json(self) -> str:
        """The spec as a JSON object (keys sorted), read back by :meth:`from_json`."""
        return json.dumps(self.as_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, body: Mapping[str, object]) -> ScenarioSpec:
        """A validated spec from a mapping of its fields (missing optional fields take their defaults).

        Raises
        ------
        ValueError
            On an unknown or missing field, or a bad value (naming the field).
        """
        if not isinstance(body, Mapping):
            raise ValueError(f"a scenario must be a JSON object, got {type(body).__name__}")
        unknown = sorted(set(body) - set(_FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(map(str, unknown))}; a scenario has {', '.join(_FIELDS)}")
        for name in ("name", "service_date"):
            if name not in body:
                raise ValueError(f"{name} is missing")
        values = dict(body)
        if isinstance(values.get("fleet"), Mapping):
            values["fleet"] = dict(values["fleet"])
        if _is_int(values.get("time_budget_s")):
            values["time_budget_s"] = float(values["time_budget_s"])
        spec = cls(**values)
        spec.validate()
        return spec

    @classmethod
    def from_json(cls, text: str) -> ScenarioSpec:
        """A validated spec from :meth:`to_json` text.

        Raises
        ------
        ValueError
            If the text is not a JSON object of the spec's fields, or a field is wrong (naming it).
        """
        try:
            body = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"a scenario must be JSON: {error}") from error
        return cls.from_dict(body)


# --- applying a spec to the date's problems ---------------------------------------------------------------------


def widen_order(order: Order, widen_s: int) -> Order:
    """``order`` with every window ``widen_s`` seconds wider on both sides, clipped to the day; windows that then
    overlap become one. A window already outside the day keeps its own bounds where they lie further out."""
    if widen_s <= 0:
        return order
    widened = sorted(
        (min(start, max(0, start - widen_s)), max(end, min(DAY_S, end + widen_s))) for start, end in order.windows
    )
    merged: list[tuple[int, int]] = []
    for start, end in widened:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    (tw_start_s, tw_end_s), *extra = merged
    return dataclasses.replace(order, tw_start_s=tw_start_s, tw_end_s=tw_end_s, extra_windows=tuple(extra))


def shift_vehicle(vehicle: Vehicle, shift_start_s: int | None, shift_end_s: int | None) -> Vehicle:
    """``vehicle`` on another shift (None: that end as it is); its break window moves with the shift start.

    The break keeps its offset from the shift start; a shift no longer than that offset plus 1 h has no break
    (the rule of ``marts.fct_vehicle_days``), and the window closes 2 h after it opens, never after the shift's
    end minus the break.

    Raises
    ------
    ValueError
        If the new shift ends before it starts (naming ``shift_start_s`` / ``shift_end_s``).
    """
    start = vehicle.shift_start_s if shift_start_s is None else shift_start_s
    end = vehicle.shift_end_s if shift_end_s is None else shift_end_s
    if end <= start:
        raise ValueError(
            f"shift_start_s / shift_end_s: vehicle {vehicle.vehicle_id}'s shift would be {start}-{end} s, "
            "ending before it starts"
        )
    changes: dict[str, object] = {"shift_start_s": start, "shift_end_s": end}
    if vehicle.break_s > 0 and vehicle.break_earliest_s is not None:
        offset_s = vehicle.break_earliest_s - vehicle.shift_start_s
        if end - start > offset_s + 3600:
            opens_s = start + offset_s
            changes.update(
                break_earliest_s=opens_s,
                break_latest_s=max(opens_s, min(opens_s + BREAK_WINDOW_S, end - vehicle.break_s)),
            )
        else:
            changes.update(break_s=0, break_earliest_s=None, break_latest_s=None)
    return dataclasses.replace(vehicle, **changes)


def _copy_vehicle(source: Vehicle, vehicle_id: str, same_depot: bool) -> Vehicle:
    """A copy of ``source`` named ``vehicle_id``; at another depot it starts, ends and reloads at its own depot."""
    if same_depot:
        return dataclasses.replace(source, vehicle_id=vehicle_id, on_board=None)
    return dataclasses.replace(
        source, vehicle_id=vehicle_id, start_depot_id=None, end_depot_id=None, reload_depot_id=None, on_board=None
    )


def _resize_fleet(
    problems: list[Problem], counts: dict[tuple[str, str], int], templates: Mapping[str, Vehicle]
) -> list[Problem]:
    by_depot = {p.depot.depot_id: i for i, p in enumerate(problems)}
    taken = {v.vehicle_id for p in problems for v in p.vehicles}
    vehicles = {p.depot.depot_id: list(p.vehicles) for p in problems}
    for (depot_id, vehicle_type), count in sorted(counts.items()):
        if depot_id not in by_depot:
            raise ValueError(
                f"fleet: depot {depot_id} has no orders and no vehicles on this date "
                f"(depots: {', '.join(sorted(by_depot)) or 'none'})"
            )
        own = sorted((v for v in vehicles[depot_id] if v.vehicle_type == vehicle_type), key=lambda v: v.vehicle_id)
        if count <= len(own):
            dropped = {v.vehicle_id for v in own[count:]}
            vehicles[depot_id] = [v for v in vehicles[depot_id] if v.vehicle_id not in dropped]
            continue
        if own:
            source, same_depot = own[0], True
        else:
            elsewhere = sorted(
                (v for d, vs in vehicles.items() if d != depot_id for v in vs if v.vehicle_type == vehicle_type),
                key=lambda v: v.vehicle_id,
            )
            source = elsewhere[0] if elsewhere else templates.get(vehicle_type)
            same_depot = False
            if source is None:
                raise ValueError(f"fleet: no vehicle of type {vehicle_type!r} to copy to {depot_id}")
        n = 0
        for _ in range(count - len(own)):
            n += 1
            while f"{source.vehicle_id}{COPY_MARK}{n}" in taken:
                n += 1
            vehicle_id = f"{source.vehicle_id}{COPY_MARK}{n}"
            taken.add(vehicle_id)
            vehicles[depot_id].append(_copy_vehicle(source, vehicle_id, same_depot))
    return [dataclasses.replace(p, vehicles=tuple(vehicles[p.depot.depot_id])) for p in problems]


def apply_scenario(
    problems: Sequence[Problem], spec: ScenarioSpec, templates: Mapping[str, Vehicle] | None = None
) -> list[Problem]:
    """The date's planning problems as the scenario changes them (the input problems are not changed).

    Parameters
    ----------
    problems
        One problem per depot, as :func:`orchestration.planning_inputs.prepare_problems` reads them for the date.
    spec
        The scenario (validated here).
    templates
        A vehicle of each type to copy when a depot is to get a type no depot has on the date (e.g. a type that
        does not work on that weekday), by vehicle type; default none.

    Returns
    -------
    list of Problem
        In the order of ``problems``: the fleet resized per :attr:`ScenarioSpec.fleet`, every vehicle on the
        scenario's shift, every order's windows widened.

    Raises
    ------
    ValueError
        If the spec is invalid, names a depot without a problem or a vehicle type nothing can be copied from, or a
        shift override would end a vehicle's shift before it starts (each naming the field).
    """
    spec.validate()
    changed = list(problems)
    counts = spec.fleet_counts()
    if counts:
        changed = _resize_fleet(changed, counts, templates or {})
    if spec.shift_start_s is not None or spec.shift_end_s is not None:
        changed = [
            dataclasses.replace(
                p, vehicles=tuple(shift_vehicle(v, spec.shift_start_s, spec.shift_end_s) for v in p.vehicles)
            )
            for p in changed
        ]
    if spec.window_widen_min:
        widen_s = spec.window_widen_min * 60
        changed = [dataclasses.replace(p, orders=tuple(widen_order(o, widen_s) for o in p.orders)) for p in changed]
    return changed


# --- serving tables -----------------------------------------------------------------------------------------------

SCENARIOS_COLUMNS = (
    ("plan_id", "varchar"), ("service_date", "date"), ("kind", "varchar"), ("name", "varchar"),
    ("created_at_utc", "timestamptz"), ("params_json", "varchar"), ("n_vehicles_available", "integer"),
    ("vehicles_used", "integer"), ("n_routes", "integer"), ("n_orders", "integer"), ("n_assigned", "integer"),
    ("n_unassigned", "integer"), ("distance_km", "double"), ("duration_h", "double"), ("cost_eur", "double"),
    ("cost_per_delivery_eur", "double"), ("projected_on_time_rate", "double"), ("sim_on_time_rate", "double"),
    ("sim_delivered", "integer"), ("sim_failed", "integer"), ("sim_unserved", "integer"), ("sim_cost_eur", "double"),
    ("sim_cost_per_delivery_eur", "double"), ("sim_distance_km", "double"),
)  # fmt: skip
"""Columns of the ``scenarios`` serving table (docs/scenarios.md), in order, with their types."""
SCENARIO_ROUTES_COLUMNS = (
    ("plan_id", "varchar"), ("depot_id", "varchar"), ("route_id", "varchar"), ("vehicle_id", "varchar"),
    ("vehicle_type", "varchar"), ("n_stops", "integer"), ("distance_m", "bigint"), ("duration_s", "bigint"),
    ("cost_eur", "double"), ("start_s", "integer"), ("end_s", "integer"),
)  # fmt: skip
SCENARIO_STOPS_COLUMNS = (
    ("plan_id", "varchar"), ("route_id", "varchar"), ("sequence", "integer"), ("order_id", "varchar"),
    ("lat", "double"), ("lon", "double"), ("arrival_s", "integer"), ("late_s", "integer"),
)  # fmt: skip
FLEET_COLUMNS = (
    ("depot_id", "varchar"), ("vehicle_type", "varchar"), ("n_vehicles", "integer"), ("capacity_weight_kg", "double"),
    ("shift_start_s", "integer"), ("shift_end_s", "integer"), ("cost_per_km_eur", "double"),
    ("cost_per_hour_eur", "double"), ("fixed_cost_eur", "double"),
)  # fmt: skip

WHATIF_KIND = "whatif"
CURRENT_PLAN_NAME = "Current plan"
SCENARIO_TABLES_DDL = (
    "create schema if not exists plans",
    """create table if not exists plans.whatif_scenarios (
        plan_id varchar primary key, service_date date not null, name varchar not null, spec_json varchar not null,
        created_at_utc timestamptz not null)""",
    """create table if not exists plans.whatif_outcomes (
        plan_id varchar primary key, service_date date not null, n_orders integer, attempted integer,
        delivered integer, failed integer, unserved integer, on_time integer, on_time_rate double,
        vehicles_driven integer, distance_km double, cost_eur double, cost_per_delivery_eur double,
        world_scale varchar, world_seed integer, simulated_at_utc timestamptz not null)""",
)
"""The what-if tables of ``plans``: each what-if version's spec, and the simulated outcome of a past date's."""


def ensure_scenario_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create ``plans.whatif_scenarios`` and ``plans.whatif_outcomes`` if they do not exist."""
    for statement in SCENARIO_TABLES_DDL:
        conn.execute(statement)


# The plans of the scenarios table: every valid what-if, and the current plan (the rule of
# plan_store.current_plan_id) of each date that has one.
_SCENARIO_PLANS = """
    whatifs as (
        select r.plan_id, r.service_date, r.kind, s.name, r.created_at_utc, s.spec_json as params_json
        from plans.plan_runs as r
        inner join plans.whatif_scenarios as s on s.plan_id = r.plan_id
        where r.kind = 'whatif' and r.status = 'valid'
    ),
    currents as (
        select plan_id, service_date, kind, 'Current plan' as name, created_at_utc, cast(null as varchar) as params_json
        from plans.plan_runs
        where kind in ('daily', 'replan') and status = 'valid'
            and service_date in (select service_date from whatifs)
        qualify row_number() over (partition by service_date order by created_at_utc desc, version desc) = 1
    ),
    compared as (
        select * from whatifs
        union all
        select * from currents
    )"""

_SCENARIOS_QUERY = """
    with {plans},
    route_totals as (
        select
            plan_id,
            count(distinct vehicle_id) filter (where n_stops > 0) as vehicles_used,
            count(*) filter (where n_stops > 0) as n_routes,
            sum(distance_m) / 1000.0 as distance_km,
            sum(duration_s) / 3600.0 as duration_h,
            sum(cost_eur) as cost_eur
        from plans.routes
        where plan_id in (select plan_id from compared)
        group by plan_id
    ),
    stop_totals as (
        select plan_id, avg(case when coalesce(late_s, 0) = 0 then 1.0 else 0.0 end) as projected_on_time_rate
        from plans.stops
        where plan_id in (select plan_id from compared) and coalesce(status, 'planned') <> 'failed'
        group by plan_id
    ),
    fleet_totals as (
        select plan_id, sum(n_vehicles) as n_vehicles_available
        from plans.solves
        where plan_id in (select plan_id from compared)
        group by plan_id
    ),
    outcomes as (
        select plan_id, on_time_rate, delivered, failed, unserved, cost_eur, cost_per_delivery_eur, distance_km
        from plans.whatif_outcomes
        union all
        select c.plan_id, a.on_time_rate, a.delivered, a.failed, a.unserved, a.cost_eur,
            a.cost_eur / nullif(a.delivered, 0), a.distance_km
        from currents as c
        inner join ({actuals}) as a on a.service_date = c.service_date
    )
    select
        c.plan_id,
        cast(c.service_date as date) as service_date,
        c.kind,
        c.name,
        c.created_at_utc,
        c.params_json,
        cast(f.n_vehicles_available as integer) as n_vehicles_available,
        cast(coalesce(rt.vehicles_used, 0) as integer) as vehicles_used,
        cast(coalesce(rt.n_routes, 0) as integer) as n_routes,
        cast(r.n_orders as integer) as n_orders,
        cast(r.n_assigned as integer) as n_assigned,
        cast(r.n_unassigned as integer) as n_unassigned,
        coalesce(rt.distance_km, 0.0) as distance_km,
        coalesce(rt.duration_h, 0.0) as duration_h,
        coalesce(rt.cost_eur, 0.0) as cost_eur,
        rt.cost_eur / nullif(r.n_assigned, 0) as cost_per_delivery_eur,
        st.projected_on_time_rate,
        cast(o.on_time_rate as double) as sim_on_time_rate,
        cast(o.delivered as integer) as sim_delivered,
        cast(o.failed as integer) as sim_failed,
        cast(o.unserved as integer) as sim_unserved,
        cast(o.cost_eur as double) as sim_cost_eur,
        cast(o.cost_per_delivery_eur as double) as sim_cost_per_delivery_eur,
        cast(o.distance_km as double) as sim_distance_km
    from compared as c
    inner join plans.plan_runs as r on r.plan_id = c.plan_id
    left join route_totals as rt on rt.plan_id = c.plan_id
    left join stop_totals as st on st.plan_id = c.plan_id
    left join fleet_totals as f on f.plan_id = c.plan_id
    left join outcomes as o on o.plan_id = c.plan_id
    order by c.service_date, c.kind <> 'whatif' desc, c.created_at_utc, c.plan_id"""

# The day's actual outcome, per date, from the actuals marts (the same counts the what-if simulation reports):
# on time among the attempted orders, unserved = never attempted (not reached or not planned).
_ACTUALS_QUERY = """
    select d.service_date, d.on_time_rate, d.delivered, d.failed, d.unserved, c.cost_eur, c.distance_km
    from (
        select
            service_date,
            avg(case when is_on_time then 1.0 else 0.0 end) filter (where actual_arrival_s is not null)
                as on_time_rate,
            count(*) filter (where outcome = 'delivered') as delivered,
            count(*) filter (where outcome = 'failed') as failed,
            count(*) filter (where outcome in ('not_attempted', 'unassigned')) as unserved
        from marts.fct_deliveries
        group by service_date
        having count(*) filter (where actual_arrival_s is not null) > 0
    ) as d
    left join (
        select service_date, sum(actual_cost_eur) as cost_eur, sum(actual_km) as distance_km
        from marts.fct_route_days
        group by service_date
    ) as c on c.service_date = d.service_date"""
_NO_ACTUALS = (
    "select cast(null as date) as service_date, cast(null as double) as on_time_rate,"
    " cast(null as bigint) as delivered, cast(null as bigint) as failed, cast(null as bigint) as unserved,"
    " cast(null as double) as cost_eur, cast(null as double) as distance_km where false"
)

_SCENARIO_ROUTES_QUERY = """
    with {plans}
    select
        r.plan_id, r.depot_id, r.route_id, r.vehicle_id, r.vehicle_type, cast(r.n_stops as integer) as n_stops,
        cast(r.distance_m as bigint) as distance_m, cast(r.duration_s as bigint) as duration_s, r.cost_eur,
        cast(r.start_s as integer) as start_s, cast(r.end_s as integer) as end_s
    from plans.routes as r
    where r.plan_id in (select plan_id from compared)
    order by r.plan_id, r.depot_id, r.route_id"""

# A stop's coordinates: the order's in the planning mart, else (an order placed during the day, in a re-plan) the
# current plan's stop in the plan mart.
_SCENARIO_STOPS_QUERY = """
    with {plans}
    select
        s.plan_id, s.route_id, cast(s.sequence as integer) as sequence, s.order_id,
        coalesce(o.lat, {planned_lat}) as lat, coalesce(o.lon, {planned_lon}) as lon,
        cast(s.arrival_s as integer) as arrival_s, cast(coalesce(s.late_s, 0) as integer) as late_s
    from plans.stops as s
    inner join compared as c on c.plan_id = s.plan_id
    left join marts.fct_orders_to_plan as o on o.order_id = s.order_id and o.service_date = c.service_date
    {planned_join}
    order by s.plan_id, s.route_id, s.sequence"""

# The newest fleet master (the vehicles file of the newest service date loaded): per depot and vehicle type, how
# many vehicles, the type's capacity and rates, and the shift most of them work.
_FLEET_QUERY = """
    with newest as (
        select * from staging.stg_vehicles
        where service_date = (select max(service_date) from staging.stg_vehicles)
    )
    select
        v.depot_id,
        v.vehicle_type,
        cast(count(*) as integer) as n_vehicles,
        any_value(t.capacity_weight_g) / 1000.0 as capacity_weight_kg,
        cast(mode(v.shift_start_s) as integer) as shift_start_s,
        cast(mode(v.shift_end_s) as integer) as shift_end_s,
        any_value(t.cost_per_km_eur) as cost_per_km_eur,
        any_value(t.cost_per_hour_eur) as cost_per_hour_eur,
        any_value(t.cost_per_day_eur) as fixed_cost_eur
    from newest as v
    inner join staging.stg_vehicle_types as t
        on t.service_date = v.service_date and t.vehicle_type = v.vehicle_type
    group by v.depot_id, v.vehicle_type
    order by v.depot_id, v.vehicle_type"""


def _empty(columns: tuple[tuple[str, str], ...]) -> str:
    # Column names and types are the module's constants, never input.
    return "select " + ", ".join(f"cast(null as {kind}) as {name}" for name, kind in columns) + " where false"


def scenario_queries(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The what-if serving tables this warehouse can fill (docs/scenarios.md), name -> SQL.

    ``fleet`` once the fleet master is staged (``staging.stg_vehicles``, ``staging.stg_vehicle_types``);
    ``scenarios``, ``scenario_routes`` and ``scenario_stops`` once the warehouse has plans and what-if tables
    (``plans.plan_runs``, ``plans.whatif_scenarios``), empty with their columns while no what-if is valid.
    A warehouse that never ran a what-if gives empty files with the columns; one without plans gives none.
    """
    present: set[tuple[str, str]] = {
        (schema, table)
        for schema, table in conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_schema in ('plans', 'marts', 'staging')"
        ).fetchall()
    }
    queries: dict[str, str] = {}
    if {("staging", "stg_vehicles"), ("staging", "stg_vehicle_types")} <= present:
        queries["fleet"] = _FLEET_QUERY
    if ("plans", "plan_runs") not in present:
        return queries
    needed = {("plans", t) for t in ("whatif_scenarios", "whatif_outcomes", "routes", "stops", "solves")}
    if not needed <= present or ("marts", "fct_orders_to_plan") not in present:
        queries["scenarios"] = _empty(SCENARIOS_COLUMNS)
        queries["scenario_routes"] = _empty(SCENARIO_ROUTES_COLUMNS)
        queries["scenario_stops"] = _empty(SCENARIO_STOPS_COLUMNS)
        return queries
    has_actuals = {("marts", "fct_deliveries"), ("marts", "fct_route_days")} <= present
    queries["scenarios"] = _SCENARIOS_QUERY.format(
        plans=_SCENARIO_PLANS, actuals=_ACTUALS_QUERY if has_actuals else _NO_ACTUALS
    )
    queries["scenario_routes"] = _SCENARIO_ROUTES_QUERY.format(plans=_SCENARIO_PLANS)
    if ("marts", "fct_planned_stops") in present:
        planned = {
            "planned_lat": "p.lat",
            "planned_lon": "p.lon",
            "planned_join": "left join (select plan_id, order_id, any_value(lat) as lat, any_value(lon) as lon "
            "from marts.fct_planned_stops group by plan_id, order_id) as p "
            "on p.plan_id = s.plan_id and p.order_id = s.order_id",
        }
    else:
        planned = {"planned_lat": "cast(null as double)", "planned_lon": "cast(null as double)", "planned_join": ""}
    queries["scenario_stops"] = _SCENARIO_STOPS_QUERY.format(plans=_SCENARIO_PLANS, **planned)
    return queries
