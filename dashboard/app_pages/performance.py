"""Performance: how deliveries went over a date range, against the period before, by day, driver and hour."""

import datetime as dt

import streamlit as st

from dashboard import charts, layers, queries
from dashboard.snapshot import Snapshot
from dashboard.ui import depot_name, depot_picker, empty_state, page_header, run_page

DEFAULT_RANGE_DAYS = 14
HISTORY_COMMAND = "make history DAYS=14"


def _date_range(dates: list[dt.date]) -> tuple[dt.date, dt.date]:
    """The date range widget; a half-picked range (the browser's first click) counts as one day."""
    first, last = dates[0], dates[-1]
    default_start = max(first, last - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1))
    picked = st.date_input(
        "Dates",
        value=(default_start, last),
        min_value=first,
        max_value=last,
        format="DD.MM.YYYY",
        key="performance_dates",
        help=f"Defaults to the last {DEFAULT_RANGE_DAYS} days up to the latest day with execution data",
    )
    if not picked:
        return default_start, last
    start = picked[0]
    end = picked[1] if len(picked) > 1 else start
    return start, end


def _period(start: dt.date, end: dt.date) -> str:
    return f"{start:%d %b}" if start == end else f"{start:%d %b} – {end:%d %b %Y}"


def render(snapshot: Snapshot) -> None:
    dates = queries.execution_dates(snapshot.key)
    dates_col, depot_col = page_header("Performance", snapshot)
    if not dates:
        empty_state(
            "No execution data yet",
            f"Snapshot `{snapshot.snapshot_id}` holds no delivered days: performance needs the drivers' "
            "events, telematics and ratings of past service dates. Play out the last two weeks and publish them:",
            command=HISTORY_COMMAND,
        )
        return
    with dates_col:
        start, end = _date_range(dates)
    with depot_col:
        depot_id = depot_picker(snapshot, key="performance_depot")

    current = queries.performance_summary(snapshot.key, start, end, depot_id)
    if current["orders"] == 0:
        empty_state(
            "No deliveries in this selection",
            f"There is no execution data for {depot_name(snapshot, depot_id)} "
            f"in {_period(start, end)}. Pick other dates or another depot, or play out more days:",
            command=HISTORY_COMMAND,
        )
        return
    previous_start, previous_end = queries.previous_period(start, end)
    previous = queries.performance_summary(snapshot.key, previous_start, previous_end, depot_id)

    comparison = (
        f"vs {_period(previous_start, previous_end)}" if previous["deliveries"] else "no data in the period before"
    )
    for column, tile in zip(st.columns(5), charts.performance_tiles(current, previous), strict=True):
        column.metric(
            tile.label,
            tile.value,
            delta=tile.delta,
            delta_color=tile.delta_color,
            delta_description=comparison if tile.delta else None,
            help=tile.help,
            border=True,
        )
    days = (end - start).days + 1
    before = f"the {days}-day period before ({_period(previous_start, previous_end)})"
    st.caption(
        f"{_period(start, end)} · {current['orders']:,} orders · "
        + (f"change versus {before}" if previous["deliveries"] else f"no deliveries in {before} to compare with")
    )

    trends_tab, hours_tab, drivers_tab = st.tabs(
        ["By day", "By hour and reason", "Drivers"], key="performance_tab", on_change="rerun"
    )
    # Lazy tabs: only the open tab's queries and charts run, so the page draws without waiting for the others.
    if trends_tab.open:
        with trends_tab:
            _trends(snapshot, start, end, depot_id)
    if hours_tab.open:
        with hours_tab:
            _hours_and_reasons(snapshot, start, end, depot_id)
    if drivers_tab.open:
        with drivers_tab:
            _drivers(snapshot, start, end, depot_id)


def _trends(snapshot: Snapshot, start: dt.date, end: dt.date, depot_id: str | None) -> None:
    daily = queries.daily_kpis(snapshot.key, start, end, depot_id)
    if daily.empty:
        st.info("The snapshot has no daily KPIs for this selection.", icon=":material/info:")
        return
    # One chart and a metric picker: each Vega chart costs the browser a compile and a draw on every load.
    titles = {metric.title: metric for metric in charts.TREND_METRICS}
    title = st.segmented_control(
        "Metric per day", options=list(titles), default=charts.TREND_METRICS[0].title, key="performance_metric"
    )
    metric = titles[title or charts.TREND_METRICS[0].title]
    with st.container(border=True):
        st.markdown(f"**{metric.title}**")
        st.altair_chart(charts.trend_chart(daily, metric), width="stretch")


def _hours_and_reasons(snapshot: Snapshot, start: dt.date, end: dt.date, depot_id: str | None) -> None:
    hour_col, failure_col = st.columns(2)
    with hour_col.container(border=True):
        st.markdown("**On-time rate by hour of arrival (local time)**")
        by_hour = queries.on_time_by_hour(snapshot.key, start, end, depot_id)
        if by_hour.empty:
            st.info("No delivered orders in this selection.", icon=":material/info:")
        else:
            st.altair_chart(charts.on_time_by_hour_chart(by_hour), width="stretch")
    with failure_col.container(border=True):
        st.markdown("**Failed and not attempted orders**")
        reasons = queries.failure_reasons(snapshot.key, start, end, depot_id)
        if reasons.empty:
            st.success("Every attempted order was delivered.", icon=":material/check_circle:")
        else:
            st.altair_chart(charts.failure_reasons_chart(reasons), width="stretch")


def _drivers(snapshot: Snapshot, start: dt.date, end: dt.date, depot_id: str | None) -> None:
    drivers = queries.driver_performance(snapshot.key, start, end, depot_id)
    if drivers.empty:
        st.info("No driver worked a route in this selection.", icon=":material/info:")
        return
    st.dataframe(
        layers.driver_table(drivers),
        hide_index=True,
        column_config={
            "On time (%)": st.column_config.NumberColumn(format="%.1f %%"),
            "First-attempt success (%)": st.column_config.NumberColumn(format="%.1f %%"),
            "Stops per hour": st.column_config.NumberColumn(format="%.2f"),
            "km per stop": st.column_config.NumberColumn(format="%.1f km"),
            "Rating (1-5)": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    st.caption(
        "Click a column header to sort · on time: attempted stops reached within the window · stops per hour: "
        "attempted stops per route hour (depot departure to return) · "
        "km per stop: driven km per attempted stop"
    )


run_page(render)
