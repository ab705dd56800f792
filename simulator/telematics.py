"""GPS fixes of the simulated vehicles: sampled along their true paths, then given real-world faults.

Everything is vectorised over all fixes of a day. A tracker logs a fix every 10-30 s while the vehicle
moves, and one more wherever the heading changes (the cornering trigger of fleet trackers, which keeps
distance from pings close to the distance driven). When the ignition goes off (arrival) and on (departure)
it logs one fix each, and a heartbeat every five minutes while parked. Those ignition and heartbeat
records are stored on the device and forwarded, so they are never lost in a gap; moving fixes are.

Faults, each rare and independent:
* jitter: Gaussian, a few metres, on every fix; a parked tracker holds its position (the "static hold" of
  GPS chips), so the fixes of one park share their error and add no distance;
* outliers: a single moving fix 100-500 m off, never next to another outlier;
* gaps: stretches of 1-5 min without moving fixes;
* duplicates: exact copies of a record, delivered again later;
* out-of-order: records delivered late, so the export (in order of receipt) is not in time order.

Distance contract (tested in tests/simulator/test_execution_telematics.py): per vehicle, (1) drop exact
duplicate records, (2) sort by ``ts_utc``, (3) drop in one pass every fix but the first and last whose
detour ``d(prev, fix) + d(fix, next) - d(prev, next)`` exceeds 100 m (great-circle distances to its
neighbours in the sorted list); the sum of great-circle distances between consecutive remaining fixes is
then within 2% of the distance really driven. A speed rule (implied speed > 150 km/h to both neighbours)
does not do: with fixes 10-30 s apart a 100-500 m outlier implies only 12-180 km/h.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.roads import LocalProjection

__all__ = ["PING_COLUMNS", "Moves", "Parks", "simulate_pings"]

PING_COLUMNS: tuple[str, ...] = ("vehicle_id", "ts_utc", "lat", "lon", "speed_kmh", "heading_deg")
"""Columns of ``telematics/pings_YYYY-MM-DD.parquet``, in contract order."""

_INTERVAL_S = (10.0, 30.0)  # between fixes while moving
_HEARTBEAT_S = 300.0  # while parked
_BOUNDARY_GUARD_S = 1.5  # no moving fix this close to an ignition fix: they would share a timestamp
_JITTER_M = 3.0
_SPEED_NOISE_SIGMA = 0.05
_HEADING_NOISE_DEG = 2.0
_OUTLIER_RATE = 1 / 1200
_OUTLIER_M = (100.0, 500.0)
_GAPS_PER_VEHICLE = 1.2
_GAP_S = (60.0, 300.0)
_DUPLICATE_RATE = 0.004
_LATE_RATE = 0.015
_LATE_S = (30.0, 900.0)
_UPLINK_S = 4.0  # ordinary delay between a fix and its receipt


@dataclass(frozen=True)
class Moves:
    """Straight pieces of the true paths, each driven at constant speed; arrays of equal length.

    ``vehicle`` is an integer code into the vehicle ids; ``t0``/``t1`` are seconds since local midnight;
    ``leg_t0``/``leg_t1`` bound the leg the piece belongs to; x/y in metres of a :class:`LocalProjection`.
    Pieces are sorted by vehicle, then time.
    """

    vehicle: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    leg_t0: np.ndarray
    leg_t1: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray


@dataclass(frozen=True)
class Parks:
    """Intervals a vehicle stands still (stops and depot), with position and heading on arrival."""

    vehicle: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    x: np.ndarray
    y: np.ndarray
    heading_deg: np.ndarray


def simulate_pings(
    moves: Moves,
    parks: Parks,
    vehicle_ids: np.ndarray,
    projection: LocalProjection,
    utc_base_s: float,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, int]:
    """Sample fixes along the moves and at the parks, inject faults and return the vendor export.

    Parameters
    ----------
    moves, parks : Moves, Parks
        The true motion of every vehicle.
    vehicle_ids : numpy.ndarray of str
        Vehicle id of each integer code.
    projection : LocalProjection
        Converts the metres of ``moves``/``parks`` back to degrees.
    utc_base_s : float
        Unix time (s) of local midnight, so that ``utc_base_s + t`` is the UTC instant of local second ``t``.
    rng : numpy.random.Generator

    Returns
    -------
    pings : pandas.DataFrame
        :data:`PING_COLUMNS`, in order of receipt.
    n_outliers : int
        Number of fixes moved 100-500 m off the path.
    """
    mv_vehicle, mv_t, mv_x, mv_y, mv_speed, mv_heading = _moving_fixes(moves, rng)
    pk_vehicle, pk_t, pk_x, pk_y, pk_heading, pk_park = _parked_fixes(parks)
    vehicle = np.concatenate([mv_vehicle, pk_vehicle])
    t = np.round(np.concatenate([mv_t, pk_t]))
    x = np.concatenate([mv_x, pk_x])
    y = np.concatenate([mv_y, pk_y])
    speed = np.concatenate([mv_speed, np.zeros(pk_t.size)])
    heading = np.concatenate([mv_heading, pk_heading])
    park = np.concatenate([np.full(mv_t.size, -1), pk_park])
    moving = park < 0

    # Ignition fixes first among equal timestamps; then one fix per vehicle and second.
    order = np.lexsort((moving, t, vehicle))
    vehicle, t, x, y, speed, heading, park = (a[order] for a in (vehicle, t, x, y, speed, heading, park))
    moving = park < 0
    first = np.ones(t.size, bool)
    first[1:] = (vehicle[1:] != vehicle[:-1]) | (t[1:] != t[:-1])
    keep = first & ~_in_gaps(vehicle, t, moving, rng)
    vehicle, t, x, y, speed, heading, park = (a[keep] for a in (vehicle, t, x, y, speed, heading, park))
    moving = park < 0

    jitter = rng.normal(0.0, _JITTER_M, (2, x.size))
    held = rng.normal(0.0, _JITTER_M, (2, parks.t0.size))
    x = x + np.where(moving, jitter[0], held[0][park])
    y = y + np.where(moving, jitter[1], held[1][park])
    outlier = _pick_outliers(vehicle, moving, rng)
    angle = rng.uniform(0.0, 2 * np.pi, int(outlier.sum()))
    distance = rng.uniform(*_OUTLIER_M, int(outlier.sum()))
    x[outlier] += distance * np.cos(angle)
    y[outlier] += distance * np.sin(angle)

    received = t + rng.uniform(0.0, _UPLINK_S, t.size)
    late = rng.random(t.size) < _LATE_RATE
    received[late] += rng.uniform(*_LATE_S, int(late.sum()))
    copies = np.flatnonzero(rng.random(t.size) < _DUPLICATE_RATE)
    rows = np.concatenate([np.arange(t.size), copies])
    received = np.concatenate([received, received[copies] + rng.uniform(5.0, 600.0, copies.size)])
    rows = rows[np.lexsort((rows, received))]

    lat, lon = projection.to_latlon(x[rows], y[rows])
    ts = pd.to_datetime(np.round((utc_base_s + t[rows]) * 1e6).astype(np.int64), unit="us", utc=True)
    frame = pd.DataFrame(
        {
            "vehicle_id": pd.array(vehicle_ids[vehicle[rows]], dtype="str"),
            "ts_utc": ts,
            "lat": np.round(lat, 7),
            "lon": np.round(lon, 7),
            "speed_kmh": np.round(speed[rows], 1),
            "heading_deg": np.round(heading[rows], 1) % 360.0,
        },
        columns=list(PING_COLUMNS),
    )
    return frame, int(outlier.sum())


def _moving_fixes(moves: Moves, rng: np.random.Generator):
    """Fixes every 10-30 s of driving time, continuing across legs as the tracker's timer does."""
    duration = np.maximum(moves.t1 - moves.t0, 0.0)
    clock_end = np.cumsum(duration)
    clock_start = clock_end - duration
    n_vehicles = int(moves.vehicle.max()) + 1 if moves.vehicle.size else 0
    # Driving time of each vehicle, laid end to end on one global clock.
    v_start = np.full(n_vehicles, np.inf)
    v_end = np.zeros(n_vehicles)
    np.minimum.at(v_start, moves.vehicle, clock_start)
    np.maximum.at(v_end, moves.vehicle, clock_end)
    present = np.isfinite(v_start)
    v_start[~present] = 0.0
    n_draws = np.where(present, np.ceil((v_end - v_start) / _INTERVAL_S[0]).astype(int) + 1, 0)
    owner = np.repeat(np.arange(n_vehicles), n_draws)
    steps = rng.uniform(*_INTERVAL_S, owner.size)
    total = np.cumsum(steps)
    before = np.concatenate(([0.0], total))[np.cumsum(n_draws) - n_draws]
    within = total - np.repeat(before, n_draws)
    clock = v_start[owner] + within - rng.uniform(0.0, _INTERVAL_S[0], n_vehicles)[owner]
    clock = clock[(clock >= v_start[owner]) & (clock < v_end[owner])]

    piece = np.searchsorted(clock_end, clock, side="right")
    elapsed = clock - clock_start[piece]
    frac = elapsed / np.where(duration[piece] > 0, duration[piece], 1.0)
    t = moves.t0[piece] + elapsed
    away = (t - moves.leg_t0[piece] >= _BOUNDARY_GUARD_S) & (moves.leg_t1[piece] - t >= _BOUNDARY_GUARD_S)
    piece, frac, t = piece[away], frac[away], t[away]

    # Cornering fixes: at the start of every piece but the first of its leg.
    corner = np.flatnonzero(
        (duration > 0)
        & (moves.t0 - moves.leg_t0 >= _BOUNDARY_GUARD_S)
        & (moves.leg_t1 - moves.t0 >= _BOUNDARY_GUARD_S)
    )
    piece = np.concatenate([piece, corner])
    frac = np.concatenate([frac, np.zeros(corner.size)])
    t = np.concatenate([t, moves.t0[corner]])

    dx = moves.x1 - moves.x0
    dy = moves.y1 - moves.y0
    x = moves.x0[piece] + frac * dx[piece]
    y = moves.y0[piece] + frac * dy[piece]
    speed_kmh = np.hypot(dx, dy) / np.where(duration > 0, duration, 1.0) * 3.6
    speed = speed_kmh[piece] * rng.lognormal(0.0, _SPEED_NOISE_SIGMA, piece.size)
    heading = (np.degrees(np.arctan2(dx[piece], dy[piece])) + rng.normal(0.0, _HEADING_NOISE_DEG, piece.size)) % 360
    return moves.vehicle[piece], t, x, y, speed, heading


