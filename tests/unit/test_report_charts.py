"""The report's charts: the last month's bar stays inside the plot, and the month axis thins its labels as months grow."""

from __future__ import annotations

import re

import pytest

from cli.report import charts


def bars(svg: str) -> list[tuple[float, float]]:
    """(x, width) of each bar of a mark-rect group (Vega draws a bar as the path M x,y h width v height h -width Z)."""
    group = svg.split('class="mark-rect')[1].split("</g>")[0]
    return [(float(x), float(w)) for x, w in re.findall(r'd="M(-?[\d.]+),-?[\d.]+h([\d.]+)v', group)]


@pytest.mark.parametrize(
    "months", [["2024-05"], ["2024-01", "2024-02", "2024-03"], [f"{2017 + i // 12}-{i % 12 + 1:02d}" for i in range(108)]]
)
def test_every_months_bar_lies_inside_the_plot(months: list[str]) -> None:
    values = [{"date": f"{m}-01", "series": "App", "value": 3} for m in months]
    drawn = bars(charts.svg(charts.stacked_months("Units", values, months, "Units", "App")))
    assert len(drawn) == len(months)
    assert all(x >= 0 and x + w <= charts.WIDTH + 0.5 for x, w in drawn), drawn[-1]


@pytest.mark.parametrize(
    ("count", "step", "label"), [(1, 1, "%b %Y"), (18, 1, "%b %Y"), (19, 3, "%b %Y"), (48, 3, "%b %Y"), (108, 1, "%Y")]
)
def test_month_labels_are_every_month_then_quarter_then_year(count: int, step: int, label: str) -> None:
    axis = charts.month_axis(count)
    assert (axis["tickCount"]["step"], axis["format"]) == (step, label)
    assert axis["tickCount"]["interval"] == ("year" if count > 48 else "month")
