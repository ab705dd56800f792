"""The hidden "true" world: how long stops really take and when customers are really there.

Planning never reads these numbers; it has to learn them from stop events. They live in the world so that
the execution simulator (to come) can play a plan out against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PresenceProfile", "ServiceTime", "Truth", "default_truth"]


@dataclass(frozen=True)
class ServiceTime:
    """True time spent at a stop of one site type: ``lognormal(median_s, sigma) + per_parcel_s * parcels``.

    Attributes
    ----------
    site_type : str
        ``house``, ``apartment`` or ``business``.
    median_s : float
        Median fixed time per stop (park, walk, hand over), seconds.
    per_parcel_s : float
        Extra seconds per parcel.
    sigma : float
        Log-scale spread of the fixed time.
    """

    site_type: str
    median_s: float
    per_parcel_s: float
    sigma: float


@dataclass(frozen=True)
class PresenceProfile:
    """Probability that someone takes the delivery, for each local hour 0..23."""

    name: str
    p_by_hour: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.p_by_hour) != 24 or not all(0.0 <= p <= 1.0 for p in self.p_by_hour):
            raise ValueError(f"presence profile {self.name!r} needs 24 probabilities in [0, 1]")


def _hours(night: float, segments: dict[tuple[int, int], float]) -> tuple[float, ...]:
    p = [night] * 24
    for (start, end), value in segments.items():
        for hour in range(start, end):
            p[hour] = value
    return tuple(p)


@dataclass(frozen=True)
class Truth:
    """Hidden parameters of the demo world.

    Attributes
    ----------
    service_times : tuple of ServiceTime
        One per site type.
    presence_profiles : tuple of PresenceProfile
        Referenced by ``Customer.presence_profile``.
    speed_factor_by_hour : tuple of float
        True road speed relative to the planning speed, for each local hour 0..23 (rush hours < 1).
    hillside_speed_factor : float
        Extra factor on hillside villages (Triesenberg, Planken, Schellenberg): hairpins and narrow roads.
    """

    service_times: tuple[ServiceTime, ...]
    presence_profiles: tuple[PresenceProfile, ...]
    speed_factor_by_hour: tuple[float, ...] = field(default=(1.0,) * 24)
    hillside_speed_factor: float = 0.75

    def service_time(self, site_type: str) -> ServiceTime:
        """Return the service-time truth for ``site_type``; raise ``KeyError`` if unknown."""
        for st in self.service_times:
            if st.site_type == site_type:
                return st
        raise KeyError(f"no service time for site type {site_type!r}")

    def presence_profile(self, name: str) -> PresenceProfile:
        """Return the presence profile called ``name``; raise ``KeyError`` if unknown."""
        for profile in self.presence_profiles:
            if profile.name == name:
                return profile
        raise KeyError(f"no presence profile {name!r}")


def default_truth() -> Truth:
    """Return the hidden parameters of the demo world (the same for every seed and scale)."""
    return Truth(
        service_times=(
            ServiceTime("house", median_s=150.0, per_parcel_s=15.0, sigma=0.35),
            ServiceTime("apartment", median_s=240.0, per_parcel_s=20.0, sigma=0.45),
            ServiceTime("business", median_s=180.0, per_parcel_s=25.0, sigma=0.40),
        ),
        presence_profiles=(
            PresenceProfile("home_all_day", _hours(0.5, {(7, 21): 0.88})),
            PresenceProfile(
                "commuter", _hours(0.5, {(7, 8): 0.6, (8, 17): 0.3, (17, 18): 0.6, (18, 21): 0.9})
            ),
            PresenceProfile(
                "office", _hours(0.0, {(8, 12): 0.95, (12, 13): 0.5, (13, 17): 0.95, (17, 18): 0.4})
            ),
            PresenceProfile("shop", _hours(0.0, {(9, 12): 0.97, (12, 13): 0.8, (13, 19): 0.97})),
        ),
        speed_factor_by_hour=(
            1.1, 1.1, 1.1, 1.1, 1.1, 1.05, 0.95, 0.75, 0.8, 0.95, 1.0, 0.95,
            0.9, 0.95, 1.0, 0.95, 0.85, 0.72, 0.8, 0.95, 1.0, 1.05, 1.1, 1.1,
        ),
    )
