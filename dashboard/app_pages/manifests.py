"""Manifests & exports: each route's driver manifest (table, CSV, printable page), every manifest of a date, the
plan's routes as GeoJSON, and the plan and delivery KPIs as CSV."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import streamlit as st

from dashboard import exports, manifest_queries, queries
from dashboard.snapshot import Snapshot
from dashboard.ui import depot_name, depot_picker, empty_state, page_header, run_page, service_date_picker

DEFAULT_KPI_RANGE_DAYS = 14
PRINT_PREVIEW_HEIGHT_PX = 640
TRACKING_COLUMN = "Tracking link"


def _download(
    label: str, data: bytes | str | Callable[[], bytes | str], file_name: str, mime: str, key: str, help_text: str
) -> None:
    """A download button; ``data`` may be a callable, run only when the button is clicked (the whole plan's files
    take a good part of a second to build at the default scale, too long for every rerun of the page)."""
    st.download_button(
        label,
        data=data,
        file_name=file_name,
        mime=mime,
        key=key,
        help=help_text,
        icon=":material/download:",
        on_click="ignore",
        width="stretch",
    )


def _depot_names(snapshot: Snapshot) -> dict[str, str]:
    all_depots = queries.depots(snapshot.key)
    return dict(zip(all_depots["depot_id"].astype(str), all_depots["name"].astype(str), strict=True))


def _tracking_link(token: str | None) -> str | None:
    """The customer's tracking link of a token; none for a missing or malformed token."""
    # Imported here: only a snapshot with tracking tokens needs the tracking app's module.
    from dashboard.tracking import tracking_url

    if token is None:
        return None
    try:
        return tracking_url(token)
    except ValueError:
        return None


def _with_tracking_links(manifest: pd.DataFrame, tokens: dict[str, str]) -> pd.DataFrame:
    """The manifest with each order's customer tracking link (empty for an order without a valid token)."""
    table = manifest.copy()
    table[TRACKING_COLUMN] = [_tracking_link(tokens.get(order)) for order in table["Order"]]
    return table


def render(snapshot: Snapshot) -> None:
    dates = queries.service_dates(snapshot.key)
    if not dates:
        empty_state(
            "The published snapshot holds no plans",
            f"Snapshot `{snapshot.snapshot_id}` has no service date with a current plan, so there is nothing to "
            "export. Plan a service date and publish it:",
        )
        return
    date_col, depot_col = page_header("Manifests & exports", snapshot, note=" · times local, HH:MM")
    with date_col:
        service_date = service_date_picker(dates, key="manifests_service_date")
    with depot_col:
        depot_id = depot_picker(snapshot, key="manifests_depot")

    routes = queries.planned_routes(snapshot.key, service_date, depot_id)
    if routes.empty:
        empty_state(
            "No plan for this selection",
            f"There is no current plan with routes for {depot_name(snapshot, depot_id)} on {service_date:%d %b %Y}, "
            "so there is no manifest to print. Pick another date or depot, or plan this date and publish it:",
        )
        return
    stops = manifest_queries.manifest_stops(snapshot.key, service_date, depot_id)
    drivers = manifest_queries.route_drivers(snapshot.key, service_date, depot_id)
    depot_names = _depot_names(snapshot)

    _route_manifest(snapshot, service_date, depot_id, routes, stops, drivers, depot_names)
    _whole_plan(snapshot, service_date, depot_id, routes, stops, drivers, depot_names)
    _delivery_kpis(snapshot, depot_id)


def _all_title(service_date: dt.date, depot_id: str | None, snapshot: Snapshot) -> str:
    scope = depot_name(snapshot, depot_id) if depot_id else "all depots"
    return f"Driver manifests · {scope} · {service_date:%a %d %b %Y}"


