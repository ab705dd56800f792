"""Travel model: distance and duration between locations.

The solver only needs integer matrices per routing profile. :class:`GreatCircleTravelModel` is the planning
model used until road-network or learned travel times exist; anything with the same ``matrices`` method
(:class:`TravelModel`) can replace it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

EARTH_RADIUS_M = 6_371_008.8
"""Mean earth radius (IUGG), metres."""


@dataclass(frozen=True)
class TravelMatrices:
    """Integer travel matrices for a set of locations, one pair per speed (routing profile).

    Parameters
    ----------
    distance_m
        Shape ``(n_profiles, n, n)``, int64 metres; ``distance_m[p, i, j]`` is the distance from location
        ``i`` to ``j`` for profile ``p``.
    duration_s
        Shape ``(n_profiles, n, n)``, int64 seconds.
    speeds_kmh
        The speed of each profile, km/h, in the order of the first axis.
    """

    distance_m: np.ndarray
    duration_s: np.ndarray
    speeds_kmh: tuple[float, ...]

    def profile(self, speed_kmh: float) -> int:
        """Index of the profile for ``speed_kmh``.

        Raises
        ------
        KeyError
            If no profile has this speed.
        """
        try:
            return self.speeds_kmh.index(float(speed_kmh))
        except ValueError:
            raise KeyError(f"no travel profile for speed {speed_kmh} km/h") from None


class TravelModel(Protocol):
    """What the solver and the validator need from a travel model."""

    def matrices(
        self, lat: np.ndarray, lon: np.ndarray, speeds_kmh: Sequence[float]
    ) -> TravelMatrices:  # pragma: no cover - protocol
        """Integer distance and duration matrices between all given locations, one pair per speed."""
        ...


def haversine_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in metres (vectorised, broadcasting).

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        Decimal degrees; any broadcastable shapes.

    Returns
    -------
    numpy.ndarray
        float64 metres.
    """
    phi1, lam1, phi2, lam2 = (np.radians(np.asarray(a, dtype=np.float64)) for a in (lat1, lon1, lat2, lon2))
    a = np.sin((phi2 - phi1) / 2.0) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass(frozen=True)
class GreatCircleTravelModel:
    """Great-circle distance times a circuity factor; duration at a constant speed per vehicle.

    Parameters
    ----------
    circuity
        Road distance over great-circle distance (dimensionless). Default 1.3.
    """

    circuity: float = 1.3

    def __post_init__(self) -> None:
        if not np.isfinite(self.circuity) or self.circuity <= 0:
            raise ValueError(f"circuity must be a positive number, got {self.circuity}")

    def matrices(self, lat: np.ndarray, lon: np.ndarray, speeds_kmh: Sequence[float]) -> TravelMatrices:
        """Integer distance and duration matrices between all locations.

        Parameters
        ----------
        lat, lon
            Shape ``(n,)``, decimal degrees.
        speeds_kmh
            Distinct positive speeds in km/h, one routing profile each.

        Returns
        -------
        TravelMatrices
            ``distance_m`` rounded to whole metres (the same for every profile; a read-only broadcast view),
            ``duration_s = round(distance / speed)`` in whole seconds.
        """
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        speeds = tuple(float(s) for s in speeds_kmh)
        if len(set(speeds)) != len(speeds) or any(not s > 0 for s in speeds):
            raise ValueError(f"speeds must be distinct and positive, got {speeds}")
        metres = self.circuity * haversine_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        distance = np.rint(metres).astype(np.int64)
        n = lat.shape[0]
        durations = np.empty((len(speeds), n, n), dtype=np.int64)
        for p, speed in enumerate(speeds):
            durations[p] = np.rint(metres * (3.6 / speed)).astype(np.int64)
        return TravelMatrices(
            distance_m=np.broadcast_to(distance, (len(speeds), n, n)),
            duration_s=durations,
            speeds_kmh=speeds,
        )
