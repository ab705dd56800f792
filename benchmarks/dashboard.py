"""First render of every dashboard page in headless Chromium, on a year of history and on a small baseline.

Builds ``--real-days`` days of demo history at ``--scale`` through the real `demo_history_day` Dagster job (the
same as ``python -m orchestration.cli history``), then tiles that published snapshot to ``--days`` days and to
``--baseline-days`` days by copying every dated row once per tile with its dates shifted back by whole multiples
of the real days (ids made unique per tile), so the row volume is that of a real year while the content repeats.
Serves each tiled snapshot with ``streamlit run dashboard/app.py`` (and ``dashboard/tracking_app.py`` once it
exists) and opens every page ``--loads`` times in a fresh browser context, timing from navigation to the end of
the script run with the page's title and first chart, map or table drawn; reports the median per page, writes
its section of docs/benchmarks.md and ends with ``page_first_render_s_max: <float>``.

Before tiling, the history's warehouse is published once more with this checkout's publisher (tracking tokens
first, as the `serving_snapshot` asset does), so a history kept and reused with ``--keep`` gets every table the
current code publishes. Building the history is the slow part (about 70 s a day at `default` scale on an idle
2-core machine); ``--keep DIR`` keeps it in ``DIR/history`` and reuses it when scale, seed, end and days match.

    .venv/bin/python benchmarks/dashboard.py [--days 365] [--baseline-days 14] [--real-days 7] [--scale default]
        [--loads 5] [--keep DIR] [--pages overview performance] [--no-write]
"""

from __future__ import annotations

import argparse
import ast
import base64
import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

REPO_ROOT = Path(__file__).resolve().parent.parent
_HERE = str(Path(__file__).resolve().parent)
sys.path.insert(0, _HERE)
from plan_day import manifest_for_this_warehouse  # noqa: E402
from report import use_data_dir, write_section  # noqa: E402

# This file is benchmarks/dashboard.py: with its folder on sys.path it would shadow the `dashboard` package for
# anything imported later (the pipeline's modules), so the folder leaves sys.path once its helpers are loaded.
sys.path[:] = [entry for entry in sys.path if entry != _HERE]

APP_PATH = REPO_ROOT / "dashboard" / "app.py"
TRACKING_APP_PATH = REPO_ROOT / "dashboard" / "tracking_app.py"
CHROMIUM_PATH = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-dev-shm-usage"]
SECTION = "dashboard: first render of every page"
TARGET_S = 2.0

HISTORY_MAX_ITERS = 300
HISTORY_BUDGET_S = 30.0
BUILT_MARKER = "dashboard_benchmark_history.json"


def build_history(root: Path, scale: str, seed: int, end: dt.date, real_days: int) -> dict:
    """``real_days`` days of demo history ending at ``end`` in ``root`` (as ``orchestration.cli history``), reused
    when ``root`` already holds the same build; returns the build's description (with its wall time)."""
    from orchestration.cli import run_day

    wanted = {"scale": scale, "seed": seed, "end": end.isoformat(), "real_days": real_days}
    marker = root / BUILT_MARKER
    if marker.is_file():
        built = json.loads(marker.read_text(encoding="utf-8"))
        if {key: built.get(key) for key in wanted} == wanted:
            print(f"reusing the history built in {root} ({built['build_s']:.0f} s when built)")
            use_data_dir(root, scale, seed)
            return built
    root.mkdir(parents=True, exist_ok=True)
    use_data_dir(root, scale, seed)
    dates = [(end - dt.timedelta(days=offset)).isoformat() for offset in range(real_days - 1, -1, -1)]
    started = time.perf_counter()
    with manifest_for_this_warehouse(root):
        for service_date in dates:
            day_started = time.perf_counter()
            result = run_day(service_date, HISTORY_BUDGET_S, seed, "demo_history_day", HISTORY_MAX_ITERS, "ERROR")
            if not result.success:
                raise SystemExit(f"{service_date}: the demo_history_day run failed")
            print(f"history {service_date}: {time.perf_counter() - day_started:.0f} s", flush=True)
    built = wanted | {"build_s": time.perf_counter() - started, "dates": dates}
    marker.write_text(json.dumps(built, indent=2), encoding="utf-8")
    return built


