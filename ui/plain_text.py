"""Text that people typed, shown as plain text wherever Streamlit would read it as Markdown.

A student's name appears on other students' pages ("Also waiting: ...", a Stop button's tooltip, the
sidebar). Streamlit renders those as Markdown, so the name ``![x](http://127.0.0.1:9/p.png)`` made every
viewer's browser fetch that address, and ``[Teacher login](http://evil.example/x)`` became a link.
``plain`` escapes every ASCII punctuation mark (CommonMark lets any of them be escaped), which takes
away links, images, emphasis, HTML tags and entities, bare-URL autolinks (``http\\://``), Streamlit's
``:colour[...]`` and ``:icon:`` directives and LaTeX (``$``) alike; the reader sees the characters typed.
"""

from __future__ import annotations

import re

from mnist_core.classroom.identity import clean_name

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark


def plain(text: str) -> str:
    """``text`` escaped for any place Streamlit renders Markdown: it shows exactly as written, on one line."""
    return _PUNCTUATION.sub(r"\\\1", " ".join(str(text).split()))


def name_text(name: str | None, fallback: str) -> str:
    """A person's name as Markdown-safe text: one short printable line (identity.clean_name), escaped."""
    return plain(clean_name(name, fallback))
