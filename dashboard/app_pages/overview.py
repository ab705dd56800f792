"""Overview: plan KPIs per service date and depot across the whole snapshot."""

import pandas as pd
import streamlit as st

from dashboard import layers, queries
from dashboard.snapshot import Snapshot
from dashboard.ui import depot_picker, empty_state, page_header, run_page

CHART_METRICS = {
    "Cost per delivery (EUR)": "Cost per delivery (EUR)",
    "Stops": "Stops",
    "Distance (km)": "Distance (km)",
    "Unassigned": "Unassigned",
}


# The chart and table cover the newest weeks by default: a year of dates is a long table and a chart too dense to
# read (and slow to draw).
PERIOD_WEEKS = {"Last 4 weeks": 4, "Last 13 weeks": 13, "Last 52 weeks": 52, "All dates": None}
DEFAULT_PERIOD = "Last 13 weeks"


def render(snapshot: Snapshot) -> None:
    depot_col, period_col = page_header(
        "Overview", snapshot, note=f" · {len(snapshot.service_dates):,} service date(s)"
    )
    kpis = queries.kpis_by_date(snapshot.key)
    if kpis.empty:
        empty_state(
            "The published snapshot holds no plans",
            f"Snapshot `{snapshot.snapshot_id}` has no plan KPIs. Plan a service date and publish it:",
        )
        return
    with depot_col:
        depot_id = depot_picker(snapshot, key="overview_depot")
    with period_col:
        period = st.selectbox(
            "Period", options=list(PERIOD_WEEKS), index=list(PERIOD_WEEKS).index(DEFAULT_PERIOD), key="overview_period"
        )
    if depot_id is not None:
        kpis = kpis[kpis["depot_id"] == depot_id]
    weeks = PERIOD_WEEKS[period]
    if weeks is not None:
        newest = pd.to_datetime(kpis["service_date"]).max()
        kpis = kpis[pd.to_datetime(kpis["service_date"]) > newest - pd.Timedelta(weeks=weeks)]
    if kpis.empty:
        st.info("This depot has no plan in the snapshot. Pick another depot.", icon=":material/info:")
        return
    table = layers.kpi_table(kpis)

    chart_tab, table_tab = st.tabs(["Chart", "Table"], key="overview_tab", on_change="rerun")
    # Lazy tabs: only the open tab runs, so the page draws without waiting for the other.
    if chart_tab.open:
        with chart_tab:
            metric_label = st.segmented_control(
                "Metric per service date",
                options=list(CHART_METRICS),
                default="Cost per delivery (EUR)",
                key="overview_metric",
            )
            column = CHART_METRICS[metric_label or "Cost per delivery (EUR)"]
            st.bar_chart(table, x="Service date", y=column, color="Depot", stack=False, height=320)
    if table_tab.open:
        with table_tab:
            st.subheader("Plan KPIs per service date and depot", anchor=False)
            st.dataframe(
                table,
                hide_index=True,
                column_config={
                    "Distance (km)": st.column_config.NumberColumn(format="%.1f"),
                    "Duration (h)": st.column_config.NumberColumn(format="%.1f"),
                    "Cost (EUR)": st.column_config.NumberColumn(format="€ %.2f"),
                    "Cost per delivery (EUR)": st.column_config.NumberColumn(format="€ %.2f"),
                },
            )
            st.caption("Current plan of each date and depot · planned at: local time (Europe/Vaduz)")


run_page(render)
