"""Tables of a benchmark run: one row per (scenario, server), then ratios and target checks.

A row summarises N repeated runs: median requests/s with the spread (min-max), median p50 and
p99, and the non-2xx and socket error counts summed over the runs.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

Echo = Callable[[str], None]


@dataclass
class Measurement:
    """N runs of one scenario on one server (or pgbench)."""

    scenario: str
    server: str
    runs: list[dict] = field(default_factory=list)  # rps, p50_ms, p99_ms, non2xx, socket_errors
    note: str = ""  # e.g. "not available: the pos module is not installed"

    @property
    def available(self) -> bool:
        return bool(self.runs)

    def median(self, key: str) -> float:
        return statistics.median(run[key] for run in self.runs) if self.runs else float("nan")

    def spread(self, key: str = "rps") -> tuple[float, float]:
        values = [run[key] for run in self.runs]
        return (min(values), max(values)) if values else (float("nan"), float("nan"))

    def total(self, key: str) -> int:
        return sum(int(run.get(key, 0)) for run in self.runs)

    def as_dict(self) -> dict:
        return asdict(self)


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:,.{digits}f}"  # NaN -> "-"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
            for r in rows]
    return [line, rule, *body]


def measurement_table(measurements: Iterable[Measurement], labels: dict[str, str]) -> list[str]:
    rows = []
    for m in measurements:
        label = labels.get(m.scenario, m.scenario)
        if not m.available:
            rows.append([label, m.server, m.note or "not available", "", "", "", "", ""])
            continue
        low, high = m.spread()
        rows.append([label, m.server, _fmt(m.median("rps")), f"{_fmt(low)}-{_fmt(high)}",
                     _fmt(m.median("p50_ms"), 2), _fmt(m.median("p99_ms"), 2),
                     str(m.total("non2xx")), str(m.total("socket_errors"))])
    return _table(["scenario", "server", "req/s (median)", "spread (min-max)", "p50 ms",
                   "p99 ms", "non-2xx", "socket errors"], rows)


@dataclass(frozen=True)
class Ratio:
    name: str
    value: float  # NaN when a side is missing
    target: str = ""  # e.g. ">= 0.80"
    met: bool | None = None
    detail: str = ""


def ratio_table(ratios: Iterable[Ratio]) -> list[str]:
    rows = []
    for r in ratios:
        verdict = "" if r.met is None else ("met" if r.met else "MISSED")
        rows.append([r.name, _fmt(r.value, 3), r.target, verdict, r.detail])
    return _table(["ratio", "value", "target", "", "detail"], rows)


def generic_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    return _table(headers, rows)
