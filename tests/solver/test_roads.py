"""Tests of solver.roads: the OpenStreetMap road graph and the road-network travel model, on the Monaco extract.

The extracts live outside the repository, in ``<repo>/../shared/data/osm`` (ODbL, © OpenStreetMap
contributors); the tests that need one skip when it is absent.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("osmium")

import osmium  # noqa: E402
from scipy.sparse.csgraph import connected_components, dijkstra  # noqa: E402

from solver import Depot, GreatCircleTravelModel, Order, Problem, SolveConfig, haversine_m, solve, validate  # noqa: E402
from solver.roads import RoadNetwork, RoadTravelModel, _way_directions, parse_maxspeed  # noqa: E402
from tests.solver.factories import HOUR, van  # noqa: E402

OSM_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "osm"
MONACO = OSM_DIR / "monaco.osm.pbf"
needs_monaco = pytest.mark.skipif(not MONACO.is_file(), reason=f"OpenStreetMap extract {MONACO} is not there")

PLACES = {
    "palace": (43.7314, 7.4198),
    "casino": (43.7394, 7.4283),
    "station": (43.7388, 7.4200),
    "stade_louis_ii": (43.7276, 7.4156),
    "larvotto": (43.7455, 7.4350),
    "port": (43.7365, 7.4235),
    "jardin_exotique": (43.7312, 7.4127),
    "fontvieille": (43.7295, 7.4180),
    "hospital": (43.7370, 7.4130),
    "saint_roman": (43.7510, 7.4400),
}
"""Ten places in and around Monaco, each within 200 m of a drivable road of the extract."""

SEA = (43.7300, 7.4450)
"""Open sea off Monaco, more than 1 km from any road."""
NICE_AIRPORT = (43.6584, 7.2159)
PARIS = (48.8566, 2.3522)

ONE_WAY_STREET = 176531067
"""OSM way "Boulevard Rainier III" (secondary, oneway=yes, 5 nodes, about 85 m) in the Monaco extract."""


@pytest.fixture(scope="module")
def model() -> RoadTravelModel:
    """The road-network travel model on the Monaco extract, default settings."""
    return RoadTravelModel(str(MONACO))


def _latlon(names):
    lat = np.array([PLACES[n][0] for n in names])
    lon = np.array([PLACES[n][1] for n in names])
    return lat, lon


def _polyline_m(line):
    lon, lat = np.array(line).T
    return float(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum())


def _read_way(way_id: int) -> tuple[dict[str, str], np.ndarray, np.ndarray]:
    """Tags and node positions of one way of the Monaco extract."""
    processor = (
        osmium.FileProcessor(str(MONACO), osmium.osm.WAY | osmium.osm.NODE)
        .with_locations()
        .with_filter(osmium.filter.IdFilter([way_id]))
    )
    for obj in processor:
        if obj.is_way():
            return (
                dict(obj.tags),
                np.array([n.location.lat for n in obj.nodes]),
                np.array([n.location.lon for n in obj.nodes]),
            )
    raise LookupError(f"way {way_id} is not in {MONACO}")


def test_maxspeed_is_read_in_kmh_or_mph_and_ignored_otherwise():
    """Plain numbers are km/h, "mph" converts, zones and text give None."""
    assert parse_maxspeed("50") == 50.0
    assert parse_maxspeed("30 mph") == pytest.approx(48.28, abs=0.01)
    assert parse_maxspeed("FR:urban") is None
    assert parse_maxspeed("none") is None
    assert parse_maxspeed(None) is None


def test_way_tags_decide_the_directions():
    """oneway, -1, roundabouts and motorways make one-way roads; private or non-car ways are left out."""
    assert _way_directions({}, "residential") == (True, True)
    assert _way_directions({"oneway": "yes"}, "residential") == (True, False)
    assert _way_directions({"oneway": "-1"}, "primary") == (False, True)
    assert _way_directions({"junction": "roundabout"}, "tertiary") == (True, False)
    assert _way_directions({}, "motorway") == (True, False)
    assert _way_directions({"oneway": "no"}, "motorway") == (True, True)
    assert _way_directions({"access": "private"}, "service") is None
    assert _way_directions({"access": "no", "motor_vehicle": "yes"}, "residential") == (True, True)
    assert _way_directions({"service": "emergency_access"}, "service") is None
    assert _way_directions({"oneway": "reversible"}, "primary") is None
    assert _way_directions({}, "footway") is None


@needs_monaco
def test_graph_is_one_strongly_connected_component_and_drops_the_rest(model):
    """Only the largest strongly connected component is kept; Monaco's extract has fragments to drop."""
    network = model.network
    n_parts, _ = connected_components(network.length_m, directed=True, connection="strong")
    assert n_parts == 1
    assert network.dropped_lat.shape[0] > 0
    assert network.n_junctions < network.n_nodes / 4


