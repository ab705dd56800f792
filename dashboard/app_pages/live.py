"""Live: the day as it runs. Each vehicle at its last position with its remaining route, progress per vehicle, the
re-timed ETAs of the stops still to serve, at-risk stops, what the latest re-plan changed, and a button that asks
the pipeline for a re-plan (docs/replanning.md, sections 4 and 6)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import layers, queries
from dashboard.snapshot import Snapshot
from dashboard.ui import (
    depot_name,
    depot_picker,
    empty_state,
    page_header,
    run_page,
    service_date_picker,
    table_with_route_colours,
)
from orchestration.requests import write_replan_request

DATA_DIR_ENV = "LASTMILE_DATA_DIR"
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DEFAULT_REASON = "Re-plan now"
_AT_RISK_ROW = "background-color: rgba(214, 39, 40, 0.12)"


def data_dir() -> Path:
    """The pipeline's data folder, where re-plan requests go: ``$LASTMILE_DATA_DIR`` (read per call), else the
    repo's ``data``."""
    configured = os.environ.get(DATA_DIR_ENV)
    return Path(configured).expanduser() if configured else DEFAULT_DATA_DIR


def render(snapshot: Snapshot) -> None:
    dates = sorted(set(queries.service_dates(snapshot.key)) | set(queries.live_dates(snapshot.key)))
    date_col, depot_col = page_header("Live", snapshot)
    if not dates:
        empty_state(
            "The published snapshot holds no plans",
            f"Snapshot `{snapshot.snapshot_id}` has no service date with a current plan. "
            "Plan a service date and publish it:",
        )
        return
    _start_from_plan_choice(dates)
    with date_col:
        service_date = service_date_picker(dates, key="live_service_date")
    with depot_col:
        depot_id = depot_picker(snapshot, key="live_depot")

    vehicles = queries.live_vehicles(snapshot.key, service_date, depot_id)
    if vehicles.empty:
        _no_live_data(snapshot, service_date, depot_id)
        return
    stops = queries.live_stops(snapshot.key, service_date, depot_id)
    versions = queries.plan_versions(snapshot.key, service_date)

    as_of = layers.format_clock(vehicles["as_of_s"].max())
    st.caption(f"Live state of {service_date:%a %d %b %Y} as of {as_of} · all times local (Europe/Vaduz), HH:MM")
    _tiles(vehicles, stops)
    broken = vehicles[vehicles["status"] == "broken_down"]
    if not broken.empty:
        st.error(
            f"Broken down: {', '.join(broken['vehicle_id'].astype(str))}. Out of service for the rest of the day; "
            "the parcels on board go back to the depot, and a re-plan puts them on another vehicle.",
            icon=":material/car_crash:",
        )
    _replan_button(service_date)

    with st.container(border=True):
        st.pydeck_chart(
            layers.build_live_deck(vehicles, stops, queries.depots(snapshot.key, depot_id)),
            height=layers.MAP_HEIGHT_PX,
            alt="Map of the vehicles at their last positions, their remaining routes, at-risk and moved stops",
        )
        st.caption(
            "Vehicle dots by status: blue driving · green at a stop · grey not started / finished · dark with a red "
            "ring: broken down · lines: remaining route in the vehicle's colour · grey dots: stops done · red "
            "rings: stops at risk of missing their window · purple rings: stops the re-plan moved · hover for "
            "details"
        )

    st.subheader(f"Vehicles ({len(vehicles)})", anchor=False)
    table_with_route_colours(
        layers.live_vehicle_table(vehicles),
        {
            "Minutes late": st.column_config.NumberColumn(
                help="Minutes the vehicle's late stops miss their windows by, in total"
            ),
            "Last fix": st.column_config.TextColumn(help="Local time of the vehicle's last position fix"),
        },
    )

    remaining = layers.live_stops_table(stops)
    st.subheader(f"Remaining stops ({len(remaining)})", anchor=False)
    if remaining.empty:
        st.success("No stop left to serve in this selection.", icon=":material/check_circle:")
    else:
        st.dataframe(
            remaining.style.apply(
                lambda row: [_AT_RISK_ROW if row["At risk"] else ""] * len(row),
                axis=1,
            ),
            hide_index=True,
            column_config={
                "ETA": st.column_config.TextColumn(help="Re-timed from where the vehicle is now"),
                "Minutes late": st.column_config.NumberColumn(help="Minutes the ETA misses the window end by"),
                "Morning ETA": st.column_config.TextColumn(help="Arrival in the morning plan"),
            },
        )
        st.caption("Rows in red: stops at risk, their re-timed ETA is after the window closes")

    if layers.has_replan(versions):
        _what_changed(versions, stops)


