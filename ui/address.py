"""The page address's query: each part of the dashboard updates its own keys and leaves everyone else's.

Several parts write to one address: who you are (``me``, ``name``: ui/identity.py), presentation mode
(``present``), and a page's own choices (Inside the network's ``step``/``run``/``test_index``, the
designer's ``design``). Replacing the whole query from one of them dropped the others: a reload then
made the student somebody else and turned presentation mode off. Every writer goes through
``update_query``; links and page switches carry ``kept_query()``.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

# Keys that belong to the browser, not to a page: they travel with every link and page switch.
# ("me" and "name" are ui/identity.py's SECRET_PARAM and NAME_PARAM, "present" ui/presentation.py's QUERY_KEY;
# named here so this module sits below both.)
CARRIED_KEYS = ("me", "name", "present")


def update_query(values: Mapping[str, str | None]) -> None:
    """Set each key of ``values`` in the address (None removes it); every other key stays as it is."""
    for key, value in values.items():
        if value is None:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != value:
            st.query_params[key] = value


def kept_query(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The browser's own keys from the current address, plus ``extra``: the query for a link or a page switch."""
    kept = {key: st.query_params[key] for key in CARRIED_KEYS if key in st.query_params}
    return kept | dict(extra or {})
