"""What every page shares and a browser asks for: no developer toolbar, and a tab icon shipped with the app."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def test_streamlits_deploy_button_and_developer_menu_are_hidden():
    """Issue 29: Streamlit's Deploy button showed on every page of the class."""
    # tomllib is Python 3.11+ and the project runs on 3.10 too: the [client] section read by hand.
    client = re.search(r"^\[client\]\n(.*?)(?=^\[|\Z)", (ROOT / ".streamlit" / "config.toml").read_text(), re.M | re.S)
    mode = re.search(r'^toolbarMode\s*=\s*"(\w+)"', client[1], re.M)
    assert mode and mode[1] in ("viewer", "minimal")


def test_the_tab_icon_is_a_picture_shipped_with_the_app():
    """Issue 29: ':material/pin:' made every browser fetch the icon from a font server on the internet."""
    app = (ROOT / "app.py").read_text()
    assert 'FAVICON = Path(__file__).resolve().parent / "static" / "favicon.png"' in app
    assert "page_icon=str(FAVICON)" in app and 'page_icon=":' not in app
    with Image.open(ROOT / "static" / "favicon.png") as image:
        assert image.format == "PNG" and image.size[0] >= 32
