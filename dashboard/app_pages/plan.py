"""Plan: the current plan of one service date on a map, its routes, driver manifests, at-risk stops and unassigned
orders."""

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import exports, layers, learned, manifest_queries, queries
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


def render(snapshot: Snapshot) -> None:
    dates = queries.service_dates(snapshot.key)
    if not dates:
        empty_state(
            "The published snapshot holds no plans",
            f"Snapshot `{snapshot.snapshot_id}` has no service date with a current plan. "
            "Plan a service date and publish it:",
        )
        return
    date_col, depot_col = page_header("Delivery plan", snapshot)
    with date_col:
        service_date = service_date_picker(dates, key="plan_service_date")
    with depot_col:
        depot_id = depot_picker(snapshot, key="plan_depot")

    summary = queries.plan_summary(snapshot.key, service_date, depot_id)
    if summary["depots"] == 0:
        empty_state(
            "No plan for this selection",
            f"There is no current plan for {depot_name(snapshot, depot_id)} "
            f"on {service_date:%d %b %Y}. "
            "Pick another date or depot, or plan this date and publish it:",
        )
        return

    routes = queries.planned_routes(snapshot.key, service_date, depot_id)
    stops = queries.planned_stops(snapshot.key, service_date, depot_id)
    unassigned = queries.unassigned_orders(snapshot.key, service_date, depot_id)

    at_risk = learned.at_risk_count(stops)
    tiles = st.columns(6)
    tiles[0].metric("Routes", f"{summary['routes']:,}", border=True)
    tiles[1].metric("Stops", f"{summary['stops']:,}", border=True)
    tiles[2].metric("Distance", f"{summary['distance_km']:,.1f} km", border=True)
    cost_per_delivery = summary["cost_per_delivery_eur"]
    tiles[3].metric(
        "Cost per delivery",
        "–" if cost_per_delivery is None else f"€ {cost_per_delivery:,.2f}",
        help="Planned cost (EUR) divided by planned deliveries",
        border=True,
    )
    tiles[4].metric(
        "Unassigned",
        f"{summary['unassigned']:,}",
        help="Orders no route could take; see the list below for the reason",
        border=True,
    )
    tiles[5].metric(
        "At risk",
        "–" if at_risk is None else f"{at_risk:,}",
        help=(
            "Stops whose arrival, re-timed with the learned travel and service times, misses the window"
            if at_risk is not None
            else "This plan was made without re-timing, so it cannot tell which stops are at risk"
        ),
        border=True,
    )

    geometry = queries.route_geometry(snapshot.key, service_date, depot_id)
    map_depots = layers.route_depots(queries.depots(snapshot.key), routes, depot_id)
    with st.container(border=True):
        st.pydeck_chart(
            learned.with_at_risk(layers.build_deck(routes, stops, map_depots, unassigned, geometry), stops),
            height=layers.MAP_HEIGHT_PX,
            alt="Map of the planned routes, stops, depots, at-risk stops and unassigned orders",
        )
        st.caption(
            "One colour per route · dark dots: depots · red dots: unassigned orders · red rings: stops at risk of "
            "missing their window · hover for details"
            + (" · routes follow the roads: map data © OpenStreetMap contributors" if not geometry.empty else "")
        )
    inside, with_preferred = learned.preferred_window_counts(stops)
    preferred = (
        f" · {inside} of {with_preferred} stops with a preferred window planned inside it" if with_preferred else ""
    )
    st.caption(
        learned.model_versions_caption(queries.plan_model_versions(snapshot.key, service_date, depot_id)) + preferred
    )

    st.subheader("Routes", anchor=False)
    if routes.empty:
        st.info("This plan has no routes: every order is unassigned (see below).")
    else:
        route_table = layers.route_table(routes)
        overtime = learned.overtime_minutes(routes)
        if overtime is not None:
            route_table["Overtime (min)"] = pd.array(overtime, dtype="Int64")
        table_with_route_colours(
            route_table,
            {
                "km": st.column_config.NumberColumn(format="%.1f"),
                "Hours": st.column_config.NumberColumn(format="%.2f"),
                "Load (kg)": st.column_config.NumberColumn(format="%.1f"),
                "Cost (EUR)": st.column_config.NumberColumn(format="€ %.2f"),
            },
        )

        st.subheader("Driver manifest", anchor=False)
        picker_col, csv_col, html_col = st.columns([2.6, 1, 1], vertical_alignment="bottom")
        with picker_col:
            # One picker per date and depot: a keyed picker that outlives a change of its options keeps showing
            # the old label in the browser while the server has moved on to another route.
            labels = [f"{r.vehicle_id} · {r.vehicle_type} · {r.n_stops} stops" for r in routes.itertuples(index=False)]
            route_label = st.selectbox("Route", options=labels, key=f"plan_manifest_route_{service_date}_{depot_id}")
        route = routes.iloc[labels.index(route_label)]
        route_stops = queries.route_stops(snapshot.key, route["plan_id"], route["route_id"])
        manifest = layers.driver_manifest(route_stops)
        _manifest_downloads(snapshot, service_date, routes.iloc[[labels.index(route_label)]], csv_col, html_col)
        st.dataframe(
            manifest if at_risk is None else learned.manifest_with_at_risk(manifest, route_stops),
            hide_index=True,
            column_config={
                "Weight (kg)": st.column_config.NumberColumn(format="%.1f"),
                "At risk": st.column_config.NumberColumn(
                    format="%d min late", help="Minutes the re-timed arrival misses the window by"
                ),
            },
        )

    if at_risk:
        st.subheader(f"At-risk stops ({at_risk})", anchor=False)
        st.dataframe(learned.at_risk_table(stops), hide_index=True)
        st.caption(
            "Re-timed with the learned travel and service times, these stops arrive after their window closes: "
            "call the customer, or move the stop in the route"
        )

    st.subheader(f"Unassigned orders ({len(unassigned)})", anchor=False)
    if unassigned.empty:
        st.success("Every order of this selection is on a route.", icon=":material/check_circle:")
    else:
        _unassigned_by_reason(unassigned)


