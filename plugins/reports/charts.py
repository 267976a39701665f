"""A bar chart of a report's rows, when one says more than the table: the geometry of a
server-side SVG (drawn by templates/reports/chart.html; no JavaScript, no inline style).

A report gets a chart when it has a label column (a date column such as ``day``, else a name
such as ``sku``) and a measure: one of the usual totals (``net_total``, ``value``...) or, for
a report by date, its last numeric column. Sales by day and stock valuation qualify; a shift's
X/Z report does not. Bars are horizontal, one per row, so long labels and many days stay
readable at 1024x768; negative values grow left of the zero line.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from typing import Any

# Measures worth drawing, best first.
MEASURES = ("net_total", "value", "net_revenue", "total", "revenue")
# Label columns when there is no date column.
LABELS = ("sku", "name", "product_name", "supplier_name", "location_code")
MAX_BARS = 60

WIDTH, LABEL_WIDTH, VALUE_WIDTH, BAR_HEIGHT, GAP, TOP = 720, 170, 90, 18, 6, 8


@dataclass(frozen=True)
class Bar:
    label: str
    value: str  # as shown (the report's own text: decimals unrounded)
    x: float
    y: float
    width: float
    text_y: float


@dataclass(frozen=True)
class Chart:
    title: str  # "net_total by day"
    bars: tuple[Bar, ...]
    width: int
    height: int
    zero_x: float
    label_x: int
    value_x: int
    shown: int
    total: int  # rows in the report (only the first MAX_BARS are drawn)


def _number(value: Any) -> decimal.Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | decimal.Decimal):
        return decimal.Decimal(value)
    if isinstance(value, float):
        return decimal.Decimal(str(value))
    return None


def _is_numeric(rows: list[dict[str, Any]], column: str) -> bool:
    values = [row[column] for row in rows if row[column] is not None]
    return bool(values) and all(_number(v) is not None for v in values)


def _is_date(rows: list[dict[str, Any]], column: str) -> bool:
    values = [row[column] for row in rows if row[column] is not None]
    return bool(values) and all(isinstance(v, dt.date) for v in values)


def _columns(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> tuple[str, str] | None:
    date_column = next((c for c in columns if _is_date(rows, c)), None)
    label = date_column or next((c for c in LABELS if c in columns), None)
    if label is None:
        return None
    measure = next((c for c in MEASURES if c in columns and _is_numeric(rows, c)), None)
    if measure is None and date_column:
        measure = next((c for c in reversed(columns) if _is_numeric(rows, c)), None)
    return (label, measure) if measure else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return format(value, "f") if isinstance(value, decimal.Decimal) else str(value)


def _every_day(rows: list[dict[str, Any]], label: str, measure: str,
               days: tuple[dt.date, dt.date] | None) -> list[dict[str, Any]]:
    """A report by day lists only days with data; the chart shows every day of the range
    (a missing day is a zero bar, not a gap the reader cannot see), when it fits."""
    if days is None or (days[1] - days[0]).days + 1 > MAX_BARS:
        return rows
    by_day = {row[label]: row for row in rows}
    if len(by_day) != len(rows) or not all(isinstance(day, dt.date) for day in by_day):
        return rows
    count = (days[1] - days[0]).days + 1
    every = [days[0] + dt.timedelta(days=n) for n in range(count)]
    return [by_day.get(day, {label: day, measure: decimal.Decimal(0)}) for day in every]


def bar_chart(columns: tuple[str, ...], rows: list[dict[str, Any]],
              days: tuple[dt.date, dt.date] | None = None) -> Chart | None:
    """The chart of these rows, or None when the report has nothing to draw. ``days``: the
    report's inclusive date range, if it has one."""
    if not rows:
        return None
    chosen = _columns(columns, rows)
    if chosen is None:
        return None
    label, measure = chosen
    if _is_date(rows, label):
        rows = _every_day(rows, label, measure, days)
    drawn = rows[:MAX_BARS]
    numbers = [_number(row[measure]) or decimal.Decimal(0) for row in drawn]
    low, high = min(min(numbers), 0), max(max(numbers), 0)
    span = (high - low) or decimal.Decimal(1)
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    zero_x = LABEL_WIDTH + float((0 - low) / span) * plot
    bars = []
    for index, (row, number) in enumerate(zip(drawn, numbers, strict=True)):
        length = float(abs(number) / span) * plot
        x = zero_x if number >= 0 else zero_x - length
        y = TOP + index * (BAR_HEIGHT + GAP)
        name = _text(row[label])
        if label == "sku" and "location_code" in columns and row.get("location_code"):
            name = f"{name} @ {row['location_code']}"
        bars.append(Bar(name[:28], _text(row[measure]), round(x, 1), y,
                        round(length if number == 0 else max(length, 1), 1),
                        y + BAR_HEIGHT - 5))
    height = TOP * 2 + len(bars) * (BAR_HEIGHT + GAP)
    title = f"{measure} by {label}"
    return Chart(title, tuple(bars), WIDTH, height, round(zero_x, 1), LABEL_WIDTH - 6,
                 WIDTH - VALUE_WIDTH + 6, len(bars), len(rows))
