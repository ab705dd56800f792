"""Scenarios: ask the pipeline for a what-if plan of a service date (fleet, shifts, delivery windows, solve budget),
and compare the plans of a date side by side with the current one, with their maps and, for a past day, the
simulated outcome against the day's actual conditions."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import queries
from dashboard import scenarios as sc
from dashboard.snapshot import Snapshot
from dashboard.ui import empty_state, page_header, run_page

DATA_DIR_ENV = "LASTMILE_DATA_DIR"
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
MAP_HEIGHT_PX = 460
MAPS_PER_ROW = 2
TABLE_ROW_PX = 35


def data_dir() -> Path:
    """The pipeline's data folder, where what-if requests go: ``$LASTMILE_DATA_DIR`` (read per call), else the
    repo's ``data`` (as on the Live page)."""
    configured = os.environ.get(DATA_DIR_ENV)
    return Path(configured).expanduser() if configured else DEFAULT_DATA_DIR


def render(snapshot: Snapshot) -> None:
    plan_dates = queries.service_dates(snapshot.key)
    whatif_dates = sc.scenario_dates(snapshot.key)
    compare_dates = sorted(set(plan_dates) | set(whatif_dates))
    date_col, _ = page_header("Scenarios (what-if)", snapshot)
    with date_col:
        compare_date = _compare_date_picker(compare_dates, whatif_dates)

    with st.expander("New scenario", expanded=not whatif_dates, icon=":material/science:"):
        _new_scenario_form(snapshot, plan_dates)

    st.subheader("Compare plans", anchor=False)
    if compare_date is None:
        _no_whatif(None)
        return
    plans = sc.scenarios(snapshot.key, compare_date)
    if not (plans["kind"] == sc.WHATIF_KIND).any():
        _no_whatif(compare_date)
        return
    _compare(snapshot, compare_date, plans)


def _compare_date_picker(dates: list[dt.date], whatif_dates: list[dt.date]) -> dt.date | None:
    """The date whose plans are compared, newest first; the newest date with a what-if preselected."""
    if not dates:
        return None
    options = list(reversed(dates))
    preselected = options.index(max(whatif_dates)) if whatif_dates else 0
    return st.selectbox(
        "Service date", options=options, index=preselected, format_func=sc.format_date, key="scenario_compare_date"
    )


# --- the form --------------------------------------------------------------------------------------------------


def _new_scenario_form(snapshot: Snapshot, plan_dates: list[dt.date]) -> None:
    fleet_master = sc.fleet(snapshot.key)
    today = sc.local_today()
    options = sc.scenario_date_options(plan_dates, today)
    default_start, default_end = sc.default_shift(fleet_master)
    with st.form("scenario_form", border=False):
        date_col, name_col = st.columns([1, 2])
        with date_col:
            service_date = st.selectbox(
                "Service date to plan",
                options=options,
                format_func=lambda d: sc.scenario_date_label(d, today),
                key="scenario_date",
                help="Tomorrow, or a past day: a past day's plan is also played through the simulator against the "
                "day's actual conditions",
            )
        with name_col:
            name = st.text_input(
                "Scenario name", key="scenario_name", placeholder="e.g. one van less in Schaan", max_chars=80
            )

        st.markdown("**Fleet** (vehicles per depot and type; the other columns are the fleet master's)")
        if fleet_master.empty:
            edited = None
            st.caption("This snapshot has no fleet table (an older pipeline): the what-if uses the fleet as it is.")
        else:
            rows = sc.fleet_editor_rows(fleet_master, _depot_names(snapshot))
            edited = st.data_editor(
                rows,
                key="scenario_fleet",
                height=TABLE_ROW_PX * (len(rows) + 1) + 3,
                hide_index=True,
                num_rows="fixed",
                disabled=[c for c in sc.FLEET_EDITOR_COLUMNS if c != "Vehicles"],
                column_config={
                    "Capacity (kg)": st.column_config.NumberColumn(format="%.0f"),
                    "In fleet": st.column_config.NumberColumn(help="Vehicles of this type at this depot today"),
                    "Vehicles": st.column_config.NumberColumn(
                        help="Vehicles in the scenario (0: none)", min_value=0, max_value=200, step=1, format="%d"
                    ),
                },
            )

        shift_col, start_col, end_col, window_col = st.columns([1.3, 1, 1, 1.3], vertical_alignment="bottom")
        with shift_col:
            override = st.checkbox(
                "Override every vehicle's shift",
                key="scenario_shift_override",
                help="Unticked: each vehicle keeps its own shift",
            )
        with start_col:
            shift_start = st.time_input(
                "Shift start (local)", value=default_start, step=dt.timedelta(minutes=15), key="scenario_shift_start"
            )
        with end_col:
            shift_end = st.time_input(
                "Shift end (local)", value=default_end, step=dt.timedelta(minutes=15), key="scenario_shift_end"
            )
        with window_col:
            widen = st.selectbox(
                "Delivery windows",
                options=list(sc.WINDOW_POLICIES),
                format_func=sc.WINDOW_POLICIES.get,
                key="scenario_widen",
                help="Widen every order's window by that many minutes on both sides",
            )
        budget_col, seed_col, button_col = st.columns([1, 1, 2], vertical_alignment="bottom")
        with budget_col:
            budget = st.number_input(
                "Solve budget (s per depot)",
                min_value=1.0,
                max_value=600.0,
                value=10.0,
                step=5.0,
                key="scenario_budget",
            )
        with seed_col:
            seed = st.number_input("Seed", min_value=0, max_value=2**31 - 1, value=1, step=1, key="scenario_seed")
        with button_col:
            submitted = st.form_submit_button("Run what-if", type="primary", icon=":material/play_arrow:")
        if submitted:
            _submit(
                service_date=service_date,
                name=name,
                edited=edited,
                shift=(shift_start, shift_end) if override else None,
                widen=widen,
                budget=budget,
                seed=int(seed),
            )