def _start_from_plan_choice(dates: list[dt.date]) -> None:
    """On the first visit, start from the date and depot picked on the Plan page (widget keys are per page, so
    Streamlit does not share them; the Plan page's choice is still readable in the run that leaves it)."""
    for live_key, plan_key in (("live_service_date", "plan_service_date"), ("live_depot", "plan_depot")):
        if live_key in st.session_state or plan_key not in st.session_state:
            continue
        choice = st.session_state[plan_key]
        if live_key == "live_service_date" and choice not in dates:
            continue
        st.session_state[live_key] = choice


def _tiles(vehicles: pd.DataFrame, stops: pd.DataFrame) -> None:
    status = vehicles["status"].astype(str)
    on_the_road = int(status.isin(("driving", "at_stop")).sum())
    broken_down = int((status == "broken_down").sum())
    at_risk = int(layers.at_risk_mask(stops).sum())
    tiles = st.columns(6)
    tiles[0].metric(
        "On the road", f"{on_the_road} of {len(vehicles)}", help="Vehicles driving or at a stop", border=True
    )
    tiles[1].metric("Delivered", f"{int((stops['status'] == 'delivered').sum()):,}", border=True)
    tiles[2].metric("Failed", f"{int((stops['status'] == 'failed').sum()):,}", border=True)
    tiles[3].metric(
        "Remaining", f"{int(layers.remaining_mask(stops).sum()):,}", help="Stops still to serve", border=True
    )
    tiles[4].metric(
        "At risk",
        f"{at_risk:,}",
        help="Stops still to serve whose re-timed ETA is after their window closes",
        border=True,
    )
    tiles[5].metric(
        "Broken down", f"{broken_down:,}", help="Vehicles out of service for the rest of the day", border=True
    )


def _replan_button(service_date: dt.date) -> None:
    """Ask the pipeline for a re-plan: a request file its ``replan_request_sensor`` turns into a ``replan`` run.
    The app never writes the warehouse."""
    with st.container(border=True, key="live_replan"):
        text_col, button_col = st.columns([4, 1], vertical_alignment="bottom")
        with text_col:
            reason = st.text_input(
                "Why re-plan?",
                key=f"live_replan_reason_{service_date}",
                placeholder="optional, e.g. customer called to change the window",
            )
        with button_col:
            clicked = st.button(
                "Re-plan now", key="live_replan_now", type="primary", icon=":material/refresh:", width="stretch"
            )
        if clicked:
            folder = data_dir()
            try:
                request = write_replan_request(
                    folder, service_date.isoformat(), reason=f"manual: {reason.strip() or DEFAULT_REASON}"
                )
            except OSError as exc:
                st.error(
                    f"Could not write the re-plan request under `{folder}`: {exc}. Check that {DATA_DIR_ENV} names "
                    "the pipeline's data folder and that it is writable.",
                    icon=":material/error:",
                )
                return
            st.success(
                f"Re-plan of {service_date:%a %d %b %Y} requested: `{Path(request).name}`. The pipeline's "
                "`replan_request_sensor` picks it up and runs the `replan` job; the new plan shows here once it is "
                "published.",
                icon=":material/schedule_send:",
            )


def _what_changed(versions: pd.DataFrame, stops: pd.DataFrame) -> None:
    st.subheader("What changed", anchor=False)
    st.dataframe(
        layers.plan_versions_table(versions),
        hide_index=True,
        column_config={"As of": st.column_config.TextColumn(help="The live state the re-plan started from")},
    )
    moved = layers.moved_stops_table(stops)
    changes = layers.eta_changes_table(stops)
    moved_col, eta_col = st.columns(2)
    with moved_col:
        st.markdown(f"**Stops moved to another vehicle ({len(moved)})**")
        if moved.empty:
            st.caption("The latest re-plan kept every stop on its vehicle.")
        else:
            st.dataframe(moved, hide_index=True)
    with eta_col:
        st.markdown(f"**Largest ETA changes ({len(changes)})**")
        if changes.empty:
            st.caption("The latest re-plan changed no ETA of a remaining stop.")
        else:
            st.dataframe(changes, hide_index=True)


def _no_live_data(snapshot: Snapshot, service_date: dt.date, depot_id: str | None) -> None:
    empty_state(
        "No live data for this date",
        f"The snapshot has no live state for {depot_name(snapshot, depot_id)} on {service_date:%d %b %Y}. "
        f"Live data comes from the intraday drops under `landing/live/{service_date:%Y-%m-%d}/` (telematics "
        "pings, driver-app events, order changes): the `replan` job loads them (`raw_live`), builds the "
        "`live_state` of the date and publishes it with the snapshot. The sensors start it when a drop brings "
        "order changes or a breakdown; to run it by hand:",
        command=(
            "dagster job execute -m orchestration.definitions -j replan "
            f'--tags \'{{"dagster/partition": "{service_date:%Y-%m-%d}"}}\''
        ),
    )


run_page(render)
