"""Tests of solver.travel: great-circle distances, circuity, integer matrices per speed."""

from __future__ import annotations

import numpy as np
import pytest

from solver import GreatCircleTravelModel, haversine_m


def test_one_degree_of_latitude_is_about_111_km():
    """One degree along a meridian is 111.195 km on the mean earth sphere."""
    assert haversine_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(111_195.08, abs=0.1)


def test_matrices_apply_circuity_and_speed():
    """Two points 1 km apart: 1,300 m by road; 130 s at 36 km/h, 260 s at 18 km/h; zero diagonal."""
    lat = np.array([0.0, 1000 / 111_195.08])
    lon = np.array([0.0, 0.0])
    m = GreatCircleTravelModel(circuity=1.3).matrices(lat, lon, [36.0, 18.0])
    assert m.distance_m.dtype == np.int64 and m.duration_s.dtype == np.int64
    assert m.distance_m.shape == m.duration_s.shape == (2, 2, 2)
    assert m.distance_m[0].tolist() == [[0, 1300], [1300, 0]]
    assert m.duration_s[m.profile(36.0)].tolist() == [[0, 130], [130, 0]]
    assert m.duration_s[m.profile(18)].tolist() == [[0, 260], [260, 0]]


def test_matrices_are_symmetric_for_many_points():
    """A random set of 300 points gives symmetric, non-negative matrices without Python loops over edges."""
    rng = np.random.default_rng(0)
    lat, lon = 47.1 + rng.random(300) * 0.2, 9.5 + rng.random(300) * 0.2
    m = GreatCircleTravelModel().matrices(lat, lon, [30.0])
    assert (m.distance_m[0] == m.distance_m[0].T).all()
    assert (m.distance_m >= 0).all()


def test_unknown_speed_and_bad_input_are_refused():
    """Asking for a profile that was not computed, duplicate speeds or a zero circuity raise."""
    m = GreatCircleTravelModel().matrices(np.zeros(1), np.zeros(1), [30.0])
    with pytest.raises(KeyError, match="40"):
        m.profile(40.0)
    with pytest.raises(ValueError, match="distinct"):
        GreatCircleTravelModel().matrices(np.zeros(1), np.zeros(1), [30.0, 30.0])
    with pytest.raises(ValueError, match="circuity"):
        GreatCircleTravelModel(circuity=0.0)
