"""MatrixTravelModel: sub-matrices looked up by exact coordinates, validated input, picklable, versioned."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from solver.matrix import MatrixTravelModel


@pytest.fixture
def four_points() -> MatrixTravelModel:
    """Four points on a line 0.001 degrees apart; distance i->j = 100 * |i - j| + 1 if going back (asymmetric),
    duration = distance // 2, and at 18 km/h duration = distance (a slower profile)."""
    k = np.arange(4)
    distance = 100 * np.abs(k[:, None] - k[None, :]) + (k[:, None] > k[None, :])
    return MatrixTravelModel(
        lat=k * 1e-3,
        lon=np.zeros(4),
        distance_m=distance,
        duration_s=distance // 2,
        duration_s_by_speed={18.0: distance},
    )


def test_matrices_are_the_rows_and_columns_of_the_requested_points_in_their_order(four_points):
    """Points asked for in any order (and twice) get exactly the matching sub-matrix, per profile."""
    idx = np.array([2, 0, 3, 2])
    m = four_points.matrices(idx * 1e-3, np.zeros(4), [36.0, 18.0])
    assert m.speeds_kmh == (36.0, 18.0)
    assert m.distance_m.shape == m.duration_s.shape == (2, 4, 4)
    expected = four_points.distance_m[np.ix_(idx, idx)]
    np.testing.assert_array_equal(m.distance_m[0], expected)
    np.testing.assert_array_equal(m.distance_m[1], expected)
    np.testing.assert_array_equal(m.duration_s[0], expected // 2)
    np.testing.assert_array_equal(m.duration_s[1], expected)
    assert m.distance_m.dtype == m.duration_s.dtype == np.int64
    assert (m.distance_m[0, 0, 1], m.distance_m[0, 1, 0]) == (201, 200)  # 2 back to 0, and 0 on to 2


def test_unknown_coordinates_raise_a_key_error_naming_the_location(four_points):
    """A location that is not one of the points is an error, not a silent nearest match."""
    with pytest.raises(KeyError, match=r"location 1 at \(lat 0.0015"):
        four_points.matrices(np.array([0.0, 0.0015]), np.zeros(2), [36.0])


def test_shared_coordinates_are_allowed_only_with_equal_rows():
    """Two points at one place answer the same only if their rows and columns agree, so that is checked."""
    same = np.array([[0, 5, 5], [5, 0, 0], [5, 0, 0]])
    model = MatrixTravelModel(lat=[0.0, 1.0, 1.0], lon=[0.0, 0.0, 0.0], distance_m=same, duration_s=same)
    np.testing.assert_array_equal(model.matrices([1.0, 0.0], [0.0, 0.0], [30.0]).distance_m[0], [[0, 5], [5, 0]])
    differs = np.array([[0, 5, 6], [5, 0, 0], [6, 0, 0]])
    with pytest.raises(ValueError, match="points 1 and 2 share coordinates"):
        MatrixTravelModel(lat=[0.0, 1.0, 1.0], lon=[0.0, 0.0, 0.0], distance_m=differs, duration_s=same)


@pytest.mark.parametrize(
    ("distance", "duration", "message"),
    [
        (np.zeros((2, 3), dtype=np.int64), np.zeros((2, 2), dtype=np.int64), r"shape \(2, 2\)"),
        (np.zeros((2, 2)), np.zeros((2, 2), dtype=np.int64), "integers"),
        (np.array([[0, -1], [1, 0]]), np.zeros((2, 2), dtype=np.int64), "non-negative"),
        (np.zeros((2, 2), dtype=np.int64), np.array([[0, 1], [-3, 0]]), "non-negative, got -3"),
    ],
)
def test_bad_matrices_are_rejected(distance, duration, message):
    """Shapes must match the points; entries must be non-negative integers."""
    with pytest.raises(ValueError, match=message):
        MatrixTravelModel(lat=[0.0, 1.0], lon=[0.0, 0.0], distance_m=distance, duration_s=duration)


def test_bad_coordinates_are_rejected():
    """NaN or out-of-range coordinates could never match an order, so they fail at construction."""
    square = np.zeros((2, 2), dtype=np.int64)
    with pytest.raises(ValueError, match="NaN"):
        MatrixTravelModel(lat=[0.0, np.nan], lon=[0.0, 0.0], distance_m=square, duration_s=square)
    with pytest.raises(ValueError, match="out of range"):
        MatrixTravelModel(lat=[0.0, 91.0], lon=[0.0, 0.0], distance_m=square, duration_s=square)


def test_the_model_keeps_its_own_read_only_copy():
    """Changing the caller's array afterwards does not change the model (or its version)."""
    distance = np.array([[0, 7], [7, 0]])
    model = MatrixTravelModel(lat=[0.0, 1.0], lon=[0.0, 0.0], distance_m=distance, duration_s=distance)
    version = model.version
    distance[0, 1] = 99
    assert model.matrices([0.0, 1.0], [0.0, 0.0], [30.0]).distance_m[0, 0, 1] == 7
    assert not model.distance_m.flags.writeable
    assert model.version == version


def test_pickle_round_trip_gives_the_same_model(four_points):
    """The solver sends the model to worker processes: it must survive pickling."""
    copy = pickle.loads(pickle.dumps(four_points))
    assert copy.version == four_points.version
    a = copy.matrices([3e-3, 1e-3], [0.0, 0.0], [18.0])
    b = four_points.matrices([3e-3, 1e-3], [0.0, 0.0], [18.0])
    np.testing.assert_array_equal(a.distance_m, b.distance_m)
    np.testing.assert_array_equal(a.duration_s, b.duration_s)


def test_version_is_a_digest_of_the_contents(four_points):
    """Equal contents give equal versions; one changed entry gives another."""
    again = MatrixTravelModel(
        lat=four_points.lat,
        lon=four_points.lon,
        distance_m=four_points.distance_m,
        duration_s=four_points.duration_s,
        duration_s_by_speed=dict(four_points.duration_s_by_speed),
    )
    assert again.version == four_points.version
    changed = four_points.duration_s.copy()
    changed[0, 1] += 1
    other = MatrixTravelModel(
        lat=four_points.lat, lon=four_points.lon, distance_m=four_points.distance_m, duration_s=changed
    )
    assert other.version != four_points.version