@needs_monaco
def test_snapping_never_lands_outside_the_kept_component(model):
    """A location exactly on a dropped node snaps to a kept node, a positive distance away."""
    network = model.network
    node, snap_m = network.snap(network.dropped_lat, network.dropped_lon)
    assert ((node >= 0) & (node < network.n_nodes)).all()
    kept = set(zip(network.lat.tolist(), network.lon.tolist(), strict=True))
    dropped = zip(network.dropped_lat.tolist(), network.dropped_lon.tolist(), strict=True)
    on_kept = np.array([p in kept for p in dropped])
    assert (snap_m[~on_kept] > 0).all()


@needs_monaco
def test_contracted_shortest_paths_equal_dijkstra_on_every_segment(model):
    """Distances over the junction graph equal scipy's Dijkstra over the full segment graph (200 nodes)."""
    network = model.network
    nodes = np.random.default_rng(3).choice(network.n_nodes, 200, replace=False)
    metres, _ = network.road_metrics(nodes, nodes)
    full = dijkstra(network.length_m, directed=True, indices=nodes)[:, nodes]
    np.testing.assert_allclose(metres, full, atol=1e-6)


@needs_monaco
def test_road_times_are_the_drive_along_the_returned_path(model):
    """The seconds of a pair are the segment times (at min(free-flow, vehicle speed)) along road_path."""
    network = model.network
    nodes = np.random.default_rng(4).choice(network.n_nodes, 40, replace=False)
    metres, seconds = network.road_metrics(nodes[:20], nodes[20:], [36.0, 18.0])
    for i, a in enumerate(nodes[:20]):
        for j, b in enumerate(nodes[20:]):
            path = np.array(network.road_path(int(a), int(b)))
            assert path[0] == a and path[-1] == b
            assert network.has_edge(path[:-1], path[1:]).all()
            e = network._edge_index(path[:-1], path[1:])
            length, speed = network.length_m.data[e], network.speed_kmh[e]
            assert length.sum() == pytest.approx(metres[i, j], abs=1e-6)
            for p, v in enumerate((36.0, 18.0)):
                assert (length * 3.6 / np.minimum(speed, v)).sum() == pytest.approx(seconds[p, i, j], abs=1e-6)


@needs_monaco
def test_road_distances_exceed_the_straight_line_within_a_plausible_factor(model):
    """All pairs of ten Monaco places: the road is longer than the straight line, typically under 3 times it."""
    names = sorted(PLACES)
    lat, lon = _latlon(names)
    _, snap_m = model.network.snap(lat, lon)
    assert (snap_m < 200).all()
    m = model.matrices(lat, lon, [36.0])
    straight = haversine_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    off = ~np.eye(len(names), dtype=bool)
    assert (straight[off] > 250).all()
    assert (m.distance_m[0][off] > straight[off]).all()
    ratio = m.distance_m[0][off] / straight[off]
    assert 1.05 < np.median(ratio) < 3.0
    assert np.diag(m.distance_m[0]).tolist() == [0] * len(names)
    assert (m.duration_s[0][off] >= np.rint(m.distance_m[0][off] * 3.6 / 36.0)).all()


