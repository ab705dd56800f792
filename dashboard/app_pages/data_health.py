"""Data health: what the plans were built on. Rows loaded, accepted and quarantined per source and service date,
why rows were rejected, the data checks that failed, how fresh each source is and the latest plan runs."""

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import charts, health, queries
from dashboard.snapshot import Snapshot, has_table
from dashboard.ui import empty_state, page_header, run_page, service_date_picker

ALL_SOURCES = "__all__"
PLAN_RUNS_SHOWN = 10


def _source_picker(sources: list[str]) -> str | None:
    """All sources (None) or one raw table name, labelled for people."""
    choice = st.selectbox(
        "Source",
        options=[ALL_SOURCES, *sources],
        format_func=lambda s: "All sources" if s == ALL_SOURCES else health.source_label(s),
        key="health_source",
    )
    return None if choice == ALL_SOURCES else choice


def _tiles(loads: pd.DataFrame, checks: pd.DataFrame) -> None:
    totals = health.load_totals(loads)
    counts = health.check_counts(checks)
    share = None
    if totals["quarantined"] and totals["loaded"]:
        share = f"{totals['quarantined'] / totals['loaded'] * 100:.1f} % of loaded"
    tiles = st.columns(5)
    tiles[0].metric(
        "Rows loaded",
        f"{totals['loaded']:,}",
        help=f"Data rows in the {totals['sources']} source file(s) of this date (latest load of each)",
        border=True,
    )
    tiles[1].metric("Accepted", f"{totals['accepted']:,}", help="Rows that passed the landing rules", border=True)
    tiles[2].metric(
        "Quarantined",
        f"{totals['quarantined']:,}",
        delta=share,
        delta_color="inverse",
        delta_arrow="off",
        help="Rows rejected at landing; the plan never saw them",
        border=True,
    )
    tiles[3].metric(
        "Critical checks failing",
        f"{counts['critical']:,}",
        help=f"{counts['checks']} data checks ran on this date; a failing critical check means the plan is suspect",
        border=True,
    )
    tiles[4].metric("Warnings", f"{counts['warning']:,}", help="Failing checks of severity warning", border=True)


def _checks_section(snapshot: Snapshot, checks: pd.DataFrame) -> None:
    failing = health.failing_checks(checks)
    st.subheader(f"Failing data checks ({len(failing)})", anchor=False)
    if not has_table(snapshot.key, "data_checks"):
        st.info(
            "This snapshot has no data checks: the warehouse it was published from has no `quality.data_checks` "
            "yet. Run the pipeline (`make run`) to check the loaded data and publish again.",
            icon=":material/info:",
        )
        return
    if checks.empty:
        st.info("No data check ran on this date and source.", icon=":material/info:")
        return
    column_config = {
        "Message": st.column_config.TextColumn(width="large"),
        "Data Docs": st.column_config.LinkColumn(
            display_text="Open",
            help="Great Expectations Data Docs of this check: a file on the pipeline host (the path is listed below)",
        ),
    }
    if failing.empty:
        st.success(f"All {len(checks)} data checks passed.", icon=":material/check_circle:")
        st.dataframe(health.check_table(checks), hide_index=True, column_config=column_config)
    else:
        critical = health.check_counts(checks)["critical"]
        if critical:
            st.error(
                f"{critical} critical check(s) failed: plans built on this data may be wrong.", icon=":material/error:"
            )
        st.dataframe(health.check_table(failing), hide_index=True, column_config=column_config)
    _failing_dates(snapshot)
    docs = sorted({path for path in checks["data_docs_path"].dropna().astype(str) if path})
    if docs:
        st.caption("Data Docs: " + " · ".join(f"`{path}`" for path in docs))
    if not failing.empty:
        with st.expander(f"All checks of this date ({len(checks)})"):
            st.dataframe(health.check_table(checks), hide_index=True, column_config=column_config)


def _failing_dates(snapshot: Snapshot) -> None:
    """Every date of the snapshot with a failing check, so a bad day shows without paging through the dates."""
    dates = queries.failing_check_dates(snapshot.key)
    if dates.empty:
        st.caption("No data check failed on any date of this snapshot.")
        return
    with st.expander(f"Dates with failing checks ({len(dates)} of the snapshot's dates)"):
        st.dataframe(
            pd.DataFrame(
                {
                    "Service date": [f"{pd.Timestamp(d):%a %d %b %Y}" for d in dates["service_date"]],
                    "Critical failing": dates["critical"].astype(int),
                    "Warnings failing": dates["warning"].astype(int),
                    "Sources": [", ".join(health.source_label(s) for s in sources) for sources in dates["sources"]],
                }
            ),
            hide_index=True,
        )
        st.caption("Newest first · pick a date above to see its checks")


