"""Pure builders for the Performance, Data health, Customers and Learned models pages: KPI tile texts and Altair
(Vega-Lite) charts, from query results (the learned-model charts from the frames of :mod:`dashboard.learned`).

Nothing here imports Streamlit or touches the snapshot. Rates arrive as shares (0-1) and are shown as percent;
money is EUR; ratings are 1-5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import altair as alt
import pandas as pd

from dashboard.health import source_label
from dashboard.layers import FAILURE_REASON_LABELS, STATUS_COLORS, hex_color

# Streamlit fits the whole chart (axes and legend included) into this height.
CHART_HEIGHT_PX = 260


def _missing(value: Any) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


@dataclass(frozen=True)
class Tile:
    """The text of one ``st.metric`` tile; ``delta`` is None when there is nothing to compare with."""

    label: str
    value: str
    delta: str | None
    delta_color: Literal["normal", "inverse", "off"]
    help: str


@dataclass(frozen=True)
class TrendMetric:
    """One daily trend chart: the ``daily_kpis`` column, its title and Vega-Lite axis format."""

    column: str
    title: str
    axis_format: str
    zero_based: bool


TREND_METRICS = (
    TrendMetric("on_time_rate", "On-time rate", ".0%", True),
    TrendMetric("cost_per_delivery_eur", "Cost per delivery (EUR)", ",.2f", True),
    TrendMetric("first_attempt_success_rate", "First-attempt success", ".0%", True),
    TrendMetric("avg_rating", "Average rating (1-5)", ".1f", False),
)


def format_percent(rate: Any) -> str:
    """A share 0-1 as ``66.7 %``; missing gives ``–``."""
    return "–" if _missing(rate) else f"{float(rate) * 100:.1f} %"


def format_eur(amount: Any) -> str:
    """An amount in EUR as ``€ 1,234.50``; missing gives ``–``."""
    return "–" if _missing(amount) else f"€ {float(amount):,.2f}"


def _difference(current: Any, previous: Any) -> float | None:
    if _missing(current) or _missing(previous):
        return None
    return float(current) - float(previous)


def _signed(value: float, text: str) -> str:
    # st.metric reads the direction of a text delta from a leading minus sign.
    return f"{'-' if value < 0 else '+'}{text}"


def performance_tiles(current: dict[str, Any], previous: dict[str, Any] | None) -> list[Tile]:
    """The five KPI tiles of a date range, each with its change versus the previous period.

    Parameters
    ----------
    current, previous : dict
        :func:`dashboard.queries.performance_summary` of the range and of the period before it; a previous
        period without deliveries (or None) gives tiles without a change.

    Returns
    -------
    list of Tile
        On-time rate and first-attempt success (change in percentage points), cost per delivery (EUR; a
        drop shows green), average rating (1-5), deliveries.
    """
    base = previous if previous and previous.get("deliveries") else None

    def change(key: str) -> float | None:
        return None if base is None else _difference(current.get(key), base.get(key))

    on_time, first_attempt = change("on_time_rate"), change("first_attempt_success_rate")
    cost, rating, deliveries = change("cost_per_delivery_eur"), change("avg_rating"), change("deliveries")
    return [
        Tile(
            "On-time rate",
            format_percent(current["on_time_rate"]),
            None if on_time is None else f"{on_time * 100:+.1f} pp",
            "normal",
            "Attempted stops (delivered or failed) reached before their window closed, of all attempted stops",
        ),
        Tile(
            "Cost per delivery",
            format_eur(current["cost_per_delivery_eur"]),
            None if cost is None else _signed(cost, f"€ {abs(cost):,.2f}"),
            "inverse",
            "Actual route cost (EUR) divided by delivered orders",
        ),
        Tile(
            "First-attempt success",
            format_percent(current["first_attempt_success_rate"]),
            None if first_attempt is None else f"{first_attempt * 100:+.1f} pp",
            "normal",
            "Orders delivered at their first attempt, of all attempted orders (delivered or failed)",
        ),
        Tile(
            "Average rating",
            "–" if _missing(current["avg_rating"]) else f"{float(current['avg_rating']):.2f} / 5",
            None if rating is None else f"{rating:+.2f}",
            "normal",
            f"Mean customer rating (1-5) over {int(current['ratings'] or 0):,} rated orders",
        ),
        Tile(
            "Deliveries",
            f"{int(current['deliveries']):,}",
            None if deliveries is None else f"{int(deliveries):+,}",
            "off",
            f"Delivered orders; {int(current['failed']):,} failed and {int(current['not_attempted']):,} "
            "not attempted in the same period",
        ),
    ]


def _dates(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(service_date=pd.to_datetime(frame["service_date"]))


def trend_chart(daily: pd.DataFrame, metric: TrendMetric) -> alt.Chart:
    """One line per depot of a daily KPI (from :func:`dashboard.queries.daily_kpis`), dates on the x axis.

    The legend is left out when there is only one depot; the page titles the chart with ``metric.title``.
    """
    data = _dates(daily[["service_date", "depot_name", metric.column]].dropna(subset=[metric.column]))
    depots = data["depot_name"].nunique()
    return (
        alt.Chart(data, height=CHART_HEIGHT_PX)
        .mark_line(point=True)
        .encode(
            x=alt.X("service_date:T", title=None, axis=alt.Axis(format="%d %b", labelAngle=0, tickCount="day")),
            y=alt.Y(
                f"{metric.column}:Q",
                title=None,
                axis=alt.Axis(format=metric.axis_format),
                scale=alt.Scale(zero=metric.zero_based),
            ),
            color=alt.Color(
                "depot_name:N",
                title=None,
                legend=alt.Legend(orient="top") if depots > 1 else None,
            ),
            tooltip=[
                alt.Tooltip("service_date:T", title="Date", format="%a %d %b %Y"),
                alt.Tooltip("depot_name:N", title="Depot"),
                alt.Tooltip(f"{metric.column}:Q", title=metric.title, format=metric.axis_format),
            ],
        )
    )


def on_time_by_hour_chart(by_hour: pd.DataFrame) -> alt.LayerChart:
    """Bars of the on-time rate per local hour of arrival (from :func:`dashboard.queries.on_time_by_hour`).

    Each bar is labelled ``on time/attempted``, so an hour at 0 % still shows that it had stops.
    """
    data = by_hour.assign(
        hour_label=[f"{int(h):02d}:00" for h in by_hour["hour"]],
        count_label=[f"{int(a)}/{int(b)}" for a, b in zip(by_hour["on_time"], by_hour["attempted"], strict=True)],
    )
    base = alt.Chart(data, height=CHART_HEIGHT_PX).encode(
        x=alt.X("hour_label:O", title="Hour of arrival (local)", axis=alt.Axis(labelAngle=0)),
        y=alt.Y(
            "on_time_rate:Q",
            title="On-time rate",
            axis=alt.Axis(format=".0%"),
            scale=alt.Scale(domain=[0, 1.1], nice=False),
        ),
        tooltip=[
            alt.Tooltip("hour_label:O", title="Hour"),
            alt.Tooltip("on_time_rate:Q", title="On-time rate", format=".1%"),
            alt.Tooltip("on_time:Q", title="On time"),
            alt.Tooltip("attempted:Q", title="Attempted stops"),
        ],
    )
    bars = base.mark_bar(color=hex_color(STATUS_COLORS["on_time"]))
    labels = base.mark_text(baseline="bottom", dy=-3, color="#555555").encode(text="count_label:N")
    return alt.layer(bars, labels)


def failure_reasons_chart(reasons: pd.DataFrame) -> alt.Chart:
    """Horizontal bars of orders per failure reason (red) and not attempted (grey), most first."""
    data = reasons.assign(
        reason_label=[FAILURE_REASON_LABELS.get(r, str(r)) for r in reasons["reason"]],
        outcome_label=["Failed" if o == "failed" else "Not attempted" for o in reasons["outcome"]],
    )
    return (
        alt.Chart(data, height=CHART_HEIGHT_PX)
        .mark_bar()
        .encode(
            y=alt.Y("reason_label:N", title=None, sort="-x"),
            x=alt.X("orders:Q", title="Orders", axis=alt.Axis(tickMinStep=1, format="d")),
            color=alt.Color(
                "outcome_label:N",
                title=None,
                scale=alt.Scale(
                    domain=["Failed", "Not attempted"],
                    range=[hex_color(STATUS_COLORS["failed"]), hex_color(STATUS_COLORS["not_attempted"])],
                ),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("reason_label:N", title="Reason"),
                alt.Tooltip("orders:Q", title="Orders"),
            ],
        )
    )


def quarantine_chart(loads: pd.DataFrame) -> alt.Chart:
    """Stacked bars of quarantined rows per service date, one colour per source (from
    :func:`dashboard.queries.loads` over all dates); the tooltip shows the file's loaded and accepted rows too."""
    data = _dates(loads[loads["quarantined_rows"].fillna(0) > 0]).sort_values("service_date")
    data = data.assign(
        day=data["service_date"].dt.strftime("%a %d %b"), source_label=[source_label(s) for s in data["source"]]
    )
    return (
        alt.Chart(data, height=CHART_HEIGHT_PX)
        .mark_bar()
        .encode(
            x=alt.X("day:O", title=None, sort=list(data["day"].unique()), axis=alt.Axis(labelAngle=0)),
            y=alt.Y("quarantined_rows:Q", title="Quarantined rows", axis=alt.Axis(tickMinStep=1, format="d")),
            color=alt.Color("source_label:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=[
                alt.Tooltip("service_date:T", title="Date", format="%a %d %b %Y"),
                alt.Tooltip("source_label:N", title="Source"),
                alt.Tooltip("source_file:N", title="File"),
                alt.Tooltip("quarantined_rows:Q", title="Quarantined"),
                alt.Tooltip("accepted_rows:Q", title="Accepted"),
                alt.Tooltip("loaded_rows:Q", title="Loaded"),
            ],
        )
    )


