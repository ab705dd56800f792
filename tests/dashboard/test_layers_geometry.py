"""Route lines on the maps: road geometry when the snapshot has it, else straight lines through the reload visits
to the route's end depot (dashboard.layers.route_paths, the deck builders, and queries.route_geometry)."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dashboard import layers, queries

from .conftest import DAY_2, PLAN_DAY_2, demo_tables

SCHAAN = [9.509, 47.165]
TRIESEN = [9.526, 47.108]
DEPOTS = pd.DataFrame(
    {
        "depot_id": ["D-SCHAAN", "D-TRIESEN"],
        "name": ["Schaan", "Triesen"],
        "lat": [47.165, 47.108],
        "lon": [9.509, 9.526],
    }
)


def _routes(**columns) -> pd.DataFrame:
    """Two routes of plan p of Schaan: R1 (3 stops) and R2 (1 stop), with the given extra columns."""
    base = {
        "plan_id": ["p", "p"],
        "depot_id": ["D-SCHAAN", "D-SCHAAN"],
        "route_id": ["R1", "R2"],
        "vehicle_id": ["V-1", "V-2"],
        "vehicle_type": ["van", "van"],
        "n_stops": [3, 1],
        "start_s": [27_000, 27_000],
        "end_s": [40_000, 30_000],
        "distance_m": [12_000, 3_000],
    }
    return pd.DataFrame(base | columns)


def _stops(trip=None) -> pd.DataFrame:
    """R1: stops A, B, C (given in reverse order); R2: stop D."""
    frame = pd.DataFrame(
        {
            "plan_id": ["p"] * 4,
            "route_id": ["R1", "R1", "R1", "R2"],
            "vehicle_id": ["V-1", "V-1", "V-1", "V-2"],
            "sequence": [3, 2, 1, 1],
            "lon": [9.53, 9.52, 9.51, 9.50],
            "lat": [47.13, 47.14, 47.15, 47.16],
            "late_s": [0, 0, 0, 0],
            "order_id": ["O-C", "O-B", "O-A", "O-D"],
            "street": ["s"] * 4,
            "postcode": ["9494"] * 4,
            "town": ["Schaan"] * 4,
            "tw_start_s": [None] * 4,
            "tw_end_s": [None] * 4,
            "arrival_s": [30_000, 29_000, 28_000, 28_000],
        }
    )
    if trip is not None:
        frame["trip"] = trip
    return frame


A, B, C, D = [9.51, 47.15], [9.52, 47.14], [9.53, 47.13], [9.50, 47.16]


def _paths(records) -> dict[str, list]:
    return {record["route_id"]: record["path"] for record in records}


def test_without_depot_and_trip_columns_a_route_runs_from_its_depot_back_to_it():
    paths = _paths(layers.route_paths(_routes(), _stops(), DEPOTS))
    assert paths == {"R1": [SCHAAN, A, B, C, SCHAAN], "R2": [SCHAAN, D, SCHAAN]}


def test_straight_lines_visit_the_start_depot_between_trips_and_end_at_the_end_depot():
    routes = _routes(start_depot_id=["D-SCHAAN", None], end_depot_id=["D-TRIESEN", None])
    stops = _stops(trip=[2, 1, 1, 1])  # R1: A and B on trip 1, C on trip 2

    paths = _paths(layers.route_paths(routes, stops, DEPOTS))

    assert paths["R1"] == [SCHAAN, A, B, SCHAAN, C, TRIESEN]
    assert paths["R2"] == [SCHAAN, D, SCHAAN]  # null start and end depot: the route's own


def test_a_route_with_geometry_follows_it_and_one_without_is_drawn_straight():
    routes = _routes(end_depot_id=["D-TRIESEN", "D-SCHAAN"])
    geometry = pd.DataFrame(
        {
            "plan_id": ["p"] * 4,
            "route_id": ["R1"] * 4,
            "seq": [2, 0, 3, 1],  # any row order: seq decides
            "lon": [9.515, SCHAAN[0], TRIESEN[0], 9.51],
            "lat": [47.155, SCHAAN[1], TRIESEN[1], 47.16],
        }
    )

    paths = _paths(layers.route_paths(routes, _stops(), DEPOTS, geometry=geometry))

    assert paths["R1"] == [SCHAAN, [9.51, 47.16], [9.515, 47.155], TRIESEN]
    assert paths["R2"] == [SCHAAN, D, SCHAAN]
    assert _paths(layers.route_paths(routes, _stops(), DEPOTS, geometry=geometry.iloc[0:0]))["R1"][-1] == TRIESEN


def test_geometry_of_another_plan_is_not_used():
    geometry = pd.DataFrame({"plan_id": ["old"] * 2, "route_id": ["R1"] * 2, "seq": [0, 1], "lon": [0.0, 1.0],
                             "lat": [0.0, 1.0]})  # fmt: skip
    assert _paths(layers.route_paths(_routes(), _stops(), DEPOTS, geometry=geometry))["R1"] == [SCHAAN, A, B, C, SCHAAN]


def test_a_straight_route_ending_at_a_depot_not_given_raises():
    routes = _routes(end_depot_id=["D-TRIESEN", "D-SCHAAN"])
    with pytest.raises(ValueError, match="R1 ends at depot D-TRIESEN"):
        layers.route_paths(routes, _stops(), DEPOTS[DEPOTS.depot_id == "D-SCHAAN"])


def test_route_depots_adds_the_depots_where_routes_end():
    routes = _routes(start_depot_id=["D-SCHAAN", None], end_depot_id=["D-TRIESEN", None])
    assert layers.route_depots(DEPOTS, routes, "D-SCHAAN").depot_id.tolist() == ["D-SCHAAN", "D-TRIESEN"]
    assert layers.route_depots(DEPOTS, _routes(), "D-SCHAAN").depot_id.tolist() == ["D-SCHAAN"]
    assert layers.route_depots(DEPOTS, routes, None).depot_id.tolist() == ["D-SCHAAN", "D-TRIESEN"]


def _geometry_r1() -> pd.DataFrame:
    return pd.DataFrame(
        {"plan_id": ["p"] * 3, "route_id": ["R1"] * 3, "seq": [0, 1, 2], "lon": [SCHAAN[0], 9.6, SCHAAN[0]],
         "lat": [SCHAAN[1], 47.3, SCHAAN[1]]}
    )  # fmt: skip


def test_the_plan_deck_draws_the_geometry():
    unassigned = pd.DataFrame(columns=["order_id", "lat", "lon", "reason_code", "reason", "depot_name"])
    deck = layers.build_deck(_routes(), _stops(), DEPOTS, unassigned, _geometry_r1())
    spec = json.loads(deck.to_json())
    (path_layer,) = [layer for layer in spec["layers"] if layer["@@type"] == "PathLayer"]
    assert _paths(path_layer["data"])["R1"] == [SCHAAN, [9.6, 47.3], SCHAAN]


def test_the_plan_vs_actual_deck_draws_the_geometry_of_the_chosen_vehicles():
    empty_tracks = pd.DataFrame(columns=["vehicle_id", "seq", "lat", "lon"])
    deliveries = pd.DataFrame(
        columns=["vehicle_id", "order_id", "lat", "lon", "outcome", "is_on_time", "planned_arrival_s"]
    )
    deck = layers.build_plan_vs_actual_deck(
        _routes(), _stops(), empty_tracks, deliveries, DEPOTS, vehicles=["V-1"], geometry=_geometry_r1()
    )
    spec = json.loads(deck.to_json())
    planned = next(layer for layer in spec["layers"] if layer["id"] == "planned")
    assert _paths(planned["data"]) == {"R1": [SCHAAN, [9.6, 47.3], SCHAAN]}


def test_route_geometry_query_reads_the_snapshot_file_or_gives_an_empty_frame(serving_snapshot):
    key = str(serving_snapshot.snapshot_dir)
    queries.route_geometry.clear()
    empty = queries.route_geometry(key, DAY_2)
    assert empty.empty and tuple(empty.columns) == queries.ROUTE_GEOMETRY_COLUMNS

    rows = pd.DataFrame(
        {
            "plan_id": [PLAN_DAY_2] * 3 + ["plan-2026-11-26-daily-v1"],
            "service_date": [DAY_2] * 3 + [DAY_2 - pd.Timedelta(days=1)],
            "depot_id": ["D-SCHAAN", "D-SCHAAN", "D-TRIESEN", "D-SCHAAN"],
            "route_id": ["R1", "R1", "R3", "R1"],
            "seq": [1, 0, 0, 0],
            "lon": [9.51, 9.509, 9.526, 9.5],
            "lat": [47.16, 47.165, 47.108, 47.1],
        }
    )
    pq.write_table(
        pa.Table.from_pandas(rows, preserve_index=False), serving_snapshot.snapshot_dir / "route_geometry.parquet"
    )
    queries.route_geometry.clear()

    day = queries.route_geometry(key, DAY_2)
    schaan = queries.route_geometry(key, DAY_2, "D-SCHAAN")

    assert day[["route_id", "seq"]].values.tolist() == [["R1", 0], ["R1", 1], ["R3", 0]]
    assert schaan.route_id.tolist() == ["R1", "R1"] and schaan.lon.tolist() == [9.509, 9.51]
    routes = demo_tables()["planned_routes"].query("service_date == @DAY_2")
    stops = demo_tables()["planned_stops"].query("service_date == @DAY_2")
    paths = _paths(layers.route_paths(routes, stops, DEPOTS, geometry=day))
    assert paths["R1"] == [[9.509, 47.165], [9.51, 47.16]] and len(paths["R2"]) > 2