def _loads_section(snapshot: Snapshot, loads: pd.DataFrame, all_loads: pd.DataFrame) -> None:
    st.subheader("Loads by source", anchor=False)
    if not has_table(snapshot.key, "ingest_log"):
        st.info(
            "This snapshot has no ingest log: publish it again from a pipeline that records its loads (`make run`).",
            icon=":material/info:",
        )
        return
    if loads.empty:
        st.info("No source file was loaded for this date and source.", icon=":material/info:")
        return
    st.dataframe(
        health.load_table(loads),
        hide_index=True,
        column_config={"Quarantined (%)": st.column_config.NumberColumn(format="%.1f %%")},
    )
    st.caption("Latest load of each file · loaded = accepted + quarantined · times local (Europe/Vaduz)")
    unbalanced = health.unbalanced_loads(loads)
    if unbalanced:
        st.warning(
            "Loaded rows differ from accepted + quarantined for: " + "; ".join(unbalanced),
            icon=":material/warning:",
        )
    with st.container(border=True):
        st.markdown("**Rows loaded per service date and source**")
        st.altair_chart(charts.loaded_rows_chart(all_loads), width="stretch")
        st.caption("Latest load of each source and date · log scale")
    with st.expander(f"Every service date ({len(all_loads):,} loads)"):
        st.dataframe(
            health.load_table(all_loads, with_dates=True),
            hide_index=True,
            column_config={"Quarantined (%)": st.column_config.NumberColumn(format="%.1f %%")},
        )


def _quarantine_section(snapshot: Snapshot, service_date: dt.date, source: str | None, quarantined: int) -> None:
    rows = queries.quarantined_rows(snapshot.key, service_date, source)
    st.subheader(f"Quarantined rows ({len(rows):,})", anchor=False)
    if not has_table(snapshot.key, "quarantined_rows"):
        st.info(
            "This snapshot has no quarantine: the warehouse it was published from keeps no rejected rows yet. "
            "Run the pipeline (`make run`) and publish again.",
            icon=":material/info:",
        )
        return
    if rows.empty:
        if quarantined:
            st.warning(
                f"The ingest log counts {quarantined:,} quarantined row(s), but the snapshot holds none of them.",
                icon=":material/warning:",
            )
        else:
            st.success("Every source row of this date was accepted.", icon=":material/check_circle:")
        return
    st.markdown("**By reason**")
    st.dataframe(
        health.reason_table(queries.quarantine_reasons(snapshot.key, service_date, source)),
        hide_index=True,
        column_config={"Meaning": st.column_config.TextColumn(width="large")},
    )
    st.markdown("**Rows**")
    st.dataframe(
        health.quarantine_table(rows),
        hide_index=True,
        column_config={
            "Reason": st.column_config.TextColumn(width="large"),
            "Line in the file": st.column_config.TextColumn(width="large"),
        },
    )
    st.caption("Line: line in the source file, the header being line 1 · fix the file and load the date again")


def render(snapshot: Snapshot) -> None:
    dates = queries.health_dates(snapshot.key)
    date_col, source_col = page_header("Data health", snapshot)
    if not dates:
        empty_state(
            "No data-health records yet",
            f"Snapshot `{snapshot.snapshot_id}` holds no ingest log, quarantined rows or data checks: it was "
            "published from a warehouse that does not record them yet, or before any file was loaded. Run the "
            "pipeline to load the landing files, check them and publish a fresh snapshot:",
        )
        return
    with date_col:
        service_date = service_date_picker(dates, key="health_service_date")
    with source_col:
        source = _source_picker(queries.health_sources(snapshot.key))

    loads = queries.loads(snapshot.key, service_date, source)
    checks = queries.data_checks(snapshot.key, service_date, source)
    _tiles(loads, checks)
    checks_tab, loads_tab, quarantine_tab, freshness_tab = st.tabs(
        ["Data checks", "Loads", "Quarantine", "Freshness and plan runs"], key="health_tab", on_change="rerun"
    )
    # Lazy tabs: only the open tab's queries, tables and charts run, so the page draws without waiting for the others.
    if checks_tab.open:
        with checks_tab:
            _checks_section(snapshot, checks)
    if loads_tab.open:
        with loads_tab:
            _loads_section(snapshot, loads, queries.loads(snapshot.key, None, source))
    if quarantine_tab.open:
        with quarantine_tab:
            _quarantine_section(snapshot, service_date, source, health.load_totals(loads)["quarantined"])
            all_loads = queries.loads(snapshot.key, None, source)
            if (all_loads["quarantined_rows"].fillna(0) > 0).any():
                with st.container(border=True):
                    st.markdown("**Quarantined rows per service date and source**")
                    st.altair_chart(charts.quarantine_chart(all_loads), width="stretch")
    if freshness_tab.open:
        with freshness_tab:
            _freshness_and_runs(snapshot)


def _freshness_and_runs(snapshot: Snapshot) -> None:
    st.subheader("Freshness", anchor=False)
    freshness = queries.freshness(snapshot.key)
    if freshness.empty:
        st.info("No source has been loaded into this snapshot's warehouse.", icon=":material/info:")
    else:
        st.dataframe(health.freshness_table(freshness, dt.datetime.now(dt.UTC)), hide_index=True)
        st.caption("Stalest source first · age of the last load at the time this page was drawn · times local")

    st.subheader("Latest plan runs", anchor=False)
    runs = queries.latest_plan_runs(snapshot.key, PLAN_RUNS_SHOWN)
    if runs.empty:
        st.info("The snapshot holds no plan runs.", icon=":material/info:")
    else:
        st.dataframe(
            health.plan_runs_table(runs),
            hide_index=True,
            column_config={"Current": st.column_config.CheckboxColumn(help="The plan the dashboard shows")},
        )


run_page(render)