@needs_monaco
def test_a_one_way_street_is_driven_only_one_way(model):
    """Boulevard Rainier III end to end: along it is its own length, against it a detour of several times that."""
    tags, lat, lon = _read_way(ONE_WAY_STREET)
    assert tags["oneway"] == "yes" and tags["name"] == "Boulevard Rainier III"
    street_m = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum()
    ends_lat, ends_lon = lat[[0, -1]], lon[[0, -1]]
    m = model.matrices(ends_lat, ends_lon, [36.0])
    along, against = int(m.distance_m[0, 0, 1]), int(m.distance_m[0, 1, 0])
    assert along == pytest.approx(street_m, abs=1)
    assert against > 3 * along
    assert m.duration_s[0, 1, 0] > m.duration_s[0, 0, 1]
    (line,) = model.paths(ends_lat, ends_lon)
    assert len(line) >= len(lat)


@needs_monaco
def test_locations_outside_the_extract_or_at_sea_fall_back_to_great_circle(model):
    """Pairs with Nice airport, Paris or the open sea are great-circle x circuity; a point 20 m off a road snaps."""
    network = model.network
    road_node = network.n_nodes // 2
    near_lat = network.lat[road_node] + 20 / 111_195.0
    near_lon = network.lon[road_node]
    lat = np.array([PLACES["casino"][0], NICE_AIRPORT[0], PARIS[0], SEA[0], near_lat])
    lon = np.array([PLACES["casino"][1], NICE_AIRPORT[1], PARIS[1], SEA[1], near_lon])
    m = model.matrices(lat, lon, [36.0])
    straight = GreatCircleTravelModel(circuity=1.3).matrices(lat, lon, [36.0])
    for k in (1, 2, 3):
        assert (m.distance_m[0, k] == straight.distance_m[0, k]).all()
        assert (m.distance_m[0, :, k] == straight.distance_m[0, :, k]).all()
        assert (m.duration_s[0, k] == straight.duration_s[0, k]).all()
    node, snap_m = network.snap(lat[[0, 4]], lon[[0, 4]])
    assert snap_m[1] <= 20.5
    road_m, _ = network.road_metrics(node, node)
    assert m.distance_m[0, 0, 4] == round(snap_m[0] + road_m[0, 1] + snap_m[1])
    assert m.distance_m[0, 0, 4] != straight.distance_m[0, 0, 4]


@needs_monaco
def test_a_subset_of_locations_gets_the_same_numbers(model):
    """Each entry depends only on its two locations, so the validator's per-route matrices agree with the solver's."""
    names = sorted(PLACES)
    lat, lon = _latlon(names)
    lat, lon = np.append(lat, SEA[0]), np.append(lon, SEA[1])
    whole = model.matrices(lat, lon, [36.0, 18.0])
    pick = np.array([7, 10, 2, 5])
    part = model.matrices(lat[pick], lon[pick], [18.0])
    assert (part.distance_m[0] == whole.distance_m[0][np.ix_(pick, pick)]).all()
    assert (part.duration_s[0] == whole.duration_s[1][np.ix_(pick, pick)]).all()


@needs_monaco
def test_paths_follow_the_roads_from_location_to_location(model):
    """Each leg starts and ends at its locations and is as long as the matrix says (to 1 m); fallbacks are straight."""
    names = ["fontvieille", "casino", "larvotto", "palace", "fontvieille"]
    lat, lon = _latlon(names)
    lat, lon = np.append(lat, SEA[0]), np.append(lon, SEA[1])
    legs = model.paths(lat, lon)
    m = model.matrices(lat, lon, [36.0])
    assert len(legs) == len(lat) - 1
    for k, line in enumerate(legs):
        assert line[0] == (lon[k], lat[k]) and line[-1] == (lon[k + 1], lat[k + 1])
    for k in range(4):
        assert len(legs[k]) > 10
        assert _polyline_m(legs[k]) == pytest.approx(m.distance_m[0, k, k + 1], abs=1.0)
    assert len(legs[4]) == 2
    assert model.paths(lat[:1], lon[:1]) == []