def _depot_names(snapshot: Snapshot) -> dict[str, str]:
    depots = queries.depots(snapshot.key)
    return dict(zip(depots["depot_id"].astype(str), depots["name"].astype(str), strict=True))


def _submit(
    service_date: dt.date,
    name: str,
    edited: pd.DataFrame | None,
    shift: tuple[dt.time, dt.time] | None,
    widen: int,
    budget: float,
    seed: int,
) -> None:
    """Validate the form as a ScenarioSpec and write the request the pipeline's sensor turns into a ``whatif`` run.
    The app never writes the warehouse."""
    try:
        # Imported here: the pipeline side may be older than the app (the page still compares what is published).
        from orchestration.requests import write_whatif_request
        from orchestration.scenarios import ScenarioSpec
    except ImportError as exc:
        st.error(
            f"This pipeline cannot run what-ifs yet ({exc}). Update the `orchestration` package.",
            icon=":material/error:",
        )
        return
    try:
        fleet_changes = {} if edited is None else sc.fleet_overrides(edited)
        params = sc.scenario_params(name, service_date, fleet_changes, shift, widen, budget, seed)
        spec = ScenarioSpec(**params)
        spec.validate()
    except ValueError as exc:
        st.error(f"Check the form: {exc}", icon=":material/error:")
        return
    folder = data_dir()
    try:
        request = write_whatif_request(folder, spec)
    except OSError as exc:
        st.error(
            f"Could not write the what-if request under `{folder}`: {exc}. Check that {DATA_DIR_ENV} names the "
            "pipeline's data folder and that it is writable.",
            icon=":material/error:",
        )
        return
    st.success(
        f"What-if “{params['name']}” for {sc.format_date(service_date)} requested: `{Path(request).name}`. The "
        "pipeline's `whatif_request_sensor` picks it up and runs the `whatif` job (a few seconds per depot plus the "
        "solve budget; a past day is also played through the simulator). The plan shows under Compare plans once "
        "the next snapshot is published. The same run by hand:",
        icon=":material/schedule_send:",
    )
    st.code(sc.cli_command(params), language="bash")


# --- the comparison ----------------------------------------------------------------------------------------------


def _no_whatif(service_date: dt.date | None) -> None:
    on_date = f" for {sc.format_date(service_date)}" if service_date else ""
    date_arg = service_date.isoformat() if service_date else "YYYY-MM-DD"
    empty_state(
        "No what-if yet" + on_date,
        f"There is no what-if plan{on_date} to compare with the current plan. Fill in **New scenario** above and "
        "click **Run what-if**: the pipeline plans it (the `whatif` job), publishes it, and it shows here. Or run "
        "one from the shell:",
        command=f'python -m orchestration.cli whatif --date {date_arg} --name "one van less" --budget 10',
    )


