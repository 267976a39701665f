"""The measured part of a run: scenarios x servers (+ pgbench), repeated, then paced runs.

Repeats are interleaved (round 1 of every scenario on every server, then round 2, ...) so
that a burst of load from someone else on a shared machine lands on all sides of a ratio.
Ratios are computed per round and the median of the rounds is reported, with its range.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import pgbench, report
from bench.postgres import BenchDatabase
from bench.report import Measurement, Ratio
from bench.scenarios import SCENARIOS, Scenario
from bench.servers import Server
from bench.wrk import WRK_DIR, WrkResult, run_wrk

PACED_FRACTION = 0.7
P99_TARGET_MS = 50.0


@dataclass(frozen=True)
class SuiteOptions:
    duration: float
    warmup: float
    repeats: int
    connections: int
    threads: int
    workers: int
    products: int
    tenants: int
    paced: bool = True
    pgbench: bool = True


def _run_dict(result: WrkResult) -> dict:
    return {"rps": result.rps, "p50_ms": result.p50_ms, "p90_ms": result.p90_ms,
            "p99_ms": result.p99_ms, "max_ms": result.max_ms, "requests": result.requests,
            "non2xx": result.non2xx, "socket_errors": result.socket_errors,
            "statuses": result.statuses}


class Suite:
    def __init__(self, options: SuiteOptions, workdir: Path, servers: dict[str, Server],
                 modules: set[str], echo: Callable[[str], None],
                 norls_database: BenchDatabase | None = None) -> None:
        self.options, self.workdir, self.servers = options, workdir, servers
        self.modules, self.echo = modules, echo
        self.norls_database = norls_database

    # -- what runs where
    def unavailable(self, scenario: Scenario) -> str | None:
        missing = [m for m in scenario.module.split("+") if m not in self.modules]
        if missing:
            return f"not available: the {', '.join(missing)} module is not installed"
        if not (WRK_DIR / scenario.script).exists():
            return f"not available: no bench/wrk/{scenario.script}"
        return None

    def targets(self, scenario: Scenario) -> list[str]:
        names = ["tenantry"]
        if scenario.baseline and "baseline" in self.servers:
            names.append("baseline")
        if scenario.baseline and "tenantry-no-rls" in self.servers:
            names.append("tenantry-no-rls")  # RLS cost is measured where targets ask for it
        # Other commits (tenantry@REF) and other gunicorn set-ups (tenantry+gthreadN).
        names += [name for name in self.servers if name.startswith(("tenantry@", "tenantry+"))]
        return names

    # -- single runs
    def wrk(self, server: str, scenario: Scenario, seconds: float, *, connections: int | None
            = None, delay_ms: float = 0.0, seed: int = 1) -> WrkResult:
        return run_wrk(self.servers[server].url, scenario.script,
                       self.workdir / scenario.credentials, seconds=seconds,
                       connections=connections or self.options.connections,
                       threads=self.options.threads, products=self.options.products,
                       delay_ms=delay_ms, seed=seed,
                       extra_env=scenario.wrk_env() if scenario.wrk_env else None)

    def _pgbench(self, scenario: Scenario, database: BenchDatabase, seconds: float,
                 metering: bool, suffix: str = "") -> WrkResult:
        script = pgbench.effective_script(scenario.pgbench + suffix, self.workdir, metering)
        return pgbench.run_pgbench(database, script, seconds=seconds,
                                   clients=self.options.workers,
                                   variables={"tenants": self.options.tenants,
                                              "products": self.options.products})

    # -- the whole suite
    def run(self, scenario_keys: list[str], database: BenchDatabase) -> dict:
        options = self.options
        scenarios = [SCENARIOS[key] for key in scenario_keys]
        measurements: dict[tuple[str, str], Measurement] = {}
        runnable = []
        for scenario in scenarios:
            note = self.unavailable(scenario)
            if note:
                measurements[(scenario.key, "tenantry")] = Measurement(scenario.key, "tenantry",
                                                                       note=note)
                self.echo(f"{scenario.key}: {note}")
                continue
            runnable.append(scenario)
            for server in self.targets(scenario):
                measurements[(scenario.key, server)] = Measurement(scenario.key, server)
            if options.pgbench and scenario.pgbench and \
                    (pgbench.SCRIPT_DIR / f"{scenario.pgbench}.sql").exists():
                measurements[(scenario.key, "pgbench")] = Measurement(scenario.key, "pgbench")
                if self.norls_database is not None and \
                        (pgbench.SCRIPT_DIR / f"{scenario.pgbench}_norls.sql").exists():
                    measurements[(scenario.key, "pgbench-no-rls")] = Measurement(
                        scenario.key, "pgbench-no-rls")
        metering = pgbench.has_metering(database) if options.pgbench else False

        self.echo(f"warm-up: {options.warmup:.0f} s per scenario and server")
        for scenario in runnable:
            for server in self.targets(scenario):
                self.wrk(server, scenario, options.warmup, seed=99)
        for round_no in range(1, options.repeats + 1):
            for scenario in runnable:
                for server in self.targets(scenario):
                    result = self.wrk(server, scenario, options.duration, seed=round_no)
                    measurements[(scenario.key, server)].runs.append(_run_dict(result))
                    self.echo(f"round {round_no} {scenario.key:<13} {server:<16} "
                              f"{result.rps:8.1f} req/s  p50 {result.p50_ms:6.2f} ms  "
                              f"p99 {result.p99_ms:7.2f} ms  non-2xx {result.non2xx}  "
                              f"socket errors {result.socket_errors}")
                    if result.error_sample:
                        self.echo("  first errors: " + result.error_sample.strip()[:600])
                if (scenario.key, "pgbench") in measurements:
                    result = self._pgbench(scenario, database, options.duration, metering)
                    measurements[(scenario.key, "pgbench")].runs.append(_run_dict(result))
                    self.echo(f"round {round_no} {scenario.key:<13} {'pgbench':<16} "
                              f"{result.rps:8.1f} tx/s   p50 {result.p50_ms:6.2f} ms  "
                              f"p99 {result.p99_ms:7.2f} ms  failed {result.non2xx}")
                if (scenario.key, "pgbench-no-rls") in measurements:
                    result = self._pgbench(scenario, self.norls_database, options.duration,
                                           metering, suffix="_norls")
                    measurements[(scenario.key, "pgbench-no-rls")].runs.append(_run_dict(result))
                    self.echo(f"round {round_no} {scenario.key:<13} {'pgbench-no-rls':<16} "
                              f"{result.rps:8.1f} tx/s   p50 {result.p50_ms:6.2f} ms  "
                              f"p99 {result.p99_ms:7.2f} ms  failed {result.non2xx}")
        paced = self._paced(runnable, measurements) if options.paced else []
        ratios = self._ratios(measurements)
        self._print(scenarios, measurements, ratios, paced)
        return {"measurements": [m.as_dict() for m in measurements.values()],
                "ratios": [r.__dict__ for r in ratios], "paced": paced,
                "metering": metering}

    # -- p99 at 70 % of peak
    def _paced(self, scenarios: list[Scenario], measurements) -> list[dict]:
        """wrk 4 has no fixed rate: each connection pauses ``delay`` ms after a response.
        A short calibration run measures the time a request takes at that pace, and the
        delay is corrected so that connections x 1000 / (delay + request time) hits the rate.
        The peak is measured again right before (a shared machine's speed drifts between the
        rounds and this run), and p99 is also measured with one connection per worker: a
        closed loop without queueing in front of the workers.
        """
        rows = []
        connections = self.options.connections
        for scenario in scenarios:
            peak = self.wrk("tenantry", scenario, self.options.duration, seed=76).rps
            if peak <= 0:
                continue
            rate = PACED_FRACTION * peak
            delay = connections * 1000 / rate
            calibration = self.wrk("tenantry", scenario, 3, delay_ms=delay, seed=77)
            per_request_ms = max(0.0, connections * 1000 / max(calibration.rps, 1e-9) - delay)
            delay = max(0.0, connections * 1000 / rate - per_request_ms)
            result = self.wrk("tenantry", scenario, self.options.duration, delay_ms=delay,
                              seed=78)
            closed = self.wrk("tenantry", scenario, self.options.duration,
                              connections=self.options.workers, seed=79)
            rows.append({"scenario": scenario.key, "peak_rps": peak, "target_rps": rate,
                         "achieved_rps": result.rps, "fraction": result.rps / peak,
                         "p50_ms": result.p50_ms, "p99_ms": result.p99_ms,
                         "non2xx": result.non2xx + closed.non2xx,
                         "socket_errors": result.socket_errors + closed.socket_errors,
                         "closed_rps": closed.rps, "closed_p99_ms": closed.p99_ms})
            self.echo(f"paced {scenario.key:<13} peak {peak:7.1f}  paced {result.rps:7.1f} "
                      f"req/s ({result.rps / peak:.0%})  p50 {result.p50_ms:6.2f} ms  "
                      f"p99 {result.p99_ms:7.2f} ms;  {self.options.workers} connections: "
                      f"{closed.rps:7.1f} req/s ({closed.rps / peak:.0%}) "
                      f"p99 {closed.p99_ms:7.2f} ms")
        return rows

    # -- ratios and targets
    @staticmethod
    def _round_ratio(top: Measurement, bottom: Measurement) -> tuple[float, str]:
        pairs = [a["rps"] / b["rps"] for a, b in zip(top.runs, bottom.runs, strict=False)
                 if b["rps"]]
        if not pairs:
            return float("nan"), ""
        return statistics.median(pairs), f"rounds {min(pairs):.3f}-{max(pairs):.3f}"

    def _ratios(self, measurements) -> list[Ratio]:
        ratios = []
        targets = {"list_products": 0.8, "pos_receipt": 0.6}
        for key, target in targets.items():
            tenantry = measurements.get((key, "tenantry"))
            if tenantry is None or not tenantry.available:
                ratios.append(Ratio(f"{key}: tenantry / bare Flask", float("nan"),
                                    f">= {target:.2f}", None, "not measured"))
                continue
            for other, label, check in (
                    ("baseline", "tenantry / bare Flask", lambda v, t=target: v >= t),
                    ("tenantry-no-rls", "tenantry / tenantry without RLS",
                     lambda v: v >= 0.95),
                    ("pgbench", "tenantry req/s / pgbench tx/s", None)):
                base = measurements.get((key, other))
                if base is None or not base.available:
                    continue
                value, detail = self._round_ratio(tenantry, base)
                wanted = {"baseline": f">= {target:.2f}", "tenantry-no-rls": ">= 0.95 "
                          "(RLS <= 5 %)"}.get(other, "")
                ratios.append(Ratio(f"{key}: {label}", value, wanted,
                                    check(value) if check else None, detail))
            with_rls, without = (measurements.get((key, "pgbench")),
                                 measurements.get((key, "pgbench-no-rls")))
            if with_rls is not None and without is not None and with_rls.available:
                value, detail = self._round_ratio(with_rls, without)
                ratios.append(Ratio(f"{key}: pgbench with RLS / without (database only)", value,
                                    ">= 0.95", value >= 0.95, detail))
            baseline = measurements.get((key, "baseline"))
            if baseline is not None and baseline.available and (key, "pgbench") in measurements:
                value, detail = self._round_ratio(baseline, measurements[(key, "pgbench")])
                ratios.append(Ratio(f"{key}: bare Flask req/s / pgbench tx/s", value, "", None,
                                    detail))
        for (key, server), before in measurements.items():
            after = measurements.get((key, "tenantry"))
            if server.startswith("tenantry@") and before.available and after is not None:
                value, detail = self._round_ratio(after, before)
                ratios.append(Ratio(f"{key}: tenantry / {server} (after / before)", value, "",
                                    None, detail))
            if server.startswith("tenantry+") and before.available and after is not None:
                value, detail = self._round_ratio(before, after)
                ratios.append(Ratio(f"{key}: {server} / tenantry (the deploy config)", value,
                                    "", None, detail))
        return ratios

    def _print(self, scenarios, measurements, ratios, paced) -> None:
        labels = {s.key: s.label for s in scenarios}
        self.echo("")
        self.echo(f"## Results ({self.options.repeats} runs of {self.options.duration:.0f} s, "
                  f"{self.options.connections} connections, {self.options.workers} workers)")
        for line in report.measurement_table(measurements.values(), labels):
            self.echo(line)
        self.echo("")
        self.echo("## Ratios (median of per-round ratios)")
        for line in report.ratio_table(ratios):
            self.echo(line)
        if paced:
            self.echo("")
            self.echo(f"## p99 at {PACED_FRACTION:.0%} of peak (target < {P99_TARGET_MS:.0f} ms)")
            workers = self.options.workers
            rows = [[labels.get(p["scenario"], p["scenario"]), f"{p['peak_rps']:.1f}",
                     f"{p['achieved_rps']:.1f} ({p['fraction']:.0%})", f"{p['p50_ms']:.2f}",
                     f"{p['p99_ms']:.2f}",
                     "met" if p["p99_ms"] < P99_TARGET_MS else "MISSED",
                     f"{p['closed_rps']:.1f} ({p['closed_rps'] / p['peak_rps']:.0%})",
                     f"{p['closed_p99_ms']:.2f}",
                     str(p["non2xx"] + p["socket_errors"])] for p in paced]
            for line in report.generic_table(
                    ["scenario", "peak req/s (now)", "paced req/s", "p50 ms", "p99 ms",
                     "< 50 ms", f"{workers} conns req/s", f"{workers} conns p99 ms", "errors"],
                    rows):
                self.echo(line)