@needs_monaco
def test_solver_plans_on_the_road_network_and_the_plan_validates(model):
    """Depot at Fontvieille and eight orders around Monaco: a valid plan whose legs are the road matrix."""
    names = [n for n in sorted(PLACES) if n != "fontvieille"][:8]
    depot = Depot(
        depot_id="D-MC",
        lat=PLACES["fontvieille"][0],
        lon=PLACES["fontvieille"][1],
        opens_s=6 * HOUR,
        closes_s=20 * HOUR,
    )
    orders = tuple(
        Order(
            order_id=f"O-{name}",
            lat=PLACES[name][0],
            lon=PLACES[name][1],
            weight_g=1000,
            volume_cm3=1000,
            service_s=120,
            tw_start_s=0,
            tw_end_s=24 * HOUR,
        )
        for name in names
    )
    problem = Problem(depot=depot, orders=orders, vehicles=(van(speed_kmh=30.0),))
    plan = solve(problem, SolveConfig(time_budget_s=2, max_iters=200, seed=1), travel_model=model)
    assert validate(problem, plan, travel_model=model) == []
    assert plan.unassigned == ()
    (route,) = plan.routes
    lat = np.array([depot.lat] + [o.lat for o in orders])
    lon = np.array([depot.lon] + [o.lon for o in orders])
    m = model.matrices(lat, lon, [30.0])
    at = {o.order_id: i + 1 for i, o in enumerate(orders)}
    visits = [0] + [at[s.order_id] for s in route.stops] + [0]
    legs = [int(m.distance_m[0, a, b]) for a, b in zip(visits[:-1], visits[1:], strict=True)]
    assert [s.leg_distance_m for s in route.stops] == legs[:-1]
    assert route.distance_m == sum(legs)


@needs_monaco
def test_model_pickles_small_and_gives_the_same_matrices(model):
    """The pickle carries the parameters, not the graph; the copy computes identical matrices."""
    names = sorted(PLACES)
    lat, lon = _latlon(names)
    data = pickle.dumps(model)
    assert len(data) < 1000
    copy = pickle.loads(data)
    assert copy == model
    a, b = model.matrices(lat, lon, [36.0, 18.0]), copy.matrices(lat, lon, [36.0, 18.0])
    assert (a.distance_m == b.distance_m).all() and (a.duration_s == b.duration_s).all()
    assert copy.version == model.version
    assert model.version.startswith("osm:monaco:")
    assert RoadTravelModel(str(MONACO), speed_scale=0.8).version != model.version


@needs_monaco
def test_speed_scale_slows_the_roads_not_the_distances(model):
    """speed_scale 0.5 keeps distances and makes a fast vehicle's drive slower."""
    lat, lon = _latlon(sorted(PLACES))
    slow = RoadTravelModel(str(MONACO), speed_scale=0.5).matrices(lat, lon, [90.0])
    fast = model.matrices(lat, lon, [90.0])
    assert (slow.distance_m == fast.distance_m).all()
    off = ~np.eye(len(PLACES), dtype=bool)
    assert (slow.duration_s[0][off] > fast.duration_s[0][off]).all()


def test_bad_input_is_refused(tmp_path):
    """A missing extract, an unknown profile and non-positive settings raise with the reason."""
    with pytest.raises(FileNotFoundError, match="no OpenStreetMap extract"):
        RoadTravelModel(str(tmp_path / "missing.osm.pbf"))
    with pytest.raises(FileNotFoundError, match="no OpenStreetMap extract"):
        RoadNetwork.from_pbf(tmp_path / "missing.osm.pbf")
    if MONACO.is_file():
        with pytest.raises(ValueError, match="unknown routing profile"):
            RoadNetwork.from_pbf(MONACO, profile="bicycle")
        with pytest.raises(ValueError, match="speed_scale"):
            RoadTravelModel(str(MONACO), speed_scale=0)
        with pytest.raises(ValueError, match="max_snap_m"):
            RoadTravelModel(str(MONACO), max_snap_m=-1)
