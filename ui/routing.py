"""Every page goes through app.py's router, even one opened by its own address on a fresh server.

Streamlit switches a server to ``st.navigation`` the first time any session runs app.py.
Until then it serves the files in ``pages/`` on their own (its older multipage mode): a
link to ``/step_3`` that is the server's first request opens the page with a menu of raw
file names and none of app.py's settings. ``through_the_router`` notices that case, sends
the session to app.py, and app.py opens the page that was asked for.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.identity import identity_sidebar

_ROUTED = "routing_app_ran"  # set by app.py on every run of this session
_WANTED = "routing_page_wanted"  # the page to open once app.py runs
_WANTED_QUERY = "routing_query_wanted"  # and the query parameters its address carried (a switch drops them)


def mark_routed() -> None:
    """app.py: this session's pages run inside the router."""
    st.session_state[_ROUTED] = True


def through_the_router(page_file: str) -> None:
    """Call first in a page script: when app.py has not run in this session, go through it."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    if st.session_state.get(_ROUTED):
        identity_sidebar()  # no-op when app.py drew it in this run
        return
    entrypoint = Path(ctx.main_script_path)
    if entrypoint.name != "app.py":
        return  # the page is the whole app (a test running it alone): nothing to route through
    st.session_state[_WANTED] = Path(page_file).resolve().relative_to(entrypoint.resolve().parent).as_posix()
    st.session_state[_WANTED_QUERY] = st.query_params.to_dict()
    st.switch_page("app.py")


def page_wanted() -> str | None:
    """app.py: the page a session asked for before the router ran, once."""
    return st.session_state.pop(_WANTED, None)


def query_wanted() -> dict[str, str]:
    """app.py: the query parameters of that page's address, once (``?step=4&test_index=12``)."""
    return st.session_state.pop(_WANTED_QUERY, None) or {}
