"""Customers: when customers are at home. Best delivery windows per zone and per customer, first-attempt success
by hour, and how long a stop takes, from the newest learned availability and service-time models."""

import pandas as pd
import streamlit as st

from dashboard import charts, learned, queries
from dashboard.snapshot import Snapshot
from dashboard.ui import no_learned_models, page_header, run_page


def _model_tiles(versions: pd.DataFrame, customers: int) -> None:
    newest = learned.latest_versions(versions)
    availability = newest[newest["model"] == "availability"]
    tiles = st.columns(4)
    if availability.empty:
        tiles[0].metric("Availability model", "–", help="No availability model has been trained yet", border=True)
        return
    model = availability.iloc[0]
    tiles[0].metric(
        "Availability model",
        str(model["version"]),
        help="The newest version: the one the next plan uses for preferred windows",
        border=True,
    )
    tiles[1].metric(
        "Trained through",
        f"{pd.Timestamp(model['trained_through']):%d %b %Y}",
        help="The last delivered day the model learned from",
        border=True,
    )
    tiles[2].metric("Samples", f"{int(model['n_samples']):,}", help="First attempts it learned from", border=True)
    tiles[3].metric("Customers with history", f"{customers:,}", border=True)


def _zone_windows(snapshot: Snapshot) -> None:
    st.subheader("Best delivery windows by zone", anchor=False)
    availability = queries.availability(snapshot.key, "zone")
    windows = queries.recommended_windows(snapshot.key, "zone")
    if availability.empty:
        st.info("The availability model has no zone with history yet.", icon=":material/info:")
        return
    heat_col, table_col = st.columns([3, 2])
    with heat_col.container(border=True):
        st.markdown("**First-attempt success by zone and hour**")
        st.altair_chart(
            charts.availability_heatmap_chart(learned.availability_heatmap_frame(availability, windows)),
            width="stretch",
        )
        st.caption(
            "Smoothed share of first attempts delivered, by local hour of service · outlined: recommended window"
        )
    with table_col:
        st.dataframe(
            learned.window_table(windows),
            hide_index=True,
            column_config={
                "Success in window (%)": st.column_config.NumberColumn(format="%.1f %%"),
                "Success all day (%)": st.column_config.NumberColumn(format="%.1f %%"),
                "Lift (pp)": st.column_config.NumberColumn(format="%+.1f pp"),
            },
        )
        st.caption(
            "The block of hours with the highest smoothed success, against the whole day · lift in percentage "
            "points · times local"
        )


def _customer_lookup(snapshot: Snapshot, customers: list[str]) -> None:
    st.subheader("Customer lookup", anchor=False)
    if not customers:
        st.info("No customer has enough history for a customer-level model yet.", icon=":material/info:")
        return
    customer_id = st.selectbox(
        "Customer",
        options=customers,
        key="customers_customer",
        help="Customers with history in the newest models; type to search by id",
    )
    own_availability = queries.availability(snapshot.key, "customer", customer_id)
    own_windows = queries.recommended_windows(snapshot.key, "customer", customer_id)
    own_times = queries.service_times(snapshot.key, "customer", customer_id)
    history = queries.customer_deliveries(snapshot.key, customer_id)
    site_type, zone = learned.customer_site(own_times, own_availability, own_windows, history)
    all_zones = queries.availability(snapshot.key, "zone")
    zone_availability = all_zones[all_zones["zone"] == zone] if zone is not None else all_zones.iloc[0:0]
    window = learned.best_window(customer_id, zone, own_windows, queries.recommended_windows(snapshot.key, "zone"))
    service = learned.service_estimate(
        pd.concat(
            [
                own_times,
                queries.service_times(snapshot.key, "site_zone"),
                queries.service_times(snapshot.key, "site_type"),
            ],
            ignore_index=True,
        ),
        customer_id,
        site_type,
        zone,
    )

    st.caption(
        f"Customer `{customer_id}` · zone {zone or 'unknown'} · site type {site_type or 'unknown'} · "
        f"{len(history):,} past order(s) in this snapshot"
    )
    tiles = st.columns(4)
    if window is None:
        tiles[0].metric("Recommended window", "–", help="Neither the customer nor their zone has one", border=True)
        tiles[1].metric("Success in window", "–", border=True)
    else:
        basis = "their own history" if window.source == "customer" else f"their zone ({zone})"
        tiles[0].metric("Recommended window", window.label, help=f"From {basis}; local time", border=True)
        tiles[1].metric(
            "Success in window",
            f"{window.success_rate * 100:.1f} %",
            delta=f"{window.lift * 100:+.1f} pp vs all day",
            help=f"Smoothed first-attempt success in the window; {window.day_success_rate * 100:.1f} % over the day",
            border=True,
        )
    if service is None:
        tiles[2].metric("Service time (median)", "–", help="No service-time history for this customer", border=True)
        tiles[3].metric("Service time (p90)", "–", border=True)
    else:
        help_text = (
            f"From {service.basis} ({service.n_samples:,} stops); one parcel, +{service.per_parcel_s:.0f} s each"
        )
        tiles[2].metric("Service time (median)", f"{service.median_s / 60:.1f} min", help=help_text, border=True)
        tiles[3].metric("Service time (p90)", f"{service.p90_s / 60:.1f} min", help=help_text, border=True)

    hours_col, history_col = st.columns(2)
    with hours_col.container(border=True):
        st.markdown("**First-attempt success by hour**")
        hours = learned.hourly_success_frame(own_availability, zone_availability)
        if hours.empty:
            st.info("No hourly history for this customer or their zone.", icon=":material/info:")
        else:
            st.altair_chart(charts.customer_hours_chart(hours), width="stretch")
            st.caption("Bars: this customer (smoothed towards the zone) · dashed line: their zone")
    with history_col.container(border=True):
        st.markdown("**Past deliveries**")
        if history.empty:
            st.info("No past order of this customer in the snapshot's execution data.", icon=":material/info:")
        else:
            st.dataframe(learned.customer_history_table(history), hide_index=True)


def _service_times(snapshot: Snapshot) -> None:
    st.subheader("Service time by site type and zone", anchor=False)
    site_zone = queries.service_times(snapshot.key, "site_zone")
    if site_zone.empty:
        st.info("The service-time model has no site type and zone with history yet.", icon=":material/info:")
        return
    with st.container(border=True):
        st.altair_chart(charts.service_time_chart(learned.service_time_frame(site_zone)), width="stretch")
        st.caption("Time on site from the start of service to leaving, failed attempts included, for a one-parcel stop")


def render(snapshot: Snapshot) -> None:
    page_header("Customers", snapshot)
    versions = queries.model_versions(snapshot.key)
    if versions.empty:
        no_learned_models(snapshot)
        return
    customers = queries.customers_with_history(snapshot.key)
    _model_tiles(versions, len(customers))
    zones_tab, lookup_tab, service_tab = st.tabs(
        ["Best windows by zone", "Customer lookup", "Service times"], key="customers_tab", on_change="rerun"
    )
    # Lazy tabs: only the open tab's queries and charts run, so the page draws without waiting for the others.
    if zones_tab.open:
        with zones_tab:
            _zone_windows(snapshot)
    if lookup_tab.open:
        with lookup_tab:
            _customer_lookup(snapshot, customers)
    if service_tab.open:
        with service_tab:
            _service_times(snapshot)


run_page(render)
