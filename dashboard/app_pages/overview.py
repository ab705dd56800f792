"""Overview: plan KPIs per service date and depot across the whole snapshot."""

import streamlit as st

from dashboard import layers, queries
from dashboard.snapshot import Snapshot
from dashboard.ui import empty_state, run_page

CHART_METRICS = {
    "Cost per delivery (EUR)": "Cost per delivery (EUR)",
    "Stops": "Stops",
    "Distance (km)": "km",
    "Unassigned": "Unassigned",
}


def render(snapshot: Snapshot) -> None:
    st.title("Overview", anchor=False)
    st.caption(
        f"Snapshot `{snapshot.snapshot_id}` · published "
        f"{layers.format_published(snapshot.created_at_utc)} (Europe/Vaduz) · "
        f"{len(snapshot.service_dates)} service date(s)"
    )
    kpis = queries.kpis_by_date(snapshot.key)
    if kpis.empty:
        empty_state(
            "The published snapshot holds no plans",
            f"Snapshot `{snapshot.snapshot_id}` has no plan KPIs. Plan a service date and publish it:",
        )
        return
    table = layers.kpi_table(kpis)

    metric_label = st.segmented_control(
        "Metric per service date",
        options=list(CHART_METRICS),
        default="Cost per delivery (EUR)",
        key="overview_metric",
    )
    column = CHART_METRICS[metric_label or "Cost per delivery (EUR)"]
    st.bar_chart(table, x="Service date", y=column, color="Depot", stack=False, height=320)

    st.subheader("Plan KPIs per service date and depot", anchor=False)
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "km": st.column_config.NumberColumn(format="%.1f"),
            "Hours": st.column_config.NumberColumn(format="%.1f"),
            "Cost (EUR)": st.column_config.NumberColumn(format="€ %.2f"),
            "Cost per delivery (EUR)": st.column_config.NumberColumn(format="€ %.2f"),
        },
    )


run_page(render)
