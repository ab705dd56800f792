"""Learned models: what the fleet's history taught the planner, and how well. Each model's current version, its
fit against the baseline and its version history; the learned speed profile, weather, slow zones and driver pace."""

import pandas as pd
import streamlit as st

from dashboard import charts, learned, queries
from dashboard.layers import format_published
from dashboard.snapshot import Snapshot
from dashboard.ui import no_learned_models, page_header, run_page

SLOW_ZONES_SHOWN = 10


def _tiles(versions) -> None:
    summary = learned.model_summary_table(versions).to_dict("records")
    for column, model in zip(st.columns(len(summary)), summary, strict=True):
        better = model["Better than baseline (%)"]
        column.metric(
            model["Model"],
            model["Version"],
            delta=None if better is None or pd.isna(better) else f"{better:+.1f} % better than baseline",
            help=(
                f"Trained through {model['Trained through']} on {model['Samples']:,} samples; fit error "
                f"{model['Fit error']} against the baseline's {model['Baseline error']} ({model['Error metric']})"
            ),
            border=True,
        )


def _versions(versions) -> None:
    st.subheader("Current versions", anchor=False)
    st.dataframe(
        learned.model_summary_table(versions),
        hide_index=True,
        column_config={
            "Samples": st.column_config.NumberColumn(format="%d"),
            "Better than baseline (%)": st.column_config.NumberColumn(format="%+.1f %%"),
        },
    )
    st.caption(
        "Fit and baseline error on days the version did not train on; the baseline is what the planner assumed "
        "without the model (planning speeds, prior service times, the area's average success) · the next plan of "
        "a date uses the newest version trained on days before it"
    )
    newest = learned.latest_versions(versions)
    tabs = st.tabs(
        [learned.MODEL_LABELS.get(m, str(m)) for m in newest["model"]], key="models_history_tab", on_change="rerun"
    )
    for tab, model in zip(tabs, newest["model"], strict=True):
        if not tab.open:
            continue
        with tab:
            history = learned.version_history_table(versions, model)
            st.dataframe(history, hide_index=True)
            st.caption(f"{len(history)} version(s) · last changed {history['Created'].iloc[0] or '–'} (Europe/Vaduz)")


def _travel(snapshot: Snapshot, versions) -> None:
    st.subheader("Travel time", anchor=False)
    factors = queries.travel_time_factors(snapshot.key)
    if factors.empty:
        st.info("No travel-time model has been trained yet.", icon=":material/info:")
        return
    profile_col, weather_col = st.columns([3, 1.3])
    with profile_col.container(border=True):
        st.markdown("**Speed profile by weekday and hour**")
        profile = learned.speed_profile_frame(factors)
        if profile.empty:
            st.info("The model has no hour or weekday factors.", icon=":material/info:")
        else:
            st.altair_chart(charts.speed_profile_chart(profile), width="stretch")
            st.caption("Speed factor = factor(hour) x factor(weekday): 1 = as planned, 0.8 = 20 % slower")
    with weather_col.container(border=True):
        st.markdown("**Weather**")
        weather = learned.weather_frame(factors)
        if weather.empty:
            st.info("The model has no weather factors.", icon=":material/info:")
        else:
            st.altair_chart(charts.weather_chart(weather), width="stretch")

    zones = learned.slowest_zones(factors, SLOW_ZONES_SHOWN)
    map_col, table_col = st.columns([3, 2])
    with map_col.container(border=True):
        st.markdown(f"**The {SLOW_ZONES_SHOWN} slowest speed zones**")
        if zones.empty:
            st.info("The model has no zone factors.", icon=":material/info:")
        else:
            st.pydeck_chart(learned.zone_deck(zones), height=360, alt="Map of the slowest speed-zone cells")
    with table_col:
        if not zones.empty:
            st.dataframe(
                learned.slow_zone_table(zones),
                hide_index=True,
                column_config={"Slower than planned (%)": st.column_config.NumberColumn(format="%.1f %%")},
            )
        pace = learned.vehicle_pace_table(factors)
        if not pace.empty:
            st.markdown("**Driver pace per vehicle**")
            st.dataframe(pace, hide_index=True)
            st.caption("Pace factor on driving and service: below 1 the vehicle's driver is slower than planned")
    travel = versions[versions["model"] == "travel_time"]
    if not travel.empty:
        newest = learned.latest_versions(travel).iloc[0]
        st.caption(
            f"Factors of version `{newest['version']}` (trained through "
            f"{newest['trained_through']:%d %b %Y}, created {format_published(newest['created_at_utc'])})"
        )


def render(snapshot: Snapshot) -> None:
    page_header("Learned models", snapshot)
    versions = queries.model_versions(snapshot.key)
    if versions.empty:
        no_learned_models(snapshot)
        return
    _tiles(versions)
    versions_tab, travel_tab = st.tabs(["Versions", "Speed, weather and zones"], key="models_tab", on_change="rerun")
    # Lazy tabs: only the open tab's queries, charts and map run, so the page draws without waiting for the other.
    if versions_tab.open:
        with versions_tab:
            _versions(versions)
    if travel_tab.open:
        with travel_tab:
            _travel(snapshot, versions)


run_page(render)
