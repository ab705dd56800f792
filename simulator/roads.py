"""True road paths of the demo world: a bowed polyline between two points, about 1.3x the straight line.

The planner assumes road distance = great-circle distance x a circuity of 1.3. The simulated vehicles
drive a polyline with a few intermediate waypoints offset sideways, scaled so that its length is that
circuity (with a little spread) times the straight line. The bow is smooth (an arc with some wiggle) rather
than a zigzag, so that GPS fixes 10-30 s apart cut few corners and distance from pings stays close to the
true distance.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CIRCUITY", "WAYPOINTS", "LocalProjection", "road_paths"]

CIRCUITY = 1.3
"""Mean ratio of true road length to straight-line distance (the planner's circuity)."""

WAYPOINTS = 4
"""Intermediate waypoints per leg."""

_CIRCUITY_SIGMA = 0.04  # log-scale spread of a leg's circuity
_WIGGLE_SD = 0.25  # noise on the arc-shaped sideways offsets, relative to the bow
_M_PER_DEG_LAT = 111_195.0
_BISECTION_STEPS = 40


class LocalProjection:
    """Equirectangular projection to metres around a reference point (fine over a 30 km valley)."""

    def __init__(self, lat0: float, lon0: float) -> None:
        self.lat0 = lat0
        self.lon0 = lon0
        self._m_per_deg_lon = _M_PER_DEG_LAT * np.cos(np.radians(lat0))

    def to_xy(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return east (x) and north (y) metres from the reference point."""
        return (np.asarray(lon) - self.lon0) * self._m_per_deg_lon, (np.asarray(lat) - self.lat0) * _M_PER_DEG_LAT

    def to_latlon(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return decimal degrees for east / north metres."""
        return self.lat0 + np.asarray(y) / _M_PER_DEG_LAT, self.lon0 + np.asarray(x) / self._m_per_deg_lon


def road_paths(
    x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Polylines from (x0, y0) to (x1, y1), one per leg, in metres.

    Parameters
    ----------
    x0, y0, x1, y1 : numpy.ndarray
        Start and end of each leg, shape ``(n,)``.
    rng : numpy.random.Generator
        Source of the bow direction, wiggle and circuity of each leg.

    Returns
    -------
    x, y : numpy.ndarray
        Vertices, shape ``(n, WAYPOINTS + 2)``; the first and last columns are the leg's end points. A leg
        whose ends coincide is a single point repeated.
    """
    n = x0.size
    dx, dy = x1 - x0, y1 - y0
    chord = np.hypot(dx, dy)
    k = WAYPOINTS + 1
    frac = np.arange(k + 1) / k
    side = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    shape = np.sin(np.pi * frac)[None, :] + rng.normal(0.0, _WIGGLE_SD, (n, k + 1))
    shape[:, 0] = shape[:, -1] = 0.0
    shape *= side[:, None]
    target = CIRCUITY * rng.lognormal(-(_CIRCUITY_SIGMA**2) / 2, _CIRCUITY_SIGMA, n) * chord

    # Sideways offset h (metres per unit of shape) such that the polyline has the target length.
    step = chord / k
    du = np.diff(shape, axis=1)

    def length(h: np.ndarray) -> np.ndarray:
        return np.sqrt(step[:, None] ** 2 + (h[:, None] * du) ** 2).sum(axis=1)

    lo, hi = np.zeros(n), np.maximum(chord, 1.0) * 10.0
    for _ in range(_BISECTION_STEPS):
        mid = (lo + hi) / 2
        too_short = length(mid) < target
        lo = np.where(too_short, mid, lo)
        hi = np.where(too_short, hi, mid)
    h = (lo + hi) / 2

    safe = np.where(chord > 0, chord, 1.0)
    ux, uy = dx / safe, dy / safe  # along the chord
    nx, ny = -uy, ux  # to its left
    along = frac[None, :] * chord[:, None]
    offset = shape * h[:, None]
    x = x0[:, None] + along * ux[:, None] + offset * nx[:, None]
    y = y0[:, None] + along * uy[:, None] + offset * ny[:, None]
    x[:, -1], y[:, -1] = x1, y1
    return x, y
