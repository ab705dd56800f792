"""Customer tracking: the token check, the lookup of one order in the serving snapshot, and the texts the
customer sees (``dashboard/tracking_app.py`` shows them; docs/tracking.md).

A tracking link is ``<LASTMILE_TRACKING_URL>/?t=<token>`` (:func:`tracking_url`). A token is checked against the
strict pattern of :data:`orchestration.tracking.TOKEN_PATTERN` before anything else; only then is it looked up, in
one parameterised query (``where token = $token``) on the published ``tracking.parquet``, through an in-memory
DuckDB. Anything that does not lead to exactly one row (a malformed or unknown token, no snapshot, a damaged or
missing file) is "not found" for the customer; the cause is logged for the operator.

Times in the table are seconds after local midnight of the service date in the operation's time zone
(:data:`TIMEZONE`), and are shown as such.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import pandas as pd

from dashboard.layers import format_address, format_clock
from dashboard.snapshot import SnapshotUnavailableError, current_snapshot
from orchestration.tracking import is_token

TRACKING_URL_ENV = "LASTMILE_TRACKING_URL"
DEFAULT_TRACKING_URL = "http://localhost:8502"
TRACKING_FILE = "tracking.parquet"
TIMEZONE = "Europe/Vaduz"
REFRESH_S = 60
"""How often an open tracking page looks the order up again."""
NOT_FOUND_TITLE = "Not found"
NOT_FOUND_MESSAGE = (
    "We could not find a delivery for this link. Please check that you opened the complete link from your message."
)

_LOOKUP_SQL = """
select
    order_id, service_date, street, postcode, town, tw_start_s, tw_end_s, status, eta_from_s, eta_to_s,
    delivered_at_s, updated_at_utc