def loaded_rows_chart(loads: pd.DataFrame) -> alt.Chart:
    """Rows loaded per service date, one line per source (from :func:`dashboard.queries.loads` over all dates);
    a dip shows a short file, a gap a missing one. The tooltip adds accepted and quarantined rows."""
    data = _dates(loads).sort_values("service_date")
    data = data.assign(source_label=[source_label(s) for s in data["source"]])
    return (
        alt.Chart(data, height=CHART_HEIGHT_PX)
        .mark_line(point=len(data["service_date"].unique()) <= 31)
        .encode(
            x=alt.X("service_date:T", title=None, axis=alt.Axis(format="%d %b", labelAngle=0)),
            y=alt.Y("loaded_rows:Q", title="Rows loaded", scale=alt.Scale(type="symlog")),
            color=alt.Color("source_label:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=[
                alt.Tooltip("service_date:T", title="Date", format="%a %d %b %Y"),
                alt.Tooltip("source_label:N", title="Source"),
                alt.Tooltip("loaded_rows:Q", title="Loaded", format=","),
                alt.Tooltip("accepted_rows:Q", title="Accepted", format=","),
                alt.Tooltip("quarantined_rows:Q", title="Quarantined", format=","),
            ],
        )
    )


# --- learned models -----------------------------------------------------------------------------------------

