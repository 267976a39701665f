"""The reports' bar chart (plugins/reports/charts.py): which reports get one, the bars'
geometry, every day of a date range drawn, negatives left of the zero line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from plugins.reports.charts import MAX_BARS, WIDTH, bar_chart


def test_a_report_by_day_draws_every_day_of_the_range():
    rows = [{"day": date(2026, 3, 2), "orders": 1, "net_total": D("10.00")},
            {"day": date(2026, 3, 4), "orders": 2, "net_total": D("30.00")}]
    chart = bar_chart(("day", "orders", "net_total"), rows, (date(2026, 3, 1), date(2026, 3, 5)))
    assert chart.title == "net_total by day"
    assert [bar.label for bar in chart.bars] == [f"2026-03-0{n}" for n in range(1, 6)]
    assert [bar.value for bar in chart.bars] == ["0", "10.00", "0", "30.00", "0"]
    widths = [bar.width for bar in chart.bars]
    assert widths[0] == 0 and abs(widths[3] - 3 * widths[1]) < 0.5
    assert all(bar.x == chart.zero_x for bar in chart.bars)
    assert max(bar.x + bar.width for bar in chart.bars) <= WIDTH


def test_a_report_by_name_uses_its_measure_and_negatives_grow_left():
    columns = ("product_id", "sku", "location_code", "quantity", "value")
    rows = [{"product_id": 1, "sku": "A", "location_code": "MAIN", "quantity": 1,
             "value": D("5")},
            {"product_id": 2, "sku": "B", "location_code": "MAIN", "quantity": -1,
             "value": D("-5")}]
    chart = bar_chart(columns, rows)
    assert chart.title == "value by sku"
    assert chart.bars[0].label == "A @ MAIN"
    positive, negative = chart.bars
    assert positive.x == chart.zero_x and negative.x + negative.width == chart.zero_x


def test_no_chart_without_rows_a_label_or_a_measure():
    assert bar_chart(("day", "total"), []) is None
    assert bar_chart(("sku", "quantity", "threshold"),
                     [{"sku": "A", "quantity": D(1), "threshold": D(3)}]) is None
    assert bar_chart(("shift_id", "total"), [{"shift_id": "x", "total": D(1)}]) is None


def test_many_rows_draw_the_first_bars_only():
    rows = [{"sku": f"S{n}", "value": D(n)} for n in range(MAX_BARS + 5)]
    chart = bar_chart(("sku", "value"), rows)
    assert chart.shown == MAX_BARS and chart.total == MAX_BARS + 5