def _compare(snapshot: Snapshot, service_date: dt.date, plans: pd.DataFrame) -> None:
    labels = sc.plan_labels(plans)
    plan_ids = list(labels)
    default = [plan_ids[0], plan_ids[-1]]
    chosen = st.multiselect(
        "Plans to compare",
        options=plan_ids,
        default=default,
        format_func=labels.get,
        key=f"scenario_plans_{service_date}",
        help="The current plan and the what-ifs of the date; the first one picked is the baseline of the deltas",
    )
    if len(chosen) < 2:
        st.info("Pick at least two plans to compare.", icon=":material/compare:")
        return
    selected = plans.set_index(plans["plan_id"].astype(str)).loc[chosen].reset_index(drop=True)
    baseline = chosen[0]
    past = sc.has_outcome(selected)
    st.caption(
        f"{sc.format_date(service_date)} · deltas against **{labels[baseline]}** · green: better, red: worse"
        + (
            " · Outcome rows: the day's actual outcome for the current plan, the simulated play against the day's "
            "actual conditions for a what-if"
            if past
            else " · a future date: no outcome yet (a past day's what-if is also simulated)"
        )
    )
    _comparison_table(selected, baseline)

    fleet_master = sc.fleet(snapshot.key)
    routes = sc.scenario_routes(snapshot.key, tuple(chosen))
    routes = routes[routes["n_stops"] > 0]  # a vehicle of the fleet that the plan leaves at the depot
    stops = sc.scenario_stops(snapshot.key, tuple(chosen))
    colours = sc.vehicle_colours(routes)
    depots = queries.depots(snapshot.key)
    for first in range(0, len(chosen), MAPS_PER_ROW):
        row_ids = chosen[first : first + MAPS_PER_ROW]
        for column, plan_id in zip(st.columns(MAPS_PER_ROW), row_ids, strict=False):
            plan = selected[selected["plan_id"].astype(str) == plan_id].iloc[0]
            with column.container(border=True, key=f"scenario_plan_{first}_{plan_id}"):
                _plan_panel(plan, labels[plan_id], routes, stops, depots, colours, fleet_master)


def _comparison_table(selected: pd.DataFrame, baseline: str) -> None:
    table = sc.comparison_table(selected, baseline)
    better = table.attrs["better"]
    decimals = sc.metric_decimals()
    value_columns = [c for c in table.columns if c != "Metric"]
    delta_columns = [c for c in value_columns if c.startswith(sc.DELTA_PREFIX)]
    styled = table.style
    for position, metric in enumerate(table["Metric"]):
        places = decimals[metric]
        styled = styled.format(
            lambda v, places=places: "–" if pd.isna(v) else f"{v:,.{places}f}",
            subset=pd.IndexSlice[[position], [c for c in value_columns if c not in delta_columns]],
        )
        styled = styled.format(
            lambda v, places=places: "–" if pd.isna(v) else "0" if v == 0 else f"{v:+,.{places}f}",
            subset=pd.IndexSlice[[position], delta_columns],
        )
        styled = styled.map(
            lambda v, direction=better[metric]: sc.delta_colour(v, direction),
            subset=pd.IndexSlice[[position], delta_columns],
        )
    st.dataframe(
        styled,
        hide_index=True,
        height=TABLE_ROW_PX * (len(table) + 1) + 3,  # every metric without scrolling
        column_config={
            c: st.column_config.TextColumn(help="Change against the baseline plan (percentage points for %)")
            for c in delta_columns
        },
    )


def _plan_panel(
    plan: pd.Series,
    label: str,
    routes: pd.DataFrame,
    stops: pd.DataFrame,
    depots: pd.DataFrame,
    colours: dict,
    fleet_master: pd.DataFrame,
) -> None:
    plan_id = str(plan["plan_id"])
    st.markdown(f"**{label}** · {plan['kind']}")
    plan_routes = routes[routes["plan_id"].astype(str) == plan_id]
    plan_stops = stops[stops["plan_id"].astype(str) == plan_id]
    used = set(plan_routes["depot_id"].astype(str))
    plan_depots = depots[depots["depot_id"].astype(str).isin(used)] if used else depots
    st.pydeck_chart(
        sc.scenario_deck(plan_routes, plan_stops, plan_depots, colours, height_px=MAP_HEIGHT_PX),
        height=MAP_HEIGHT_PX,
        key=f"scenario_map_{plan_id}",
        alt=f"Map of the routes of {label}",
    )
    st.caption(
        f"{len(plan_routes)} routes · {len(plan_stops)} stops · one colour per vehicle, the same on every map · "
        "dark dots: depots · hover for details"
    )
    # Under the map, so that the maps of a row line up whatever the length of the parameters.
    st.markdown("**Parameters**")
    for line in sc.describe_params(sc.parse_params(plan["params_json"]), fleet_master):
        st.caption(line)


run_page(render)
