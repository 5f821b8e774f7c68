"""Vega-Lite specs of the report's charts, rendered to inline SVG offline by vl-convert (no browser, no network)."""

from __future__ import annotations

import calendar as dates
import json
import re
from typing import Any

import vl_convert

Spec = dict[str, Any]
STATUS_COLOURS = {
    "archived": "#2e7d32",
    "not_found": "#9e9e9e",
    "quarantined": "#ef6c00",
    "pending": "#1e88e5",
    "deferred": "#90caf9",
    "failed": "#c62828",
    "unsupported": "#8e24aa",
}
WIDTH = 720
CONFIG = {"font": "sans-serif", "title": {"anchor": "start", "fontSize": 14}, "axis": {"labelFontSize": 11, "titleFontSize": 12}}
NAMESPACES = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')  # HTML needs none for inline SVG; the file holds no URL at all


def svg(spec: Spec) -> str:
    """The chart as an SVG element for inlining in HTML."""
    full = {"width": WIDTH, "config": CONFIG, **spec}
    return NAMESPACES.sub("", vl_convert.vegalite_to_svg(json.dumps(full)))


def month_days(month: str) -> int:
    """How many days a month (YYYY-MM) has."""
    return dates.monthrange(int(month[:4]), int(month[5:]))[1]


def month_axis(count: int) -> dict[str, Any]:
    """An x axis of months whose labels never crowd: every month, every quarter, or every year."""
    if count <= 18:
        ticks, label = {"interval": "month", "step": 1}, "%b %Y"
    elif count <= 48:
        ticks, label = {"interval": "month", "step": 3}, "%b %Y"
    else:
        ticks, label = {"interval": "year", "step": 1}, "%Y"
    return {"title": "Month", "format": label, "tickCount": ticks, "labelOverlap": "greedy", "labelAngle": -40 if count > 1 else 0}


def month_x(months: list[str]) -> dict[str, Any]:
    """The x encoding of a monthly chart: calendar months (UTC) from the first to the last asked, empty months shown."""
    domain = [f"{months[0]}-01T00:00:00Z", f"{months[-1]}-{month_days(months[-1]):02d}T23:59:59Z"]  # the last month's bar inside
    return {
        "field": "date",
        "type": "temporal",
        "timeUnit": "utcyearmonth",
        "scale": {"domain": domain},
        "axis": month_axis(len(months)),
    }


def stacked_months(title: str, values: list[dict[str, Any]], months: list[str], y_title: str, legend: str) -> Spec:
    """Bars per month stacked by `series` (an app), y the `value` field."""
    return {
        "title": title,
        "height": 260,
        "data": {"values": values},
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "x": month_x(months),
            "y": {"field": "value", "type": "quantitative", "title": y_title, "stack": "zero"},
            "color": {"field": "series", "type": "nominal", "title": legend, "scale": {"scheme": "tableau10"}},
        },
    }


def lines_by_month(title: str, values: list[dict[str, Any]], months: list[str], y_title: str, legend: str) -> Spec:
    """One line with points per `series` over the months (a gap where a series has no value)."""
    return {
        "title": title,
        "height": 240,
        "data": {"values": values},
        "mark": {"type": "line", "point": True, "tooltip": True},
        "encoding": {
            "x": month_x(months),
            "y": {"field": "value", "type": "quantitative", "title": y_title},
            "color": {"field": "series", "type": "nominal", "title": legend, "scale": {"range": ["#4e79a7", "#e15759"]}},
        },
    }


def top_bars(title: str, values: list[dict[str, Any]], x_title: str) -> Spec:
    """Horizontal bars of `value` per `name`, largest first."""
    return {
        "title": title,
        "height": {"step": 22},
        "data": {"values": values},
        "mark": {"type": "bar", "color": "#4e79a7", "tooltip": True},
        "encoding": {
            "y": {"field": "name", "type": "nominal", "sort": "-x", "title": None, "axis": {"labelLimit": 260}},
            "x": {"field": "value", "type": "quantitative", "title": x_title},
        },
    }


def fetch_lines(title: str, values: list[dict[str, Any]], y_title: str) -> Spec:
    """A month's total per fetch (1 = the first version archived), one line per month."""
    return {
        "title": title,
        "height": 220,
        "data": {"values": values},
        "mark": {"type": "line", "point": True, "tooltip": True},
        "encoding": {
            "x": {"field": "fetch", "type": "ordinal", "title": "Fetch (1 = first version archived)", "axis": {"labelAngle": 0}},
            "y": {"field": "value", "type": "quantitative", "title": y_title, "scale": {"zero": False}},
            "color": {"field": "series", "type": "nominal", "title": "Month", "scale": {"scheme": "tableau10"}},
        },
    }


def calendar(title: str, values: list[dict[str, Any]], yearly: bool) -> Spec:
    """A cell per period coloured by status: months across, years down (a yearly type: one row of years)."""
    domain = list(STATUS_COLOURS)
    x = {"field": "column", "type": "ordinal", "title": "Year" if yearly else "Month", "sort": None, "axis": {"labelAngle": 0}}
    return {
        "title": title,
        "width": {"step": 40} if yearly else WIDTH,
        "height": {"step": 18},
        "data": {"values": values},
        "mark": {"type": "rect", "stroke": "white", "strokeWidth": 1, "tooltip": True},
        "encoding": {
            "x": x,
            "y": {"field": "row", "type": "ordinal", "title": None if yearly else "Year"},
            "color": {
                "field": "status",
                "type": "nominal",
                "title": "Status",
                "scale": {"domain": domain, "range": list(STATUS_COLOURS.values())},
            },
        },
    }