from read_parquet($path)
where token = $token
"""
_log = logging.getLogger(__name__)


def tracking_url(token: str, base_url: str | None = None) -> str:
    """The customer's tracking link for ``token``: ``<base>/?t=<token>``.

    Parameters
    ----------
    token : str
        A tracking token (``tracking.token``).
    base_url : str, optional
        Where the tracking app is served; default ``$LASTMILE_TRACKING_URL`` (read per call), else
        :data:`DEFAULT_TRACKING_URL`.

    Raises
    ------
    ValueError
        If ``token`` is not a tracking token.
    """
    if not is_token(token):
        raise ValueError("not a tracking token (43 characters of A-Z, a-z, 0-9, '_' and '-' expected)")
    base = base_url or os.environ.get(TRACKING_URL_ENV) or DEFAULT_TRACKING_URL
    return base.rstrip("/") + "/?t=" + quote(token, safe="")


@dataclass(frozen=True)
class Tracking:
    """One order as its customer may see it: its own address, window, status and times, nothing else.

    Times are seconds after local midnight of ``service_date``; ``eta_from_s``/``eta_to_s`` are set while the
    order is planned or out for delivery, ``delivered_at_s`` once delivered.
    """

    order_id: str
    service_date: dt.date
    street: str | None
    postcode: str | None
    town: str | None
    tw_start_s: int | None
    tw_end_s: int | None
    status: str
    eta_from_s: int | None
    eta_to_s: int | None
    delivered_at_s: int | None
    updated_at_utc: pd.Timestamp | None


def _value(value: Any) -> Any:
    return None if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)) else value


def _int(value: Any) -> int | None:
    value = _value(value)
    return None if value is None else int(value)


def find_tracking(token: Any, serving_directory: Path | None = None) -> Tracking | None:
    """The order behind ``token`` in the current serving snapshot, or None.

    None when the token is malformed (nothing is queried then), unknown, or when there is no usable snapshot
    or tracking file; the cause of a failed lookup is logged, never shown.

    Parameters
    ----------
    token
        What the link carried (any value: it is checked first).
    serving_directory : Path, optional
        Serving directory; defaults to :func:`dashboard.snapshot.serving_dir`.
    """
    if not is_token(token):
        return None
    try:
        snapshot = current_snapshot(serving_directory)
        path = snapshot.path / TRACKING_FILE
        if not path.is_file():
            _log.warning("snapshot %s has no %s: tracking lookups find nothing", snapshot.snapshot_id, TRACKING_FILE)
            return None
        with duckdb.connect(":memory:") as conn:
            rows = conn.execute(_LOOKUP_SQL, {"path": str(path), "token": token}).fetchall()
    except (SnapshotUnavailableError, duckdb.Error, OSError, ValueError) as error:
        _log.warning("tracking lookup failed: %s", error)
        return None
    if len(rows) != 1:
        if rows:
            _log.warning("token matches %d tracking rows; showing none", len(rows))
        return None
    (order_id, service_date, street, postcode, town, tw_start, tw_end, status, eta_from, eta_to, delivered_at,
     updated_at) = rows[0]  # fmt: skip
    return Tracking(
        order_id=str(order_id),
        service_date=pd.Timestamp(service_date).date(),
        street=_value(street),
        postcode=_value(postcode),
        town=_value(town),
        tw_start_s=_int(tw_start),
        tw_end_s=_int(tw_end),
        status=str(status),
        eta_from_s=_int(eta_from),
        eta_to_s=_int(eta_to),
        delivered_at_s=_int(delivered_at),
        updated_at_utc=None if _value(updated_at) is None else pd.Timestamp(updated_at),
    )


@dataclass(frozen=True)
class TrackingView:
    """What the tracking page shows for one order, as text.

    Attributes
    ----------
    headline : str
        The status in a few words.
    time_label : str
        What ``time_text`` is ("Expected between", "Delivered at"); empty without a time.
    time_text : str
        The ETA window or the delivery time, local clock times (e.g. ``10:15–10:45``); empty without one.
    message : str
        One or two plain sentences: what is happening and what happens next.
    day_text : str
        The service date, e.g. ``Friday 27 November 2026``.
    address : str
        The delivery address (the customer's own).
    window_text : str
        The delivery window the customer chose, e.g. ``09:00–12:00``.
    updated_text : str
        When the information was last refreshed, local time.
    tone : str
        ``info``, ``success``, ``warning`` or ``error``: how the page colours the status.
    """

    headline: str
    time_label: str
    time_text: str
    message: str
    day_text: str
    address: str
    window_text: str
    updated_text: str
    tone: str


def format_day(day: dt.date) -> str:
    """A service date for customers: ``Friday 27 November 2026``."""
    return day.strftime("%A ") + str(day.day) + day.strftime(" %B %Y")


def format_time_window(start_s: int | None, end_s: int | None) -> str:
    """Two local clock times as a range, ``10:15–10:45``; empty unless both are known."""
    if start_s is None or end_s is None:
        return ""
    return format_clock(start_s) + "–" + format_clock(end_s)


def format_updated(updated_at_utc: Any, timezone: str = TIMEZONE) -> str:
    """A UTC instant as the local ``27 Nov 2026, 10:05``; empty when missing."""
    if _value(updated_at_utc) is None:
        return ""
    stamp = pd.Timestamp(updated_at_utc)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert(timezone).strftime("%d %b %Y, %H:%M")


def describe(tracking: Tracking) -> TrackingView:
    """The texts of the tracking page for one order (pure: no clock, no I/O).

    Raises
    ------
    ValueError
        If the status is not one of :data:`orchestration.tracking.TRACKING_STATUSES`.
    """
    day = format_day(tracking.service_date)
    eta = format_time_window(tracking.eta_from_s, tracking.eta_to_s)
    between = eta.replace("–", " and ")
    time_label, time_text = "", ""
    if tracking.status == "planned":
        headline, tone = "Your delivery is planned", "info"
        if eta:
            time_label, time_text = "Expected between", eta
            message = f"We expect to deliver on {day} between {between}. This page updates as the day goes on."
        else:
            message = f"Your delivery is planned for {day}. The expected time will show here as soon as we know it."
    elif tracking.status == "out_for_delivery":
        headline, tone = "Your parcel is on its way", "info"
        if eta:
            time_label, time_text = "Expected between", eta
            message = f"Your parcel is on the delivery vehicle. We expect to be with you between {between}."
        else:
            message = "Your parcel is on the delivery vehicle. The expected time will show here shortly."
    elif tracking.status == "delivered":
        headline, tone = "Delivered", "success"
        if tracking.delivered_at_s is not None:
            time_label, time_text = "Delivered at", format_clock(tracking.delivered_at_s)
            message = f"Your parcel was delivered on {day} at {time_text}."
        else:
            message = f"Your parcel was delivered on {day}."
    elif tracking.status == "failed":
        headline, tone = "We could not deliver your parcel", "warning"
        message = (
            f"We could not deliver your parcel on {day}. We will contact you to arrange a new delivery; "
            "if you have questions, please contact our customer service."
        )
    elif tracking.status == "cancelled":
        headline, tone = "This delivery was cancelled", "error"
        message = "This delivery was cancelled. If you did not expect this, please contact our customer service."
    elif tracking.status == "not_planned":
        headline, tone = "We are scheduling your delivery", "info"
        message = (
            f"We have your order for {day} but no delivery time yet. This page will show it as soon as it is "
            "planned; if it cannot be delivered that day, we will contact you."
        )
    else:
        raise ValueError(f"unknown tracking status {tracking.status!r}")
    return TrackingView(
        headline=headline,
        time_label=time_label,
        time_text=time_text,
        message=message,
        day_text=day,
        address=format_address(tracking.street, tracking.postcode, tracking.town),
        window_text=format_time_window(tracking.tw_start_s, tracking.tw_end_s),
        updated_text=format_updated(tracking.updated_at_utc),
        tone=tone,
    )
