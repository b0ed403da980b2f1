"""Links offered for sharing: the page and what it shows, never who is asking.

A page's own address carries the browser's secret (``me``) and its name, so whoever opens a
copied address *becomes* that student and can stop or delete their runs. Every link the app
offers for sharing is built here, from the page's address without its query and only the
parameters that describe what is shown (a design, a step, a digit).
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

# Query parameters that say who someone is, or grant something: never in a link offered for sharing.
PERSONAL_PARAMS = frozenset({"me", "name", "teacher"})


def share_link(page_path: str, params: dict[str, str]) -> str:
    """The full address of ``page_path`` (``"receptive_field"``) showing ``params``, with nothing personal.

    ValueError for a personal parameter: a caller that asks for one is a bug, never a link to hand out.
    """
    personal = PERSONAL_PARAMS & set(params)
    if personal:
        raise ValueError(f"a shared link must not carry {', '.join(sorted(personal))}")
    here = st.context.url
    base = here.rsplit("/", 1)[0] if isinstance(here, str) and "://" in here else ""
    return f"{base}/{page_path}?{urlencode(params)}"
