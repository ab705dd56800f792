"""The live simulator: a service date played out while it happens, plan versions published during the day.

:class:`LiveDay` plays the day under a :class:`simulator.disruptions.Scenario` in steps. ``publish`` hands it a
plan version (the frames :func:`simulator.execute_plan` takes) in force from a local time; ``advance`` plays up
to a time and returns what the fleet's systems recorded since the previous step (a :class:`LiveDrop`: GPS fixes,
driver-app events, order changes); ``write_drop`` writes a drop to ``landing/live/YYYY-MM-DD/`` as
``docs/replanning.md`` section 1 says (the hourly weather observation is part of the drop it falls in, so a
rain shower that was not forecast reaches the pipeline within the hour); ``finish`` plays the rest and returns
the whole day as an :class:`simulator.execution.Execution`, equal to the union of the drops plus the rest.

How a vehicle plays a day (rules of ``docs/replanning.md`` section 5):

* It decides where to go each time it is free to leave: at its depot (at the route's start plus its hidden
  departure delay, not before it was ready under the first plan that gave it a route) and when it leaves a
  stop. It follows the newest plan version published at or before that moment: it goes to its first stop of
  that version that is still open (the order exists, is not cancelled or delivered, and has had fewer attempts
  than that stop's place among the order's stops of the version: a failed order listed again after its failed
  stop is tried again, ``attempt`` 2). A new trip of the version (``trip`` changes) means a reload at the start
  depot first (it leaves the depot for a trip no earlier than the plan's drive to the trip's first stop, the
  stop's ``leg_duration_s``, before that stop's window opens: until then it stands at its depot, loaded, and a
  later version can send it elsewhere); the next stop on another route of the same version means back to the
  depot first. A vehicle without open stops in the newest version drives back to its route's end depot, or stays
  at its depot; a later version can send it out again.
* The break is taken on leaving the stop the version puts it after (or a later one, when that stop was
  skipped); ``break_after_sequence`` 0 at the depot before the first departure.
* A cancelled order is skipped (the driver app drops the stop); a vehicle already on its way, or waiting there
  for the window, records nothing there and goes on when the cancellation comes (once service has started,
  the parcel is handed over). A new order exists from its receipt and is served only when a plan
  version puts it on a route.
* A window change moves when the customer expects the driver: a driver following an older plan still waits for
  the old window, and arriving outside the new window finds someone at home with only 0.3 times the world's
  presence probability (they moved the window because they will be out); inside it, the world's presence
  model holds as usual. Ratings and on-time judge the delivery by the window in force at arrival.
* A broken-down van stops at the first moment it is on the road at or after the breakdown time (mid-leg: where
  it is then; at a stop or depot: when it would leave): one ``breakdown`` event there, then no more events and
  no moving fixes. Heavy rain makes roads and service as slow as observed heavy rain from its start hour, and
  :attr:`LiveDay.weather` observes it.
* A late start adds its delay to the van's first departure.

What a drop holds: the events and the GPS fixes whose local time (whole seconds) falls in ``[previous to_s,
to_s)`` and the order changes received then. Fixes are sampled from the motion known at each step, so the
tracker's faults (gaps, outliers, duplicates, out-of-order records) are those of a day's export within each
drop; the receipt delay of a fix is not carried into a later drop.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from simulator.disruptions import CHANGE_COLUMNS, Scenario
from simulator.execution import EVENT_COLUMNS, Execution, _Day, utc_base_s
from simulator.execution_landing import PING_SCHEMA, _write_parquet_atomic
from simulator.landing import _write_csv_atomic
from simulator.telematics import PING_COLUMNS
from simulator.weather import OBSERVATION_COLUMNS, Weather
from simulator.world import TIMEZONE, World

__all__ = ["LiveDay", "LiveDrop", "day_outcome", "drop_paths", "write_drop"]


@dataclass(frozen=True)
class LiveDrop:
    """What the systems recorded between two steps of a live day.

    Attributes
    ----------
    service_date : datetime.date
    from_s, to_s : int
        The local times (seconds since midnight) the drop covers, ``[from_s, to_s)``; ``from_s`` of the first
        drop is 0.
    pings : pandas.DataFrame
        Columns of ``pings_*.parquet``, in order of receipt.
    events : pandas.DataFrame
        Columns of ``stop_events_*.csv`` (:data:`simulator.execution.EVENT_COLUMNS`), in time order; event ids
        continue those of the earlier drops.
    order_changes : pandas.DataFrame
        :data:`simulator.disruptions.CHANGE_COLUMNS`, in order of receipt.
    weather : pandas.DataFrame
        :data:`simulator.weather.OBSERVATION_COLUMNS`: the hourly observations (stamped at the top of their
        hour) of the weather as it really is (a scenario's heavy rain included) taken in the drop's interval.
    """

    service_date: dt.date
    from_s: int
    to_s: int
    pings: pd.DataFrame
    events: pd.DataFrame
    order_changes: pd.DataFrame
    weather: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(OBSERVATION_COLUMNS)))

    @property
    def name(self) -> str:
        """``HHMMSS``: the local time the drop covers up to, as its files are named."""
        return f"{self.to_s // 3600:02d}{self.to_s % 3600 // 60:02d}{self.to_s % 60:02d}"


class LiveDay:
    """A service date played out step by step, with plan versions published during the day.

    Parameters
    ----------
    world : World
        The demo world.
    service_date : datetime.date
    orders : pandas.DataFrame
        The morning orders of the date, at least ``order_id, customer_id, lat, lon, site_type, parcels``.
    scenario : Scenario
        The day's disruptions (:func:`simulator.disruptions.scenario`; ``no_disruptions`` for none). Its new
        orders may be planned once received.
    seed : int
        Non-negative seed of the day's hidden truth; equal inputs, seed and calls give equal results.
    weather : Weather, optional
        The day's weather before the scenario's rain; by default ``simulate_weather(world, service_date, seed)``.
    working_day : bool
        True (default): a driver starts no stop that it could not serve and drive back from before the shift's end
        plus the vehicle type's paid overtime (see :mod:`simulator.execution`). False: the drivers work through the
        plan however late it gets.

    Raises
    ------
    ValueError
        If the seed is negative, a column of ``orders`` is missing, an order id repeats, a customer is not in the
        world, or the scenario or weather is of another date.
    """

    def __init__(
        self,
        world: World,
        service_date: dt.date,
        orders: pd.DataFrame,
        scenario: Scenario,
        seed: int,
        weather: Weather | None = None,
        *,
        working_day: bool = True,
    ) -> None:
        self._day = _Day(world, service_date, orders, scenario, seed, weather, working_day)
        self._changes = scenario.order_changes(world.timezone)
        self._changes_s = np.round(
            _events_local_s(self._changes["received_at_utc"], utc_base_s(service_date, world.timezone))
        )
        self.service_date = service_date
        self.scenario = scenario
        self._timezone = world.timezone

    @property
    def weather(self) -> Weather:
        """The day's weather as it really was (a scenario's heavy rain included): write this one."""
        return self._day.weather

    @property
    def clock_s(self) -> float:
        """The local time played up to (``-inf`` before the first step)."""
        return self._day.clock_s

    def publish(self, routes: pd.DataFrame, stops: pd.DataFrame, at_s: int) -> None:
        """Hand the fleet a plan version, in force from local time ``at_s``.

        Parameters
        ----------
        routes, stops : pandas.DataFrame
            As :func:`simulator.execute_plan` takes them. A re-plan's ``stops`` may carry ``status``; an order may
            then appear twice when one of its stops has ``status`` ``failed`` (the retry follows it).
        at_s : int
            Local seconds; not before the time already played nor before the previous version.

        Raises
        ------
        ValueError
            If ``at_s`` is too early, a column is missing, an id does not resolve or an order is planned twice.
        """
        self._day.publish(routes, stops, float(at_s))

    def advance(self, to_s: int) -> LiveDrop:
        """Play up to local time ``to_s`` and return what the systems recorded since the previous step.

        Raises
        ------
        ValueError
            If ``to_s`` is before the time already played, or the day is finished.
        """
        to_s = int(to_s)
        from_s = self._day.clock_s
        self._day.advance(float(to_s))
        pings, events, _ = self._day.recorded(from_s, float(to_s))
        start = 0 if np.isneginf(from_s) else int(from_s)
        received = (self._changes_s >= from_s) & (self._changes_s < to_s)
        changes = self._changes[received].reset_index(drop=True)
        observations = self._day.weather.observations
        observed_s = _events_local_s(observations["observed_at_utc"], utc_base_s(self.service_date, self._timezone))
        taken = (observed_s >= from_s) & (observed_s < to_s)
        weather = observations[taken].reset_index(drop=True)[list(OBSERVATION_COLUMNS)]
        return LiveDrop(self.service_date, start, to_s, pings, events, changes, weather)

    def write_drop(self, landing_dir: str | os.PathLike, drop: LiveDrop) -> list[Path]:
        """Write a drop's files (see :func:`write_drop`)."""
        return write_drop(landing_dir, drop)

    def finish(self) -> Execution:
        """Play the rest of the day and return all of it (the drops' pings and events plus the rest).

        After ``finish`` the day takes no more steps or plans.
        """
        return self._day.finish()