def _parked_fixes(parks: Parks):
    """Ignition off on arrival, a heartbeat every five minutes, ignition on at departure."""
    span = parks.t1 - parks.t0
    beats = np.where(span > _HEARTBEAT_S + _BOUNDARY_GUARD_S, np.floor((span - _BOUNDARY_GUARD_S) / _HEARTBEAT_S), 0)
    beats = beats.astype(int)
    ends = (span > 0).astype(int)  # a park of zero length logs one fix, not two
    count = 1 + beats + ends
    park = np.repeat(np.arange(span.size), count)
    rank = np.arange(park.size) - np.repeat(np.cumsum(count) - count, count)
    t = np.where(rank <= beats[park], parks.t0[park] + rank * _HEARTBEAT_S, parks.t1[park])
    return parks.vehicle[park], t, parks.x[park], parks.y[park], parks.heading_deg[park], park


def _in_gaps(vehicle: np.ndarray, t: np.ndarray, moving: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mask of moving fixes that fall into a reception gap of their vehicle."""
    if t.size == 0:
        return np.zeros(0, bool)
    n_vehicles = int(vehicle.max()) + 1
    first = np.full(n_vehicles, np.inf)
    last = np.full(n_vehicles, -np.inf)
    np.minimum.at(first, vehicle, t)
    np.maximum.at(last, vehicle, t)
    n_gaps = rng.poisson(_GAPS_PER_VEHICLE, n_vehicles) * np.isfinite(first)
    owner = np.repeat(np.arange(n_vehicles), n_gaps)
    start = rng.uniform(first[owner], np.maximum(last[owner], first[owner]))
    end = start + rng.uniform(*_GAP_S, owner.size)
    hit = np.zeros(t.size, bool)
    for v, g0, g1 in zip(owner, start, end, strict=True):  # a handful of gaps per day
        hit |= (vehicle == v) & (t >= g0) & (t < g1)
    return hit & moving


def _pick_outliers(vehicle: np.ndarray, moving: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Single moving fixes, never the first or last of a vehicle and never next to each other."""
    pick = moving & (rng.random(vehicle.size) < _OUTLIER_RATE)
    inner = np.zeros(vehicle.size, bool)
    inner[1:-1] = (vehicle[1:-1] == vehicle[:-2]) & (vehicle[1:-1] == vehicle[2:])
    pick &= inner
    neighbour = np.zeros(vehicle.size, bool)
    neighbour[1:] |= pick[:-1]
    neighbour[:-1] |= pick[1:]
    return pick & ~neighbour
