"""Travel model over explicit integer matrices: for a matrix the user brings (e.g. exported from OSRM) and for
benchmark instances whose distances are given, not computed from coordinates.

The solver asks a travel model for the matrices between the locations of a problem by coordinates
(:class:`~solver.travel.TravelModel`); this model answers by looking each location up among the points its
matrices were made for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from solver.travel import TravelMatrices


def _int_matrix(name: str, values: np.ndarray, n: int) -> np.ndarray:
    """A read-only int64 copy of an ``(n, n)`` matrix of non-negative integers, or a ValueError saying why not."""
    array = np.asarray(values)
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integers, got dtype {array.dtype}")
    if array.shape != (n, n):
        raise ValueError(f"{name} must have shape ({n}, {n}) for {n} points, got {array.shape}")
    if array.size and array.min() < 0:
        i, j = np.unravel_index(int(np.argmin(array)), array.shape)
        raise ValueError(f"{name} must be non-negative, got {array[i, j]} from point {i} to point {j}")
    out = np.array(array, dtype=np.int64, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class MatrixTravelModel:
    """Distances and durations read from given integer matrices over a fixed set of points.

    Each point is known by its exact coordinates: :meth:`matrices` looks the requested locations up by
    ``(lat, lon)`` and returns the rows and columns of those points. Several points may share coordinates
    only if their rows and columns are equal in every matrix (then any of them gives the same answer);
    construction checks that. Picklable, so it can travel to the solver's worker processes. Instances compare
    by identity; :attr:`version` is a digest of the contents.

    Parameters
    ----------
    lat, lon
        Shape ``(n,)``, the coordinates of the points in decimal degrees, in matrix order.
    distance_m
        Shape ``(n, n)``, non-negative integers: the distance from point ``i`` to point ``j``, metres (or
        whatever integer unit the problem uses; the solver only adds them up).
    duration_s
        Shape ``(n, n)``, non-negative integers: the travel time, seconds, for every speed not in
        ``duration_s_by_speed``.
    duration_s_by_speed
        Optional ``{speed_kmh: (n, n) matrix}`` of travel times for particular vehicle speeds (e.g. a van and
        a truck profile). Default none: every speed drives ``duration_s``.

    Raises
    ------
    ValueError
        On shapes that do not match the points, non-integer or negative matrices, NaN or out-of-range
        coordinates, or points with equal coordinates but different rows.
    """

    lat: np.ndarray
    lon: np.ndarray
    distance_m: np.ndarray
    duration_s: np.ndarray
    duration_s_by_speed: Mapping[float, np.ndarray] = field(default_factory=dict)
    version: str = field(init=False)
    _index: dict[tuple[float, float], int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        lat = np.array(self.lat, dtype=np.float64, copy=True)
        lon = np.array(self.lon, dtype=np.float64, copy=True)
        if lat.ndim != 1 or lat.shape != lon.shape:
            raise ValueError(f"lat and lon must be 1-D arrays of equal length, got shapes {lat.shape}, {lon.shape}")
        if np.isnan(lat).any() or np.isnan(lon).any():
            raise ValueError("the points have a missing (NaN) coordinate")
        if (np.abs(lat) > 90).any() or (np.abs(lon) > 180).any():
            raise ValueError("the points have coordinates out of range (lat -90..90, lon -180..180)")
        lat.flags.writeable = False
        lon.flags.writeable = False
        n = lat.shape[0]
        distance = _int_matrix("distance_m", self.distance_m, n)
        duration = _int_matrix("duration_s", self.duration_s, n)
        by_speed = {}
        for speed, matrix in sorted(self.duration_s_by_speed.items()):
            if not float(speed) > 0:
                raise ValueError(f"speeds in duration_s_by_speed must be positive, got {speed}")
            by_speed[float(speed)] = _int_matrix(f"duration_s_by_speed[{speed}]", matrix, n)

        index: dict[tuple[float, float], int] = {}
        for i, key in enumerate(zip(lat.tolist(), lon.tolist(), strict=True)):
            first = index.setdefault(key, i)
            if first != i:
                for name, m in [("distance_m", distance), ("duration_s", duration)] + [
                    (f"duration_s_by_speed[{s}]", m) for s, m in by_speed.items()
                ]:
                    if not (np.array_equal(m[first], m[i]) and np.array_equal(m[:, first], m[:, i])):
                        raise ValueError(
                            f"points {first} and {i} share coordinates {key} but their {name} rows or columns differ"
                        )

        digest = hashlib.sha256()
        for array in [lat, lon, distance, duration] + [m for _, m in sorted(by_speed.items())]:
            digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(repr(sorted(by_speed)).encode())
        object.__setattr__(self, "lat", lat)
        object.__setattr__(self, "lon", lon)
        object.__setattr__(self, "distance_m", distance)
        object.__setattr__(self, "duration_s", duration)
        object.__setattr__(self, "duration_s_by_speed", by_speed)
        object.__setattr__(self, "version", f"matrix-{digest.hexdigest()[:16]}")
        object.__setattr__(self, "_index", index)

    @property
    def n_points(self) -> int:
        """Number of points the matrices span."""
        return int(self.lat.shape[0])

    def indices(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Matrix index of each requested location.

        Parameters
        ----------
        lat, lon
            Shape ``(m,)``, decimal degrees; each pair must equal the coordinates of one of the points exactly.

        Returns
        -------
        numpy.ndarray
            Shape ``(m,)``, int64.

        Raises
        ------
        KeyError
            Naming the first location that is not one of the points.
        """
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        if lat.shape != lon.shape or lat.ndim != 1:
            raise ValueError(f"lat and lon must be 1-D arrays of equal length, got shapes {lat.shape}, {lon.shape}")
        try:
            return np.array([self._index[key] for key in zip(lat.tolist(), lon.tolist(), strict=True)], dtype=np.int64)
        except KeyError as missing:
            k = list(zip(lat.tolist(), lon.tolist(), strict=True)).index(missing.args[0])
            raise KeyError(
                f"location {k} at (lat {float(lat[k])!r}, lon {float(lon[k])!r}) is not one of the "
                f"{self.n_points} points of the travel matrix"
            ) from None

    def matrices(self, lat: np.ndarray, lon: np.ndarray, speeds_kmh: Sequence[float]) -> TravelMatrices:
        """The rows and columns of the given locations, one pair of matrices per speed.

        Parameters
        ----------
        lat, lon
            Shape ``(m,)``, decimal degrees; each location must be one of the points (exact coordinates).
        speeds_kmh
            Distinct positive speeds in km/h, one routing profile each.

        Returns
        -------
        TravelMatrices
            ``distance_m`` the same for every profile (a read-only broadcast view), ``duration_s`` from
            ``duration_s_by_speed`` where the speed has its own matrix, else from ``duration_s``; int64.

        Raises
        ------
        KeyError
            If a location is not one of the points.
        ValueError
            If the speeds are not distinct and positive.
        """
        speeds = tuple(float(s) for s in speeds_kmh)
        if len(set(speeds)) != len(speeds) or any(not s > 0 for s in speeds):
            raise ValueError(f"speeds must be distinct and positive, got {speeds}")
        idx = self.indices(lat, lon)
        sub = np.ix_(idx, idx)
        m = idx.shape[0]
        durations = np.empty((len(speeds), m, m), dtype=np.int64)
        for p, speed in enumerate(speeds):
            durations[p] = self.duration_s_by_speed.get(speed, self.duration_s)[sub]
        return TravelMatrices(
            distance_m=np.broadcast_to(self.distance_m[sub], (len(speeds), m, m)),
            duration_s=durations,
            speeds_kmh=speeds,
        )