def drop_paths(landing_dir: str | os.PathLike, service_date: dt.date, name: str) -> dict[str, Path]:
    """Paths of a live drop's files, by kind: pings, events, order_changes, weather."""
    folder = Path(landing_dir) / "live" / service_date.isoformat()
    return {
        "pings": folder / f"pings_{name}.parquet",
        "events": folder / f"events_{name}.csv",
        "order_changes": folder / f"order_changes_{name}.csv",
        "weather": folder / f"weather_{name}.csv",
    }


def write_drop(landing_dir: str | os.PathLike, drop: LiveDrop) -> list[Path]:
    """Write the non-empty files of a drop under ``landing/live/YYYY-MM-DD/``, each once and atomically.

    Parameters
    ----------
    landing_dir : path-like
        Root of the landing zone.
    drop : LiveDrop

    Returns
    -------
    list of pathlib.Path
        The files written, of pings, events, order changes and weather in that order (a file is left out when
        the drop has no rows of its kind).

    Raises
    ------
    FileExistsError
        If a file of the drop's name exists already: a drop is written once and never rewritten.
    """
    paths = drop_paths(landing_dir, drop.service_date, drop.name)
    taken = [str(p) for p in paths.values() if p.exists()]
    if taken:
        raise FileExistsError(f"live drop file(s) exist already: {', '.join(taken)}")
    written = []
    if len(drop.pings):
        table = pa.Table.from_pandas(drop.pings[list(PING_COLUMNS)], schema=PING_SCHEMA, preserve_index=False)
        written.append(_write_parquet_atomic(table.replace_schema_metadata(None), paths["pings"]))
    if len(drop.events):
        written.append(_write_csv_atomic(drop.events[list(EVENT_COLUMNS)], paths["events"]))
    if len(drop.order_changes):
        written.append(_write_csv_atomic(drop.order_changes[list(CHANGE_COLUMNS)], paths["order_changes"]))
    if len(drop.weather):
        written.append(_write_csv_atomic(drop.weather[list(OBSERVATION_COLUMNS)], paths["weather"]))
    return written