def publish_again(root: Path) -> Path:
    """Publish the history's warehouse once more with this checkout's publisher, as the `serving_snapshot` asset
    does (tracking tokens first), so a reused build gets every table the current code publishes; returns the new
    snapshot's folder."""
    import duckdb

    from orchestration.serving import publish_snapshot
    from orchestration.tracking import ensure_tracking_tokens

    with duckdb.connect(str(root / "warehouse.duckdb")) as conn:
        ensure_tracking_tokens(conn)
        published = publish_snapshot(conn, root / "serving")
    return published.path


# --- tiling a snapshot to more days ------------------------------------------------------------------------------

# Ids that must stay unique per copy of a row: a plan (and what points at it), a model version.
TILE_ID_COLUMNS = ("plan_id", "parent_plan_id")
# Tables without a service_date whose rows are per training day: tiled on this date column instead.
TILE_DATE_OF_TABLE = {"model_versions": "trained_through"}
TILE_VERSION_TABLES = {"model_versions": "version"}


def _shift_column(column: pa.ChunkedArray, days: int) -> pa.ChunkedArray:
    """A date or timestamp column moved ``days`` days earlier; any other column unchanged."""
    kind = column.type
    if pa.types.is_date32(kind):
        return pc.subtract(column.cast(pa.int32()), pa.scalar(days, pa.int32())).cast(kind)
    if pa.types.is_date64(kind):
        return pc.subtract(column.cast(pa.int64()), pa.scalar(days * 86_400_000, pa.int64())).cast(kind)
    if pa.types.is_timestamp(kind):
        per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[kind.unit]
        return pc.subtract(column.cast(pa.int64()), pa.scalar(days * 86_400 * per_second, pa.int64())).cast(kind)
    return column


