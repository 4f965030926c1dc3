"""Server-rendered SVG bar charts: the geometry of a :class:`~regie.sector.figures.Chart`, which
``sector/_chart.html`` draws with presentation attributes and classes of ``sector/sector.css``
(no inline style, no script). The table beside it shows the same rows and numbers."""

from __future__ import annotations

from dataclasses import dataclass

from .figures import Chart

WIDTH = 640
LABEL_HEIGHT = 18
BAR_HEIGHT = 16
GAP = 10
BAR_SPACE = 520  # the longest bar; the rest of the width holds its number


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    series: int  # which series: the colour class sector-bar-<n>
    text: str
    text_x: int
    text_y: int


@dataclass(frozen=True)
class Label:
    text: str
    y: int


@dataclass(frozen=True)
class Drawing:
    width: int
    height: int
    labels: list[Label]
    bars: list[Bar]


def draw(chart: Chart) -> Drawing:
    maximum = chart.maximum or 1
    labels: list[Label] = []
    bars: list[Bar] = []
    y = 0
    for row in chart.rows:
        y += LABEL_HEIGHT
        labels.append(Label(row.label, y - 4))
        for index, value in enumerate(row.values):
            width = 0 if value.hidden else round(BAR_SPACE * value.value / maximum)
            bars.append(
                Bar(
                    x=0,
                    y=y,
                    width=width,
                    height=BAR_HEIGHT - 2,
                    series=index,
                    text=str(value),
                    text_x=width + 6,
                    text_y=y + BAR_HEIGHT - 4,
                )
            )
            y += BAR_HEIGHT
        y += GAP
    return Drawing(WIDTH, max(y, LABEL_HEIGHT), labels, bars)
