"""lastmile delivery tracking: the customer-facing page behind a tracking link (``/?t=<token>``).

A separate Streamlit entry point with its own server (``make tracking``, port 8502), so a customer can never reach
the ops pages: it has no navigation and reads nothing but the one order its token names (dashboard/tracking.py).
The status part reruns every ``REFRESH_S`` seconds, so an open page follows the day.
"""

import logging
import re

import streamlit as st

from dashboard.tracking import NOT_FOUND_MESSAGE, NOT_FOUND_TITLE, REFRESH_S, TIMEZONE, describe, find_tracking

st.set_page_config(page_title="Track your delivery", page_icon=":material/local_shipping:", layout="centered")

_TONES = {"info": st.info, "success": st.success, "warning": st.warning, "error": st.error}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def _plain(text: str) -> str:
    """``text`` shown as written inside Markdown (an address may hold characters Markdown would interpret)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _not_found() -> None:
    st.title(NOT_FOUND_TITLE, anchor=False)
    st.write(NOT_FOUND_MESSAGE)


@st.fragment(run_every=REFRESH_S)
def tracking_panel(token: str | None) -> None:
    """The order's status, ETA window, day, address and window, looked up again on every run."""
    try:
        tracking = find_tracking(token)
        view = describe(tracking) if tracking is not None else None
    except Exception:  # the customer sees "not found", never a trace; the operator finds it in the log
        logging.getLogger(__name__).exception("tracking page failed")
        view = None
    if view is None:
        _not_found()
        return
    st.caption("Delivery tracking")
    st.title(view.headline, anchor=False)
    if view.time_text:
        st.metric(view.time_label, view.time_text)
    _TONES[view.tone](view.message)
    st.markdown(
        "  \n".join(
            [
                f"**Delivery day** · {_plain(view.day_text)}",
                f"**Address** · {_plain(view.address or '—')}",
                f"**Your delivery window** · {_plain(view.window_text or 'any time')}",
            ]
        )
    )
    st.caption(f"Times are local ({TIMEZONE}). Last updated {view.updated_text}; this page refreshes itself.")


tracking_panel(st.query_params.get("t"))
