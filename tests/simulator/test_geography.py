"""Tests for simulator.geography: every place lies on land inside the valley."""

from __future__ import annotations

import numpy as np

from simulator.geography import DEPOT_SITES, ENVELOPE, SETTLEMENTS, haversine_m, sample_points
from simulator.seeding import rng_for

LI_MUNICIPALITIES = {
    "Vaduz", "Schaan", "Triesen", "Balzers", "Eschen", "Mauren", "Triesenberg", "Ruggell", "Gamprin",
    "Schellenberg", "Planken",
}


def test_liechtenstein_has_its_eleven_municipalities_with_real_postcodes():
    """The liechtenstein area covers exactly the 11 municipalities, all with postcodes 9485-9498."""
    settlements = SETTLEMENTS["liechtenstein"]
    assert {s.municipality for s in settlements} == LI_MUNICIPALITIES
    assert all(9485 <= int(s.postcode) <= 9498 for s in settlements)
    assert len({s.postcode for s in settlements}) == len(settlements)


def test_settlement_centres_and_boxes_lie_in_the_envelope():
    """Each settlement's centre is inside its own box, and the box inside the valley envelope."""
    for s in SETTLEMENTS["rhine_valley"]:
        assert s.box.contains(s.lat, s.lon), s.name
        assert ENVELOPE.contains(s.box.lat_min, s.box.lon_min), s.name
        assert ENVELOPE.contains(s.box.lat_max, s.box.lon_max), s.name


def test_depot_sites_lie_in_the_envelope_near_their_town():
    """Depots stand inside the envelope, within 2 km of the centre of the town they are in."""
    for site in DEPOT_SITES.values():
        town = next(s for s in SETTLEMENTS["rhine_valley"] if s.name == site.town)
        assert ENVELOPE.contains(site.lat, site.lon)
        assert haversine_m(site.lat, site.lon, town.lat, town.lon) < 2_000


def test_sampled_points_stay_inside_the_settlement_box():
    """Rejection sampling never returns a point outside the box, even for a wide spread."""
    for s in SETTLEMENTS["rhine_valley"]:
        lat, lon = sample_points(s, 500, rng_for(1, "test", 0), spread_factor=3.0)
        assert lat.shape == lon.shape == (500,)
        assert np.all(s.box.contains(lat, lon)), s.name


def test_haversine_matches_a_known_distance():
    """Vaduz to Schaan centre is about 2.9 km as the crow flies."""
    assert 2_700 < haversine_m(47.1400, 9.5215, 47.1650, 9.5095) < 3_100
