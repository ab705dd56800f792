"""Streamlit helpers shared by the pages: resolving the snapshot and the empty states."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import streamlit as st

from dashboard.snapshot import Snapshot, SnapshotUnavailableError, current_snapshot


def empty_state(title: str, message: str, command: str | None = "make run") -> None:
    """Explain why there is nothing to show and what to run; ``command`` is shown as a shell line."""
    with st.container(border=True):
        st.subheader(title, anchor=False)
        st.markdown(message)
        if command:
            st.code(command, language="bash")


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