def day_outcome(
    execution: Execution, orders: pd.DataFrame, scenario: Scenario, timezone: str = TIMEZONE
) -> dict[str, float]:
    """What a played day achieved, for benchmarks.

    Parameters
    ----------
    execution : Execution
        From :meth:`LiveDay.finish` or :func:`simulator.execute_plan`.
    orders : pandas.DataFrame
        The morning orders with ``order_id, window_start, window_end`` (ISO 8601 local, empty = all day) and
        optionally ``window2_start, window2_end``.
    scenario : Scenario
        The day's disruptions (its new orders, cancellations and window changes count).
    timezone : str, default the demo world's
        The world's time zone.

    Returns
    -------
    dict
        ``orders``: open orders (morning plus new, cancelled ones excluded); ``cancelled``: cancelled before any
        delivery; ``delivered``; ``on_time``: delivered while a window in force was open (arrival by its end,
        delivery after its start; the window in force is the latest change received by the arrival, else the
        order's windows; all-day orders are on time); ``on_time_rate``: of the delivered; ``failed``: open orders
        whose last attempt failed; ``not_attempted``; ``unserved``: open orders never delivered (failed plus not
        attempted); ``attempts``; ``cancelled_delivered``: delivered after a cancellation had come (0);
        ``vehicles``: that drove; ``km``: true km driven; ``driving_h``: hours on the road; ``route_h``: first
        departure to last return or breakdown, summed over vehicles.
    """
    service_date = scenario.service_date
    base_s = utc_base_s(service_date, timezone)
    windows: dict[str, list[tuple[float, float]]] = {}
    frames = [orders]
    new = [d.order for d in scenario.of_kind("new")]
    if new:
        frames.append(pd.DataFrame(new))
    for frame in frames:
        for row in frame.to_dict("records"):
            pairs = [(row.get(f"window{k}_start", ""), row.get(f"window{k}_end", "")) for k in ("", "2")]
            windows[str(row["order_id"])] = [
                (_local_s(str(a)), _local_s(str(b))) for a, b in pairs if isinstance(a, str) and a
            ]
    changes: dict[str, list[tuple[float, float, float]]] = {}
    for d in sorted(scenario.of_kind("window"), key=lambda d: d.at_s):
        changes.setdefault(d.order_id, []).append((float(d.at_s), float(d.tw_start_s), float(d.tw_end_s)))
    cancelled_s = {d.order_id: float(d.at_s) for d in scenario.of_kind("cancel")}

    events = execution.stop_events
    local_s = _events_local_s(events["ts_utc"], base_s)
    kinds = events["event_type"].to_numpy()
    arrived = {
        (o, int(a)): t
        for o, a, t, k in zip(events["order_id"], events["attempt"].fillna(0), local_s, kinds, strict=True)
        if k == "arrived"
    }
    delivered_ids, on_time, last_outcome, cancelled_delivered = set(), 0, {}, 0
    for o, a, t, k in zip(events["order_id"], events["attempt"].fillna(0), local_s, kinds, strict=True):
        if k not in ("delivered", "failed"):
            continue
        last_outcome[o] = k
        if k != "delivered":
            continue
        delivered_ids.add(o)
        arrival = arrived[(o, int(a))]
        cancelled_delivered += cancelled_s.get(o, np.inf) <= arrival
        in_force = windows.get(o, [])
        for at_s, start, end in changes.get(o, ()):
            if at_s <= arrival:
                in_force = [(start, end)]
        # On time: there when the window in force was open (waiting for it to open is fine), or all day.
        on_time += not in_force or any(t >= start and arrival <= end for start, end in in_force)
    # An order cancelled after its delivery was delivered; the others are out of the day.
    cancelled = {o for o, c in cancelled_s.items() if o not in delivered_ids}
    open_ids = set(windows) - cancelled
    delivered_open = delivered_ids & open_ids
    failed = {o for o, k in last_outcome.items() if k == "failed"} & open_ids - delivered_ids
    not_attempted = open_ids - set(last_outcome)

    paths = execution.paths
    driving_s = 0.0
    if len(paths):
        ts = paths["ts_utc"].astype("int64").to_numpy() / (1e6 if paths["ts_utc"].dtype.unit == "us" else 1e9)
        spans = pd.Series(ts).groupby(paths["leg"].to_numpy()).agg(["min", "max"])
        driving_s = float((spans["max"] - spans["min"]).sum())
    depot = events["event_type"].isin(["depot_departure", "depot_return", "breakdown"]).to_numpy()
    by_vehicle = pd.Series(local_s[depot]).groupby(events["vehicle_id"].to_numpy()[depot]).agg(["min", "max"])
    return {
        "orders": len(open_ids),
        "cancelled": len(cancelled),
        "delivered": len(delivered_open),
        "on_time": on_time,
        "on_time_rate": on_time / len(delivered_ids) if delivered_ids else float("nan"),
        "failed": len(failed),
        "not_attempted": len(not_attempted),
        "unserved": len(open_ids - delivered_ids),
        "attempts": int((events["event_type"] == "arrived").sum()),
        "cancelled_delivered": int(cancelled_delivered),
        "vehicles": int(execution.truth["vehicle_id"].nunique()),
        "km": float(execution.truth["true_km"].sum()),
        "driving_h": driving_s / 3600.0,
        "route_h": float((by_vehicle["max"] - by_vehicle["min"]).sum()) / 3600.0,
    }


def _local_s(stamp: str) -> float:
    """Local seconds since midnight of an ISO 8601 local time; NaN when empty."""
    if not stamp:
        return float("nan")
    local = dt.datetime.fromisoformat(stamp)
    return float(local.hour * 3600 + local.minute * 60 + local.second)


def _events_local_s(stamps_utc: pd.Series, base_s: float) -> np.ndarray:
    """Local seconds since midnight of ``YYYY-MM-DDTHH:MM:SSZ`` stamps."""
    stamps = pd.to_datetime(stamps_utc, utc=True, format="%Y-%m-%dT%H:%M:%SZ")
    return np.array([s.timestamp() for s in stamps], dtype=float) - base_s
