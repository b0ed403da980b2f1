"""Reading a rendered figure's font sizes, for tests: every text of a plotly or Vega-Lite spec, with where it is.

Streamlit's plotly theme draws tick labels (and colour-bar numbers) at 12 px unless the figure sets
their size itself, so an axis or colour bar with no size of its own counts as 12 px here.
"""

from __future__ import annotations

STREAMLIT_THEME_TICK_PX = 12  # what an axis without its own tick size is drawn at


def _size(node) -> float | None:
    return node.get("size") if isinstance(node, dict) else None


def plotly_font_sizes(spec: dict) -> list[tuple[str, float]]:
    """(where, px) for every text of a plotly figure spec (``json.loads(chart.proto.spec)``)."""
    layout, found = spec.get("layout", {}), []
    base = _size(layout.get("font")) or STREAMLIT_THEME_TICK_PX

    def add(where, font, fallback):
        found.append((where, _size(font) or fallback))

    for name, axis in layout.items():
        if name.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            if axis.get("visible", True) and axis.get("showticklabels", True):
                add(f"{name} ticks", axis.get("tickfont"), STREAMLIT_THEME_TICK_PX)
            title = axis.get("title")
            if isinstance(title, dict) and title.get("text"):
                add(f"{name} title", title.get("font"), base)
    for i, note in enumerate(layout.get("annotations", [])):
        if note.get("text"):
            add(f"annotation {i} {note['text'][:30]!r}", note.get("font"), base)
    title = layout.get("title")
    if isinstance(title, dict) and title.get("text"):
        add("title", title.get("font"), base)
    if layout.get("showlegend", True) and any(t.get("showlegend", True) and t.get("name") for t in spec["data"]):
        add("legend", (layout.get("legend") or {}).get("font"), base)
    for name, scale in layout.items():  # shared colour scales, each with its bar
        if name.startswith("coloraxis") and isinstance(scale, dict) and scale.get("showscale", True):
            add(f"{name} colour-bar ticks", (scale.get("colorbar") or {}).get("tickfont"), STREAMLIT_THEME_TICK_PX)
    for i, trace in enumerate(spec.get("data", [])):
        kind = trace.get("type")
        if kind == "heatmap" and trace.get("showscale", True) and "coloraxis" not in trace:
            add(f"trace {i} colour-bar ticks", (trace.get("colorbar") or {}).get("tickfont"), STREAMLIT_THEME_TICK_PX)
        written = trace.get("text") is not None or trace.get("texttemplate")
        if written and (kind in ("bar", "heatmap") or "text" in str(trace.get("mode", ""))):
            add(f"trace {i} text", trace.get("textfont"), base)
    return found


def vega_font_sizes(spec: dict) -> list[tuple[str, float]]:
    """(where, px) for a Vega-Lite spec's axis labels and titles, legend and title (Vega's defaults: 10-13 px)."""
    config = spec.get("config", {})
    axis, legend, title = config.get("axis", {}), config.get("legend", {}), config.get("title", {})
    return [("axis labels", axis.get("labelFontSize", 10)), ("axis titles", axis.get("titleFontSize", 11)),
            ("legend labels", legend.get("labelFontSize", 10)), ("legend title", legend.get("titleFontSize", 11)),
            ("title", title.get("fontSize", 13))]
