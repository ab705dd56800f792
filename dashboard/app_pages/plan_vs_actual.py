"""Plan vs actual: one past service date, the planned routes against the driven tracks and each stop's outcome."""

import streamlit as st

from dashboard import charts, layers, queries
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

HISTORY_COMMAND = "make history DAYS=14"
LEGEND = " · ".join(
    f"<span style='color:{layers.hex_color(layers.STATUS_COLORS[status])}'>●</span> {label}"
    for status, label in layers.STATUS_LABELS.items()
)


def render(snapshot: Snapshot) -> None:
    dates = queries.execution_dates(snapshot.key)
    date_col, depot_col = page_header("Plan vs actual", snapshot, note=" · times local")
    if not dates:
        empty_state(
            "No execution data yet",
            f"Snapshot `{snapshot.snapshot_id}` holds no delivered days, so there is nothing to hold the plan "
            "against. Play out the last two weeks and publish them:",
            command=HISTORY_COMMAND,
        )
        return
    with date_col:
        service_date = service_date_picker(dates, key="actual_service_date")
    with depot_col:
        depot_id = depot_picker(snapshot, key="actual_depot")

    route_days = queries.day_route_days(snapshot.key, service_date, depot_id)
    deliveries = queries.day_deliveries(snapshot.key, service_date, depot_id)
    if route_days.empty and deliveries.empty:
        empty_state(
            "Nothing was delivered in this selection",
            f"There is no execution data for {depot_name(snapshot, depot_id)} on "
            f"{service_date:%d %b %Y}. Pick another date or depot.",
            command=None,
        )
        return
    routes = queries.planned_routes(snapshot.key, service_date, depot_id)
    colors = layers.vehicle_colors(routes)

    vehicles = list(dict.fromkeys([*routes["vehicle_id"].astype(str), *route_days["vehicle_id"].astype(str)]))
    # One picker per date and depot, as on the Plan page: a keyed picker would keep vehicles of another day.
    chosen = st.multiselect(
        "Vehicles",
        options=vehicles,
        default=vehicles,
        key=f"actual_vehicles_{service_date}_{depot_id}",
        placeholder="Pick vehicles to show",
    )
    if not chosen:
        st.info("Pick at least one vehicle to compare its plan with what it drove.", icon=":material/info:")
        return
    day_routes = route_days[route_days["vehicle_id"].astype(str).isin(chosen)]
    day_orders = deliveries[deliveries["vehicle_id"].astype(str).isin(chosen)]
    summary = layers.plan_vs_actual_summary(day_routes, day_orders)

    tiles = st.columns(5)
    tiles[0].metric("Planned distance", f"{summary['planned_km']:,.1f} km", border=True)
    driven_delta = summary["actual_km"] - summary["planned_km"]
    tiles[1].metric(
        "Driven distance",
        f"{summary['actual_km']:,.1f} km",
        delta=f"{driven_delta:+,.1f} km",
        delta_color="inverse",
        delta_description="vs plan",
        help="From the cleaned telematics track",
        border=True,
    )
    tiles[2].metric(
        "On-time rate",
        charts.format_percent(summary["on_time_rate"]),
        help=f"{summary['on_time']} of {summary['attempted']} attempted stops were reached before their window closed",
        border=True,
    )
    tiles[3].metric(
        "Late stops", f"{summary['late']:,}", help="Attempted stops reached after the window closed", border=True
    )
    tiles[4].metric(
        "Failed",
        f"{summary['failed']:,}",
        help=f"Attempted but not delivered; {summary['not_attempted']} more orders were not attempted",
        border=True,
    )

    map_tab, late_tab, routes_tab = st.tabs(
        ["Map", "Late stops", "Routes: planned vs actual"], key="actual_tab", on_change="rerun"
    )
    # Lazy tabs: only the open tab's queries, map or tables run, so the page draws without waiting for the others.
    if map_tab.open:
        with map_tab:
            _map(snapshot, service_date, depot_id, routes, deliveries, chosen)
    if late_tab.open:
        with late_tab:
            st.subheader(f"Late stops ({summary['late']})", anchor=False)
            late = layers.late_stops_table(day_orders)
            if late.empty:
                st.success("Every delivered order of this selection arrived on time.", icon=":material/check_circle:")
            else:
                st.dataframe(
                    late,
                    hide_index=True,
                    column_config={"Minutes late": st.column_config.NumberColumn(format="%d min")},
                )
                st.caption("Times local (Europe/Vaduz), HH:MM")
    if routes_tab.open:
        with routes_tab:
            if day_routes.empty:
                st.info("No route of the chosen vehicles was driven on this day.", icon=":material/info:")
            else:
                table_with_route_colours(
                    layers.route_comparison_table(day_routes, colors),
                    {
                        "Planned km": st.column_config.NumberColumn(format="%.1f"),
                        "Driven km": st.column_config.NumberColumn(format="%.1f"),
                        "Planned cost (EUR)": st.column_config.NumberColumn(format="€ %.2f"),
                        "Actual cost (EUR)": st.column_config.NumberColumn(format="€ %.2f"),
                    },
                )
                st.caption("Start and end: local time (Europe/Vaduz), HH:MM")


def _map(snapshot: Snapshot, service_date, depot_id, routes, deliveries, chosen: list[str]) -> None:
    with st.container(border=True):
        stops = queries.planned_stops(snapshot.key, service_date, depot_id)
        tracks = queries.day_driven_paths(snapshot.key, service_date, depot_id)
        geometry = queries.route_geometry(snapshot.key, service_date, depot_id)
        map_depots = layers.route_depots(queries.depots(snapshot.key), routes, depot_id)
        st.pydeck_chart(
            layers.build_plan_vs_actual_deck(
                routes, stops, tracks, deliveries, map_depots, vehicles=chosen, geometry=geometry
            ),
            height=layers.MAP_HEIGHT_PX,
            alt="Map of the planned routes, the driven tracks and each stop's outcome",
        )
        st.caption(
            f"Thin line: planned route · thick darker line: driven track (same colour per vehicle) · "
            f"{LEGEND} · hover for details"
            + (" · planned routes follow the roads (map data © OpenStreetMap contributors)" if len(geometry) else ""),
            unsafe_allow_html=True,
        )
        if routes.empty:
            st.caption("The snapshot holds no plan for this day, so only the driven tracks are drawn.")


run_page(render)
