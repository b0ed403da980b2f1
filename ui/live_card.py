"""The live card: one run under way, redrawn by the browser from the panel's live feed.

The card (live_card.js, live_card.css) fetches ``/app/static/live/<key>.json`` every two seconds,
the file mnist_core/classroom/live_feed.py writes, and draws the run's words, bars, numbers and
curves from it; the server draws the card once and again only when the panel's runs change
stage. Where the feed cannot be served (``server.enableStaticServing`` off, as when Streamlit
starts outside this folder and so without its .streamlit/config.toml), the card says so and
the panel falls back to redrawing it from the server once a second.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import streamlit as st
from streamlit.components.v2 import component

from mnist_core.classroom.live_feed import feed_file_name
from mnist_core.lesson.target import TARGET_ACC

HERE = Path(__file__).resolve().parent
STATIC_FOLDER = HERE.parent / "static"  # Streamlit serves the folder named "static" beside app.py
FEED_MISSING = "live_feed_missing"  # session flag: this browser could not read the feed

_card = component(
    "mnist_live_card", js=(HERE / "live_card.js").read_text(), css=(HERE / "live_card.css").read_text(),
)


def feed_folder(runs_dir: str) -> Path:
    """This server's feed folder: one per runs folder, so two dashboards on two folders never mix."""
    return STATIC_FOLDER / "live" / hashlib.sha256(runs_dir.encode()).hexdigest()[:12]


def feed_url(runs_dir: str, key: str) -> str | None:
    """Where a browser fetches panel ``key``'s feed; None when it cannot (the panel then polls the server)."""
    if not st.get_option("server.enableStaticServing") or st.session_state.get(FEED_MISSING):
        return None
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{'/' + base if base else ''}/app/static/live/{feed_folder(runs_dir).name}/{feed_file_name(key)}"


def panel_signature(views: list[dict]) -> str:
    """The panel's runs and their stages, as the card computes it from the feed (signatureOf)."""
    return ",".join(sorted(f"{view['run_id']}:{view['stage']}" for view in views))


def _feed_missing() -> None:
    st.session_state[FEED_MISSING] = True


def live_card(view: dict, *, label: str, who: str, colour: str | None, presenting: bool, feed: str | None,
              signature: str, watch: bool, key: str) -> None:
    """Mount the card for ``view`` (live_view.job_view); ``watch`` on the first card of a panel only."""
    _card(key=key, data={"view": view, "label": label, "who": who, "colour": colour or "#1f77b4",
                         "presenting": presenting, "feed": feed, "signature": signature, "watch": watch,
                         "drawn": time.time(), "target": TARGET_ACC},
          on_changed_change=lambda: None, on_feed_missing_change=_feed_missing)
