"""Inside the network in a real browser: from a step page's Mistakes tab one click opens the page on that
digit; picking a unit draws its field; every section renders with no error box and no sideways scrolling
at 1400x900; hovering the projection shows a digit's picture. Screenshots are kept in screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from mnist_core.lesson.report import shipped_run
from tests.conftest import wait_for_app

pytestmark = pytest.mark.browser
SECTIONS = ("Feature maps", "Pick a unit", "Filters", "Read-out", "Where it looks", "Where the classes separate")


def no_sideways_scroll(page) -> None:
    widths = page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]') || document.scrollingElement;
        return [document.documentElement.scrollWidth, window.innerWidth, main.scrollWidth, main.clientWidth];
    }""")
    assert widths[0] <= widths[1] and widths[2] <= widths[3], f"content wider than the window: {widths}"


def click(locator) -> None:
    """Click without waiting for the element to hold still for two animation frames: on a machine this busy
    the browser's frames come too rarely for that, while the element is already there and idle."""
    expect(locator).to_be_visible(timeout=60_000)
    locator.click(force=True, timeout=120_000)


def open_section(page, name: str) -> None:
    click(page.get_by_test_id("stButtonGroup").get_by_text(name, exact=True))
    wait_for_app(page)


def test_a_mistake_opens_inside_the_network_and_a_unit_shows_its_field(page, app_url, screenshot_dir):
    page.set_viewport_size({"width": 1400, "height": 900})
    first = shipped_run(4).mistakes().mistakes[0]
    page.goto(app_url)
    wait_for_app(page)
    click(page.get_by_test_id("stSidebarNav").get_by_text("Step 4 · LR schedule", exact=True))
    wait_for_app(page)
    click(page.get_by_role("tab", name=re.compile("Mistakes")))
    link = page.get_by_test_id("stPageLink").filter(has_text=f"{first.true}→{first.predicted}").first
    expect(link).to_be_visible(timeout=30_000)
    page.screenshot(path=screenshot_dir / "inside-from-mistakes-tab.png")
    click(link)
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Inside the network", exact=True)).to_be_visible(timeout=30_000)
    assert f"test_index={first.index}" in page.url and "step=4" in page.url
    expect(page.get_by_text(f"on test digit #{first.index} (a {first.true})")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("a mistake").first).to_be_visible()
    expect(page.get_by_test_id("stPlotlyChart").nth(3)).to_be_visible(timeout=30_000)
    page.wait_for_timeout(800)  # let the plots finish drawing before the picture
    no_sideways_scroll(page)
    page.screenshot(path=screenshot_dir / "inside-feature-maps.png")

    open_section(page, "Pick a unit")
    channel = page.get_by_label(re.compile(r"Channel \(0-13\)"))
    channel.fill("3")
    channel.press("Enter")
    wait_for_app(page)
    expect(page.get_by_text(re.compile(r"block4, channel 3, unit \(\d, \d\)"))).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r"receptive field 14×14 \(rows \d+-\d+, columns \d+-\d+ of the input\)"))
           ).to_be_visible()
    wait_for_app(page)  # the script run is over: no stale copy of the chart is left beside the new one
    field = page.get_by_test_id("stPlotlyChart").filter(has_text="Its field on the input").first
    expect(field).to_be_visible()
    expect(field.locator("path[style*='stroke-dasharray'], path[style*='rgb(0, 229, 255)']").first).to_be_attached()
    page.wait_for_timeout(800)
    page.screenshot(path=screenshot_dir / "inside-unit-field.png")
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_every_section_renders_and_the_projection_shows_a_digit_on_hover(page, app_url, screenshot_dir):
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{app_url}/inside_network?step=5&test_index=8")
    wait_for_app(page)
    expect(page.get_by_text("on test digit #8")).to_be_visible(timeout=60_000)
    for name in SECTIONS:
        if name != SECTIONS[0]:  # the first is open already
            open_section(page, name)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
        if name == "Where the classes separate":
            expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(2, timeout=60_000)
        page.wait_for_timeout(800)
        no_sideways_scroll(page)
        page.screenshot(path=screenshot_dir / f"inside-{name.lower().replace(' ', '-')}.png")
    chart = page.get_by_test_id("stVegaLiteChart").first
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    tooltip = page.locator("#vg-tooltip-element img")
    found = False
    for fy in range(10, 90, 4):  # sweep the plot until the pointer lands on a dot
        for fx in range(10, 85, 4):
            page.mouse.move(box["x"] + box["width"] * fx / 100, box["y"] + box["height"] * fy / 100)
            if tooltip.count() and tooltip.first.is_visible():
                found = True
                break
        if found:
            break
    assert found, "no digit picture appeared when hovering the projection"
    assert tooltip.first.get_attribute("src").startswith("data:image/png;base64,")
    page.screenshot(path=screenshot_dir / "inside-projection-hover.png")


def test_an_uploaded_picture_and_a_bad_file(page, app_url, tmp_path):
    import numpy as np
    from PIL import Image

    picture = np.full((200, 160), 255, dtype=np.uint8)
    picture[30:170, 70:90] = 0  # a dark stroke on white paper: a one
    Image.fromarray(picture).save(tmp_path / "one.png")
    (tmp_path / "broken.png").write_bytes(b"not a picture at all")
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{app_url}/inside_network?step=4")
    wait_for_app(page)
    click(page.get_by_text("Upload a picture", exact=True))
    wait_for_app(page)
    uploader = page.get_by_test_id("stFileUploaderDropzoneInput")
    uploader.set_input_files(str(tmp_path / "one.png"))
    expect(page.get_by_text("on your upload (one.png)")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("The model says").first).to_be_visible()
    uploader.set_input_files(str(tmp_path / "broken.png"))
    expect(page.get_by_text("That file cannot be used: this is not an image")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