def _manifest_downloads(snapshot: Snapshot, service_date: dt.date, route: pd.DataFrame, csv_col, html_col) -> None:
    """The route's driver manifest as CSV and as a printable page (:mod:`dashboard.exports`, as on the Manifests &
    exports page, which also has every route of the date at once, the GeoJSON and the KPI tables)."""
    record = route.iloc[0].to_dict()
    stops = manifest_queries.manifest_stops(snapshot.key, service_date, record["depot_id"])
    stops = stops[(stops["plan_id"] == record["plan_id"]) & (stops["route_id"] == record["route_id"])]
    drivers = manifest_queries.route_drivers(snapshot.key, service_date, record["depot_id"])
    all_depots = queries.depots(snapshot.key)
    depot_names = dict(zip(all_depots["depot_id"].astype(str), all_depots["name"].astype(str), strict=True))
    with csv_col:
        st.download_button(
            "Download CSV",
            data=exports.to_csv(exports.driver_manifest(stops, record)),
            file_name=exports.manifest_file_name(service_date, record["depot_id"], record["vehicle_id"]),
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
            width="stretch",
            help="This route's stops in order, with what the driver must know in the notes",
        )
    with html_col:
        st.download_button(
            "Printable",
            data=exports.manifest_html(
                route,
                stops,
                drivers,
                depot_names,
                title=f"Driver manifest {record['vehicle_id']} · {service_date:%a %d %b %Y}",
            ),
            file_name=exports.manifest_file_name(service_date, record["depot_id"], record["vehicle_id"], "html"),
            mime="text/html",
            icon=":material/print:",
            on_click="ignore",
            width="stretch",
            help="A page to print for the driver (HTML, A4 landscape); every route at once: Manifests & exports",
        )


def _unassigned_by_reason(unassigned: pd.DataFrame) -> None:
    """One box per reason code, most orders first, two to a row: the count, what the code means and what the
    dispatcher can do; then the table of every unassigned order with its own reason."""
    groups = layers.unassigned_groups(unassigned).to_dict("records")
    for first in range(0, len(groups), 2):
        for column, group in zip(st.columns(2), groups[first : first + 2], strict=False):
            code, count = group["Reason code"], group["Orders"]
            with column.container(border=True, key=f"unassigned_reason_{code}"):
                st.markdown(f"**{code}** · {count} order{'' if count == 1 else 's'}")
                if group["Meaning"]:
                    st.caption(group["Meaning"])
                if group["What to do"]:
                    st.markdown(f":material/lightbulb: **What to do:** {group['What to do']}")
    st.dataframe(layers.unassigned_table(unassigned), hide_index=True)


run_page(render)