def _route_manifest(
    snapshot: Snapshot,
    service_date: dt.date,
    depot_id: str | None,
    routes: pd.DataFrame,
    stops: pd.DataFrame,
    drivers: dict[str, str],
    depot_names: dict[str, str],
) -> None:
    st.subheader("Driver manifest", anchor=False)
    labels = [
        f"{r.vehicle_id} · {r.vehicle_type} · {r.n_stops} stops · {depot_names.get(str(r.depot_id), r.depot_id)}"
        for r in routes.itertuples(index=False)
    ]
    picker_col, csv_col, html_col = st.columns([2.6, 1, 1], vertical_alignment="bottom")
    with picker_col:
        # One picker per date and depot, as on the Plan page: a keyed picker that outlives a change of its options
        # keeps showing the old label in the browser.
        label = st.selectbox("Route", options=labels, key=f"manifests_route_{service_date}_{depot_id}")
    route = routes.iloc[labels.index(label)].to_dict()
    route_stops = stops[(stops["plan_id"] == route["plan_id"]) & (stops["route_id"] == route["route_id"])]
    driver = drivers.get(str(route["vehicle_id"]))
    manifest = exports.driver_manifest(route_stops, route)
    with csv_col:
        _download(
            "Manifest (CSV)",
            exports.to_csv(manifest),
            exports.manifest_file_name(service_date, route["depot_id"], route["vehicle_id"]),
            "text/csv",
            "manifests_route_csv",
            "This route's stops in order, one row per stop (UTF-8, opens in Excel)",
        )
    route_html = exports.manifest_html(
        routes.iloc[[labels.index(label)]],
        route_stops,
        drivers,
        depot_names,
        title=f"Driver manifest {route['vehicle_id']} · {service_date:%a %d %b %Y}",
    )
    with html_col:
        _download(
            "Printable (HTML)",
            route_html,
            exports.manifest_file_name(service_date, route["depot_id"], route["vehicle_id"], "html"),
            "text/html",
            "manifests_route_html",
            "A page to print for the driver: open it in the browser and print (A4 landscape)",
        )

    header = exports.route_header(route, driver, depot_names, int(route_stops["parcels"].fillna(0).sum()))
    header["Driver"] = header["Driver"] or "not known yet"
    st.markdown(" · ".join(f"**{name}** {value}" for name, value in header.items() if name != "Service date"))

    column_config = {
        "Weight (kg)": st.column_config.NumberColumn(format="%.1f"),
        "Volume (l)": st.column_config.NumberColumn(format="%.1f"),
        "Window": st.column_config.TextColumn(width="medium"),
        "Notes": st.column_config.TextColumn(width="large"),
    }
    table = manifest
    if manifest_queries.has_tracking(snapshot.key):
        table = _with_tracking_links(manifest, manifest_queries.tracking_tokens(snapshot.key, service_date))
        column_config[TRACKING_COLUMN] = st.column_config.LinkColumn(
            TRACKING_COLUMN, display_text="Open", help="The customer's tracking page for this order"
        )
    st.dataframe(table, hide_index=True, column_config=column_config, key="manifests_route_table")
    with st.expander("Printable page", icon=":material/print:"):
        # Built only when asked for: every route's page takes a good part of a second at the default scale.
        every_route = st.toggle(
            f"Every route of the selection ({len(routes)})", key="manifests_preview_all", disabled=len(routes) == 1
        )
        preview = (
            exports.manifest_html(
                routes, stops, drivers, depot_names, title=_all_title(service_date, depot_id, snapshot)
            )
            if every_route
            else route_html
        )
        st.iframe(preview, height=PRINT_PREVIEW_HEIGHT_PX)


