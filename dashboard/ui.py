"""Streamlit helpers shared by the pages: resolving the snapshot, the page header and pickers, empty states."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import duckdb
import pandas as pd
import streamlit as st

from dashboard import layers, queries
from dashboard.snapshot import Snapshot, SnapshotUnavailableError, current_snapshot

ALL_DEPOTS = "__all__"


def page_header(title: str, snapshot: Snapshot, note: str = "") -> tuple:
    """Title with the snapshot's id and publish time on the left; returns the two picker columns on the right."""
    title_col, first_col, second_col = st.columns([3, 1.3, 1.3], vertical_alignment="bottom")
    with title_col:
        st.title(title, anchor=False)
        st.caption(
            f"Snapshot `{snapshot.snapshot_id}` · published "
            f"{layers.format_published(snapshot.created_at_utc)} (Europe/Vaduz){note}"
        )
    return first_col, second_col


def service_date_picker(dates: list[dt.date], key: str) -> dt.date:
    """A service date among ``dates``, newest first and preselected."""
    return st.selectbox(
        "Service date", options=list(reversed(dates)), format_func=lambda d: d.strftime("%a %d %b %Y"), key=key
    )


def _depot_names(snapshot: Snapshot) -> dict[str, str]:
    all_depots = queries.depots(snapshot.key)
    return dict(zip(all_depots["depot_id"], all_depots["name"], strict=True))


def depot_name(snapshot: Snapshot, depot_id: str | None) -> str:
    """A depot's display name, or "any depot" for all depots (None)."""
    return _depot_names(snapshot).get(depot_id, "any depot")


def depot_picker(snapshot: Snapshot, key: str) -> str | None:
    """All depots (None) or one depot id, labelled by name."""
    depot_names = _depot_names(snapshot)
    choice = st.selectbox(
        "Depot",
        options=[ALL_DEPOTS, *depot_names],
        format_func=lambda d: "All depots" if d == ALL_DEPOTS else f"{depot_names[d]} ({d})",
        key=key,
    )
    return None if choice == ALL_DEPOTS else choice


def empty_state(title: str, message: str, command: str | None = "make run") -> None:
    """Explain why there is nothing to show and what to run; ``command`` is shown as a shell line.

    The box carries the CSS class ``st-key-empty_state_<title slug>``, which the browser tests and
    ``benchmarks/dashboard.py`` look for as the content of a page with nothing else to show.
    """
    slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")
    with st.container(border=True, key=f"empty_state_{slug}"):
        st.subheader(title, anchor=False)
        st.markdown(message)
        if command:
            st.code(command, language="bash")


def no_learned_models(snapshot: Snapshot) -> None:
    """The empty state of the learned-model pages: the snapshot holds no model (an older warehouse, or no
    delivered day yet)."""
    empty_state(
        "No learned models yet",
        "No learned models yet: they are trained from delivered days; run `make history` to play out past days, "
        f"train the models on them and publish a snapshot that holds them (snapshot `{snapshot.snapshot_id}` "
        "has none).",
        command="make history",
    )


def run_page(render: Callable[[Snapshot], None]) -> None:
    """Resolve ``CURRENT`` once for this run and render the page, or an empty state instead of a traceback."""
    try:
        snapshot = current_snapshot()
    except SnapshotUnavailableError as exc:
        empty_state("No plan published yet", str(exc))
        return
    try:
        render(snapshot)
    except duckdb.Error as exc:
        # A snapshot that disappears or is damaged mid-session (e.g. cleaned up by `make clean`).
        empty_state(
            "The published snapshot could not be read",
            f"Snapshot `{snapshot.snapshot_id}` failed to load: {exc}. "
            "Reload the page; if this persists, publish a fresh snapshot.",
        )


def table_with_route_colours(table: pd.DataFrame, column_config: dict) -> None:
    """A route table whose ``Colour`` column (hex colours) shows as a swatch matching the map's route colour."""
    st.dataframe(
        table.style.map(lambda hex_color: f"background-color: {hex_color}; color: {hex_color}", subset=["Colour"]),
        hide_index=True,
        column_config={"Colour": st.column_config.TextColumn("", width=40), **column_config},
    )