def _tile_token(token: str, tile: int) -> str:
    """A different token of the same shape (43 URL-safe characters) for copy ``tile`` of a tracking row."""
    digest = hashlib.sha256(f"{token}/{tile}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def tile_table(table: pa.Table, name: str, tiles: int, period_days: int) -> pa.Table:
    """``tiles`` copies of a dated table, copy k with every date and timestamp moved ``k * period_days`` days
    earlier and its ids (plan ids, model versions, tracking tokens) made unique; a table without a date key
    (depots, the newest model's factors) is returned as it is.

    Parameters
    ----------
    table
        One serving table.
    name
        Its name (the Parquet file's stem).
    tiles
        Number of copies, the original (k = 0) included.
    period_days
        Days the original covers; copies of a whole number of weeks keep each row's weekday.
    """
    date_key = TILE_DATE_OF_TABLE.get(name, "service_date")
    if date_key not in table.column_names or tiles <= 1:
        return table
    copies = []
    for tile in range(tiles):
        columns = []
        for field, column in zip(table.schema, table.columns, strict=True):
            if tile:
                column = _shift_column(column, tile * period_days)
                if field.name in TILE_ID_COLUMNS or field.name == TILE_VERSION_TABLES.get(name):
                    column = pc.binary_join_element_wise(column.cast(pa.string()), pa.scalar(f"t{tile}"), "-")
                    column = column.cast(field.type)
                elif field.name == "token":
                    column = pa.chunked_array(
                        [pa.array([None if t is None else _tile_token(t, tile) for t in column.to_pylist()])],
                        field.type,
                    )
            columns.append(column)
        copies.append(pa.Table.from_arrays(columns, schema=table.schema))
    return pa.concat_tables(copies)


def keep_newest_days(table: pa.Table, name: str, days: int, newest: dt.date) -> pa.Table:
    """The rows of a dated table whose date key lies in the ``days`` days up to ``newest``; others as they are."""
    date_key = TILE_DATE_OF_TABLE.get(name, "service_date")
    if date_key not in table.column_names:
        return table
    first = newest - dt.timedelta(days=days - 1)
    dates = table.column(date_key).cast(pa.date32())
    keep = pc.or_kleene(pc.greater_equal(dates, pa.scalar(first, pa.date32())), pc.is_null(dates))
    return table.filter(keep)


def tile_snapshot(source: Path, serving_dir: Path, days: int, period_days: int) -> dict:
    """Write a snapshot covering ``days`` days, made of copies of ``source`` (covering ``period_days``), into
    ``serving_dir`` (``snapshots/<id>/`` and ``CURRENT``), as the publisher lays it out; returns its manifest."""
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    newest = max(dt.date.fromisoformat(d) for d in manifest["service_dates"])
    tiles = -(-days // period_days)
    snapshot_id = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}-tiled{days}d"
    target = serving_dir / "snapshots" / snapshot_id
    target.mkdir(parents=True)
    row_counts = {}
    service_dates: set[str] = set()
    for path in sorted(source.glob("*.parquet")):
        name = path.stem
        table = keep_newest_days(tile_table(pq.read_table(path), name, tiles, period_days), name, days, newest)
        pq.write_table(table, target / path.name)
        row_counts[name] = table.num_rows
        if name == "plan_kpis":
            service_dates = {str(d) for d in table.column("service_date").cast(pa.date32()).to_pylist()}
    tiled = manifest | {
        "snapshot_id": snapshot_id,
        "created_at_utc": dt.datetime.now(dt.UTC).isoformat(),
        "tables": row_counts,
        "service_dates": sorted(service_dates),
        "tiled_from": {"snapshot_id": manifest["snapshot_id"], "period_days": period_days, "copies": tiles},
    }
    (target / "manifest.json").write_text(json.dumps(tiled, indent=2), encoding="utf-8")
    (serving_dir / "CURRENT").write_text(snapshot_id + "\n", encoding="utf-8")
    return tiled


# --- the pages -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppPage:
    """One page of a Streamlit app: its script, title and URL path ("" for the default page)."""

    script: str
    title: str
    url_path: str

    @property
    def name(self) -> str:
        """A short name for reports: the URL path, or the script's stem for the default page."""
        return self.url_path or Path(self.script).stem


def app_pages(app_path: Path = APP_PATH) -> list[AppPage]:
    """The pages ``st.navigation`` routes to in ``app_path``, in their order, read from the source (so new pages
    are measured without touching the benchmark).

    Raises
    ------
    ValueError
        If the file has no ``st.Page(...)`` call with a literal script path.
    """
    tree = ast.parse(app_path.read_text(encoding="utf-8"))
    pages = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "Page"):
            continue
        if not node.args or not isinstance(node.args[0], ast.Constant) or not isinstance(node.args[0].value, str):
            continue
        script = node.args[0].value
        options = {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
        url_path = "" if options.get("default") else str(options.get("url_path") or Path(script).stem)
        pages.append(
            (node.lineno, node.col_offset, AppPage(script, str(options.get("title") or Path(script).stem), url_path))
        )
    if not pages:
        raise ValueError(f"{app_path} has no st.Page(...) with a literal script path")
    return [page for _, _, page in sorted(pages, key=lambda entry: entry[:2])]


def median(values: list[float]) -> float:
    """The median of a non-empty list (the mean of the middle two for an even count).

    Raises
    ------
    ValueError
        If ``values`` is empty.
    """
    if not values:
        raise ValueError("median of no values")
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


# --- measuring in the browser ----------------------------------------------------------------------------------

# Done when the script run has finished (Streamlit's own run state, no status widget), the page's title is drawn
# and its first chart, map or table has a size on screen; a page with nothing to show counts its empty state
# (``dashboard.ui.empty_state``) instead.
RENDERED_JS = """
(contentSelector) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
    const title = document.querySelector('[data-testid="stMain"] h1');
    if (!title || title.getBoundingClientRect().height === 0) return false;
    const content = document.querySelector(contentSelector);
    return !!content && content.getBoundingClientRect().height > 0;
}
"""
CONTENT_SELECTOR = ", ".join(
    f'[data-testid="stMain"] {selector}'
    for selector in (
        '[data-testid="stDeckGlJsonChart"] canvas',
        '[data-testid="stVegaLiteChart"] canvas',
        '[data-testid="stVegaLiteChart"] svg',
        '[data-testid="stDataFrame"] canvas',
        '[data-testid="stTable"] table',
        '[class*="st-key-empty_state"]',
    )
)
# The customer tracking page has no chart: its content is the status text under the title.
TRACKING_CONTENT_SELECTOR = '[data-testid="stMain"] [data-testid="stMarkdownContainer"]'
MAIN_SELECTOR = '[data-testid="stMain"]'
EXCEPTION_SELECTOR = '[data-testid="stException"]'
LOAD_TIMEOUT_MS = 120_000


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def streamlit_app(script: Path, serving_dir: Path, data_dir: Path, log_path: Path, timeout_s: float = 120.0):
    """``streamlit run script`` on a free port reading ``serving_dir``; yields its base URL, stops it after."""
    port = _free_port()
    env = os.environ | {
        "LASTMILE_SERVING_DIR": str(serving_dir),
        "LASTMILE_DATA_DIR": str(data_dir),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    command = [
        sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.port", str(port),
        "--server.address", "127.0.0.1", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"streamlit not healthy after {timeout_s} s:\n{log_path.read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


# The browser has loaded Streamlit's frontend, connected and the server started the page's script: what every page
# pays before its own code runs.
SCRIPT_STARTED_JS = """
() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app && app.getAttribute('data-test-script-state');
    return !!state && state !== 'initial';
}
"""


def first_render_s(browser, url: str, content_selector: str = CONTENT_SELECTOR) -> tuple[float, float]:
    """Seconds from navigating a fresh browser context to ``url`` until the page's script started
    (:data:`SCRIPT_STARTED_JS`) and until the page is drawn (:data:`RENDERED_JS`).

    Raises
    ------
    RuntimeError
        If the page shows an exception box.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url, wait_until="commit")
        try:
            page.wait_for_function(SCRIPT_STARTED_JS, timeout=LOAD_TIMEOUT_MS, polling=25)
            script_started = time.perf_counter() - started
            page.wait_for_function(RENDERED_JS, arg=content_selector, timeout=LOAD_TIMEOUT_MS, polling=25)
        except PlaywrightTimeoutError as exc:
            shown = page.locator(MAIN_SELECTOR).inner_text()[:500]
            raise RuntimeError(
                f"{url} was not drawn within {LOAD_TIMEOUT_MS / 1000:.0f} s (no title, or no chart, map, table "
                f"or empty state); the page shows: {shown!r}"
            ) from exc
        elapsed = time.perf_counter() - started
        if page.locator(EXCEPTION_SELECTOR).count():
            raise RuntimeError(f"{url} shows an exception: {page.locator(EXCEPTION_SELECTOR).first.inner_text()}")
        return elapsed, script_started
    finally:
        context.close()


def tracking_token(snapshot_dir: Path) -> str | None:
    """A token of the newest service date in the snapshot's ``tracking`` table (None without the table)."""
    path = snapshot_dir / "tracking.parquet"
    if not path.is_file():
        return None
    table = pq.read_table(path, columns=["token", "service_date"]).to_pandas()
    if table.empty:
        return None
    return str(table.sort_values(["service_date", "token"]).iloc[-1]["token"])


def measure_snapshot(
    label: str, serving_dir: Path, data_dir: Path, loads: int, work: Path, only: list[str] | None = None
) -> list[dict]:
    """Every page of the app (and the tracking app, when it exists and the snapshot has tokens) opened ``loads``
    times in fresh browser contexts against one serving directory; one row per page with every load's seconds.
    ``only`` limits the pages to those names (:attr:`AppPage.name`, ``tracking``)."""
    from playwright.sync_api import sync_playwright

    snapshot_dir = serving_dir / "snapshots" / (serving_dir / "CURRENT").read_text(encoding="utf-8").strip()
    targets = [(page.name, page.title, APP_PATH, f"/{page.url_path}", CONTENT_SELECTOR) for page in app_pages()]
    token = tracking_token(snapshot_dir)
    if TRACKING_APP_PATH.is_file() and token is not None:
        targets.append(("tracking", "Customer tracking", TRACKING_APP_PATH, f"/?t={token}", TRACKING_CONTENT_SELECTOR))
    if only:
        targets = [target for target in targets if target[0] in only]
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM_PATH), headless=True, args=CHROMIUM_ARGS)
        try:
            for script in dict.fromkeys(target[2] for target in targets):
                log_path = work / f"streamlit_{label}_{script.stem}.log"
                with streamlit_app(script, serving_dir, data_dir, log_path) as url:
                    for name, title, page_script, path, selector in targets:
                        if page_script != script:
                            continue
                        try:
                            timings = [first_render_s(browser, url + path, selector) for _ in range(loads)]
                        except RuntimeError as exc:  # reported as not drawn; the other pages are still measured
                            print(f"[{label}] {title}: {exc}", flush=True)
                            rows.append(
                                {
                                    "page": name,
                                    "title": title,
                                    "loads_s": [math.inf],
                                    "median_s": math.inf,
                                    "started_s": math.inf,
                                }
                            )
                            continue
                        seconds = [drawn for drawn, _ in timings]
                        rows.append(
                            {
                                "page": name,
                                "title": title,
                                "loads_s": seconds,
                                "median_s": median(seconds),
                                "started_s": median([started for _, started in timings]),
                            }
                        )
                        print(
                            f"[{label}] {title}: median {median(seconds):.2f} s "
                            f"(loads {', '.join(f'{s:.2f}' for s in seconds)})",
                            flush=True,
                        )
        finally:
            browser.close()
    return rows


# --- the report ------------------------------------------------------------------------------------------------


def markdown(
    year: list[dict], baseline: list[dict], args: argparse.Namespace, build: dict, sizes: dict, load: tuple
) -> str:
    """The benchmarks.md section: how the snapshots were made, then one row per page."""
    base = {row["page"]: row for row in baseline}
    command = (
        f".venv/bin/python benchmarks/dashboard.py --days {args.days} --baseline-days {args.baseline_days} "
        f"--real-days {args.real_days} --scale {args.scale} --loads {args.loads}"
    )
    real = f"{build['dates'][0]} to {build['dates'][-1]}"
    lines = [
        f"Command: `{command}`",
        "",
        f"History: {args.real_days} real days ({real}) of the `{args.scale}` world built with the `demo_history_day` "
        f"job (as `python -m orchestration.cli history`, {HISTORY_MAX_ITERS} search iterations per depot) in "
        f"{build['build_s'] / 60:.1f} min, then **tiled**: the published snapshot copied once per "
        f"{args.real_days} days with every date and timestamp moved back by whole multiples of {args.real_days} "
        "days and plan ids, model versions and tracking tokens made unique per copy. The row volume is that of "
        f"{args.days} days (a real year); the content repeats every {args.real_days} days. Rows: "
        + "; ".join(
            f"{label} {', '.join(f'{name} {count:,}' for name, count in counts.items())}"
            for label, counts in sizes.items()
        )
        + ".",
        "",
        f"First render: from navigating a fresh browser context (headless Chromium) to the page until the script "
        f"run has finished (no status widget) and the page's title and first chart, map or table are drawn. "
        f"{args.loads} loads per page, one after the other against one `streamlit run` server per snapshot (so the "
        "first load also pays the server's cold query cache; the others hit the cached query results, keyed by the "
        "snapshot). Target: under 2 s. Browser, server and this script share the machine; its load average "
        f"(1 min) was {load[0]:.1f} when the measurements started and {load[1]:.1f} when they ended (2 cores: "
        "above 2, every process waits for a core).",
        "",
        "Script started: the median time until the browser had loaded Streamlit's frontend, connected, and the "
        "server had started the page's script, which every page pays before its own code runs.",
        "",
        f"| page | {args.days} days: median s | script started s | first load s | max s | "
        f"{args.baseline_days} days: median s | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in year:
        other = base.get(row["page"])
        ratio = "–" if other is None else f"{row['median_s'] / other['median_s']:.2f}"
        baseline_s = "–" if other is None else f"{other['median_s']:.2f}"
        lines.append(
            f"| {row['title']} | {row['median_s']:.2f} | {row.get('started_s', math.nan):.2f} | "
            f"{row['loads_s'][0]:.2f} | {max(row['loads_s']):.2f} | "
            f"{baseline_s} | {ratio} |"
        )
    worst = max(year, key=lambda row: row["median_s"])
    lines += ["", f"Slowest page: {worst['title']}, median {worst['median_s']:.2f} s (target {TARGET_S:.0f} s)."]
    if any(math.isinf(row["median_s"]) for row in [*year, *baseline]):
        lines.append(f"inf: the page was not drawn within {LOAD_TIMEOUT_MS / 1000:.0f} s (the run's output says why).")
    return "\n".join(lines)


def headline(year: list[dict]) -> list[str]:
    """The closing lines: ``page_first_render_s_max`` and one ``page_first_render_s.<page>`` per page."""
    lines = [f"page_first_render_s.{row['page']}: {row['median_s']:.3f}" for row in year]
    return [*lines, f"page_first_render_s_max: {max(row['median_s'] for row in year):.3f}"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365, help="days of history in the measured snapshot")
    parser.add_argument("--baseline-days", type=int, default=14, help="days of history in the baseline snapshot")
    parser.add_argument(
        "--real-days", type=int, default=7, help="real days built by the pipeline and tiled (a week keeps weekdays)"
    )
    parser.add_argument("--scale", default="default", choices=["small", "default", "large"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2026, 11, 25), help="last real day")
    parser.add_argument("--loads", type=int, default=5, help="fresh loads per page (the median is reported)")
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="build the history in KEEP/history and the tiled snapshots in KEEP/serving_<days>d and keep them; a "
        "history already there with the same scale, seed, end and real days is reused",
    )
    parser.add_argument(
        "--pages", nargs="+", default=None, help="only these pages (URL path, `plan` for the default page, `tracking`)"
    )
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args(argv)
    for name in ("days", "baseline_days", "real_days", "loads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not CHROMIUM_PATH.is_file():
        raise SystemExit(f"{CHROMIUM_PATH} not found: install it with `make browser`")
    with tempfile.TemporaryDirectory(prefix="lastmile-bench-dashboard-") as tmp:
        work = args.keep or Path(tmp)
        history = work / "history"
        build = build_history(history, args.scale, args.seed, args.end, args.real_days)
        source = publish_again(history)
        results, sizes = {}, {}
        load_before = os.getloadavg()[0]
        for days in (args.baseline_days, args.days):
            serving_dir = work / f"serving_{days}d"
            shutil.rmtree(serving_dir, ignore_errors=True)
            manifest = tile_snapshot(source, serving_dir, days, args.real_days)
            sizes[f"{days} days:"] = {
                name: manifest["tables"][name]
                for name in ("planned_stops", "deliveries", "driven_paths")
                if name in manifest["tables"]
            }
            print(f"snapshot of {days} days: {sum(manifest['tables'].values()):,} rows in {serving_dir}", flush=True)
            results[days] = measure_snapshot(f"{days}d", serving_dir, history, args.loads, work, args.pages)
        load = (load_before, os.getloadavg()[0])
    table = markdown(results[args.days], results[args.baseline_days], args, build, sizes, load)
    print(table)
    if not args.no_write:
        write_section(SECTION, table)
    for line in headline(results[args.days]):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