def _whole_plan(
    snapshot: Snapshot,
    service_date: dt.date,
    depot_id: str | None,
    routes: pd.DataFrame,
    stops: pd.DataFrame,
    drivers: dict[str, str],
    depot_names: dict[str, str],
) -> None:
    scope = depot_name(snapshot, depot_id) if depot_id else "all depots"
    st.subheader(f"Whole plan · {scope} · {service_date:%a %d %b %Y}", anchor=False)
    kpis = queries.kpis_by_date(snapshot.key)
    kpis = kpis[pd.to_datetime(kpis["service_date"]).dt.date == service_date]
    if depot_id is not None:
        kpis = kpis[kpis["depot_id"] == depot_id]
    geometry = queries.route_geometry(snapshot.key, service_date, depot_id)
    all_depots = queries.depots(snapshot.key)
    columns = st.columns(4)
    with columns[0]:
        _download(
            f"All {len(routes)} manifests (CSV)",
            lambda: exports.to_csv(exports.manifests(routes, stops)),
            exports.manifests_file_name(service_date, depot_id),
            "text/csv",
            "manifests_all_csv",
            "Every route's stops in one file, with depot, vehicle and route columns",
        )
    with columns[1]:
        _download(
            f"All {len(routes)} manifests (printable)",
            lambda: exports.manifest_html(
                routes, stops, drivers, depot_names, title=_all_title(service_date, depot_id, snapshot)
            ),
            exports.manifests_file_name(service_date, depot_id, "html"),
            "text/html",
            "manifests_all_html",
            "One printed page (or more) per route: open it in the browser and print",
        )
    with columns[2]:
        _download(
            "Routes (GeoJSON)",
            lambda: exports.geojson_bytes(exports.plan_geojson(routes, stops, all_depots, geometry)),
            exports.geojson_file_name(service_date, depot_id),
            "application/geo+json",
            "manifests_geojson",
            "Each route as a line (along the roads where the plan has road geometry) and each stop and depot as a "
            "point, lon/lat WGS 84 (RFC 7946): opens in QGIS, geojson.io, kepler.gl",
        )
    with columns[3]:
        _download(
            "Plan KPIs (CSV)",
            exports.to_csv(exports.plan_kpis_table(kpis)),
            exports.plan_kpis_file_name(service_date, depot_id),
            "text/csv",
            "manifests_plan_kpis",
            "Routes, stops, km, hours, cost and cost per delivery (EUR), unassigned orders per depot",
        )
    st.dataframe(
        exports.plan_kpis_table(kpis).drop(columns=["plan_kind", "plan_version"]),
        hide_index=True,
        column_config={
            "service_date": "Service date",
            "depot_id": "Depot",
            "depot_name": "Depot name",
            "plan_id": "Plan",
            "routes": "Routes",
            "stops": "Stops",
            "distance_km": st.column_config.NumberColumn("km", format="%.1f"),
            "duration_h": st.column_config.NumberColumn("Hours", format="%.1f"),
            "cost_eur": st.column_config.NumberColumn("Cost (EUR)", format="€ %.2f"),
            "cost_per_delivery_eur": st.column_config.NumberColumn("Cost per delivery (EUR)", format="€ %.2f"),
            "unassigned": "Unassigned",
        },
        key="manifests_plan_kpis_table",
    )


def _kpi_range(dates: list[dt.date]) -> tuple[dt.date, dt.date]:
    """The date range widget, defaulting to the last two weeks with execution data; a half-picked range (the
    browser's first click) counts as one day."""
    first, last = dates[0], dates[-1]
    default_start = max(first, last - dt.timedelta(days=DEFAULT_KPI_RANGE_DAYS - 1))
    picked = st.date_input(
        "Delivery dates",
        value=(default_start, last),
        min_value=first,
        max_value=last,
        format="DD.MM.YYYY",
        key="manifests_kpi_dates",
    )
    if not picked:
        return default_start, last
    return picked[0], picked[1] if len(picked) > 1 else picked[0]


def _delivery_kpis(snapshot: Snapshot, depot_id: str | None) -> None:
    st.subheader("Delivery KPIs", anchor=False)
    dates = queries.execution_dates(snapshot.key)
    if not dates:
        st.info(
            "No delivered days in this snapshot yet: delivery KPIs (on-time rate, cost per delivery, first-attempt "
            "success, rating) need played-out days. Run `make history` to play out past days and publish them.",
            icon=":material/info:",
        )
        return
    range_col, download_col = st.columns([2.6, 1], vertical_alignment="bottom")
    with range_col:
        start, end = _kpi_range(dates)
    daily = queries.daily_kpis(snapshot.key, start, end, depot_id)
    summary = queries.performance_summary(snapshot.key, start, end, depot_id)
    table = exports.delivery_kpis_table(
        daily, summary, (start, end), depot_id, depot_name(snapshot, depot_id) if depot_id else None
    )
    with download_col:
        _download(
            "Delivery KPIs (CSV)",
            exports.to_csv(table),
            exports.delivery_kpis_file_name(start, end, depot_id),
            "text/csv",
            "manifests_delivery_kpis",
            "One row per day and depot, then the whole range: rates 0-1, cost per delivery in EUR, rating 1-5",
        )
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "period_start": "From",
            "period_end": "To",
            "depot_id": "Depot",
            "depot_name": "Depot name",
            "orders": "Orders",
            "attempted": "Attempted",
            "delivered": "Delivered",
            "on_time_rate": st.column_config.NumberColumn("On time", format="percent"),
            "cost_per_delivery_eur": st.column_config.NumberColumn("Cost per delivery (EUR)", format="€ %.2f"),
            "first_attempt_success_rate": st.column_config.NumberColumn("First-attempt success", format="percent"),
            "avg_rating": st.column_config.NumberColumn("Rating (1-5)", format="%.2f"),
            "ratings": "Ratings",
        },
        key="manifests_delivery_kpis_table",
    )
    st.caption("The last row is the whole range (ratios of sums over its days, not an average of the daily rates).")


run_page(render)