# Success rates from red (customers rarely home) to green; speed factors diverge around 1 (as planned).
SUCCESS_SCHEME = "redyellowgreen"
SPEED_SCHEME = "redblue"


def availability_heatmap_chart(cells: pd.DataFrame) -> alt.LayerChart:
    """Zone x hour heatmap of smoothed first-attempt success (from
    :func:`dashboard.learned.availability_heatmap_frame`); the hours of each zone's recommended window are
    outlined in black."""
    zones = sorted(cells["zone"].unique())
    base = alt.Chart(cells, height=max(CHART_HEIGHT_PX, 28 * len(zones))).encode(
        x=alt.X("hour_label:O", title="Hour of service (local)", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("zone:N", title=None, sort=zones),
        tooltip=[
            alt.Tooltip("zone:N", title="Zone"),
            alt.Tooltip("hour_label:O", title="Hour"),
            alt.Tooltip("success_rate:Q", title="First-attempt success", format=".1%"),
            alt.Tooltip("successes:Q", title="Successes"),
            alt.Tooltip("attempts:Q", title="Attempts"),
            alt.Tooltip("in_window:N", title="In recommended window"),
        ],
    )
    heat = base.mark_rect().encode(
        color=alt.Color(
            "success_rate:Q",
            title="Success",
            scale=alt.Scale(scheme=SUCCESS_SCHEME, domain=[0, 1]),
            legend=alt.Legend(format=".0%", orient="right"),
        )
    )
    window = base.transform_filter(alt.datum.in_window).mark_rect(filled=False, stroke="#111111", strokeWidth=2)
    return alt.layer(heat, window)


def customer_hours_chart(hours: pd.DataFrame) -> alt.LayerChart:
    """Bars of a customer's smoothed success per hour, with their zone's as a line (from
    :func:`dashboard.learned.hourly_success_frame`)."""
    base = alt.Chart(hours, height=CHART_HEIGHT_PX).encode(
        x=alt.X("hour_label:O", title="Hour of service (local)", axis=alt.Axis(labelAngle=0)),
    )
    y_scale = alt.Scale(domain=[0, 1], nice=False)
    bars = base.mark_bar(color=hex_color(STATUS_COLORS["on_time"]), opacity=0.85).encode(
        y=alt.Y("customer_rate:Q", title="First-attempt success", axis=alt.Axis(format=".0%"), scale=y_scale),
        tooltip=[
            alt.Tooltip("hour_label:O", title="Hour"),
            alt.Tooltip("customer_rate:Q", title="Customer", format=".1%"),
            alt.Tooltip("customer_attempts:Q", title="Customer attempts"),
            alt.Tooltip("zone_rate:Q", title="Zone", format=".1%"),
        ],
    )
    zone = base.mark_line(point=True, color="#333333", strokeDash=[4, 3]).encode(
        y=alt.Y("zone_rate:Q", scale=y_scale),
    )
    return alt.layer(bars, zone)


def service_time_chart(times: pd.DataFrame) -> alt.LayerChart:
    """Horizontal bars of the median service time per site type and zone, with a tick at the 90th percentile
    (minutes; from :func:`dashboard.learned.service_time_frame`)."""
    labels = times["label"].to_list()
    base = alt.Chart(times, height=max(CHART_HEIGHT_PX, 18 * len(labels))).encode(
        y=alt.Y("label:N", title=None, sort=labels),
        tooltip=[
            alt.Tooltip("site_type:N", title="Site type"),
            alt.Tooltip("zone:N", title="Zone"),
            alt.Tooltip("median_min:Q", title="Median (min)", format=".1f"),
            alt.Tooltip("p90_min:Q", title="90th percentile (min)", format=".1f"),
            alt.Tooltip("n_samples:Q", title="Stops"),
        ],
    )
    bars = base.mark_bar().encode(
        x=alt.X("median_min:Q", title="Minutes on site (bar: median, tick: 90th percentile)"),
        color=alt.Color("site_type:N", title="Site type", legend=alt.Legend(orient="top")),
    )
    ticks = base.mark_tick(color="#222222", thickness=3, size=16).encode(x="p90_min:Q")
    return alt.layer(bars, ticks)


def speed_profile_chart(profile: pd.DataFrame) -> alt.Chart:
    """Weekday x hour heatmap of the speed factor (``factor(hour) * factor(weekday)``, from
    :func:`dashboard.learned.speed_profile_frame`): blue faster than planned, red slower."""
    weekdays = list(dict.fromkeys(profile["weekday"]))
    return (
        alt.Chart(profile, height=CHART_HEIGHT_PX)
        .mark_rect()
        .encode(
            x=alt.X("hour_label:O", title="Hour of departure (local)", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("weekday:N", title=None, sort=weekdays),
            color=alt.Color(
                "factor:Q",
                title="Speed x",
                scale=alt.Scale(scheme=SPEED_SCHEME, domainMid=1),
                legend=alt.Legend(format=".2f", orient="right"),
            ),
            tooltip=[
                alt.Tooltip("weekday:N", title="Weekday"),
                alt.Tooltip("hour_label:O", title="Hour"),
                alt.Tooltip("factor:Q", title="Speed factor", format=".3f"),
            ],
        )
    )


def weather_chart(weather: pd.DataFrame) -> alt.LayerChart:
    """Bars of the speed factor per weather condition (from :func:`dashboard.learned.weather_frame`), with a
    rule at 1 (as planned)."""
    bars = (
        alt.Chart(weather, height=CHART_HEIGHT_PX)
        .mark_bar(color="#4e79a7")
        .encode(
            x=alt.X("label:N", title=None, sort=weather["label"].to_list(), axis=alt.Axis(labelAngle=0)),
            y=alt.Y("factor:Q", title="Speed factor", scale=alt.Scale(zero=True)),
            tooltip=[
                alt.Tooltip("label:N", title="Weather"),
                alt.Tooltip("factor:Q", title="Speed factor", format=".3f"),
                alt.Tooltip("n_samples:Q", title="Legs"),
            ],
        )
    )
    planned = (
        alt.Chart(pd.DataFrame({"factor": [1.0]})).mark_rule(color="#333333", strokeDash=[4, 3]).encode(y="factor:Q")
    )
    return alt.layer(bars, planned)
