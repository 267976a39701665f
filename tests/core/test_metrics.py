"""/metrics (core.metrics): the exposition parsed as Prometheus parses it, counters that move
with the requests made here, the pool and fiscal gauges, where it is served and to whom, and
under gunicorn with two workers, one scrape that adds up both (deploy/gunicorn.conf.py)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from core import create_app
from core.testing.app import (
    PLATFORM_HOST,
    ROOT_DOMAIN,
    HostClient,
    app_config,
)
from tests.core.gunicorn_server import (
    gunicorn,
    held_request,
    http,
    release,
    worker_pids,
)
from tests.fixtures.apikeys import CLINIC_FREE_TIER_LIMIT, bootstrap_over_http
from tests.fixtures.commerce import sell

METRICS_TOKEN = "metrics-token-" + "m" * 30
POD_IP_HOST = "10.1.2.3:8000"  # how Prometheus reaches a pod: no tenant, no platform name


def scrape(client, host: str = PLATFORM_HOST, headers: dict | None = None) -> dict:
    """Name -> family, parsed by prometheus-client's own parser of the text format."""
    response = HostClient(client, host).get("/metrics", headers=headers)
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "text/plain"
    return {family.name: family
            for family in text_string_to_metric_families(response.get_data(as_text=True))}


def value(families: dict, family: str, sample: str | None = None, **labels) -> float:
    """Sum of the samples named ``sample`` (default: the family's own) whose labels include
    ``labels``; 0 when there are none yet."""
    name = sample or family
    found = families.get(family)
    return sum(s.value for s in (found.samples if found else ())
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def requests_total(families, **labels) -> float:
    return value(families, "tenantry_http_requests", "tenantry_http_requests_total", **labels)


# --------------------------------------------------------------------------- what is counted


def test_requests_are_counted_by_module_endpoint_method_and_status_class(client, make_tenant):
    shop = make_tenant(modules=["catalog"])
    owner = shop.as_role("owner")
    labels = {"module": "catalog", "endpoint": "catalog.Products", "method": "GET"}
    before = scrape(client)
    for _ in range(3):
        assert owner.get("/api/v1/catalog/products").status_code == 200
    assert owner.post("/api/v1/catalog/products", json={}).status_code == 422
    assert owner.get("/api/v1/no-such-route").status_code == 404
    assert shop.anonymous().open("BREW", "/api/v1/catalog/products").status_code == 405
    after = scrape(client)

    def moved(**wanted):
        return requests_total(after, **wanted) - requests_total(before, **wanted)

    assert moved(**labels, status_class="2xx") == 3
    assert moved(module="catalog", endpoint="catalog.Products", method="POST",
                 status_class="4xx") == 1
    # No route matched: no endpoint to name, and never the raw path or method as a label.
    assert moved(module="none", endpoint="none", method="GET", status_class="4xx") == 1
    assert moved(module="none", endpoint="none", method="other", status_class="4xx") == 1
    label_values = {v for f in after.values() for s in f.samples for v in s.labels.values()}
    assert not {"/api/v1/no-such-route", "BREW", shop.slug, str(shop.id)} & label_values


@pytest.mark.parametrize("propagate", [False, True])
def test_an_exception_in_a_view_counts_as_5xx(app, database, propagate):
    """The server's 500 (or, in tests, the exception reaching the client) is counted once."""
    from core.blueprint import hostless

    crashing = create_app(app_config(database, PROPAGATE_EXCEPTIONS=propagate))

    def boom():
        raise RuntimeError("unexpected")

    crashing.add_url_rule("/boom", endpoint="boom", view_func=hostless(boom))
    client = crashing.test_client()
    labels = {"module": "core", "endpoint": "boom", "method": "GET"}
    before = scrape(client)
    if propagate:
        with pytest.raises(RuntimeError):
            HostClient(client, PLATFORM_HOST).get("/boom")
    else:
        assert HostClient(client, PLATFORM_HOST).get("/boom").status_code == 500
    after = scrape(client)
    assert requests_total(after, **labels, status_class="5xx") - requests_total(
        before, **labels, status_class="5xx") == 1
    assert requests_total(after, **labels) - requests_total(before, **labels) == 1


def test_latency_histograms_by_module_and_method(client, make_tenant):
    owner = make_tenant(modules=["catalog"]).as_role("owner")
    before = scrape(client)
    owner.get("/api/v1/catalog/products")
    after = scrape(client)
    histogram = after["tenantry_http_request_duration_seconds"]
    assert histogram.type == "histogram"
    name = "tenantry_http_request_duration_seconds_count"
    labels = {"module": "catalog", "method": "GET"}
    assert value(after, histogram.name, name, **labels) - value(
        before, histogram.name, name, **labels) == 1
    buckets = [s for s in histogram.samples if s.name.endswith("_bucket")
               and s.labels["module"] == "catalog" and s.labels["method"] == "GET"]
    assert {s.labels["le"] for s in buckets} >= {"0.005", "1.0", "30.0", "+Inf"}
    assert {frozenset(s.labels) - {"le"} for s in buckets} == {frozenset({"module", "method"})}


def test_pool_gauges_and_checkout_timings(client, app):
    assert HostClient(client, PLATFORM_HOST).get("/readyz").status_code == 200  # uses the pool
    families = scrape(client)
    assert value(families, "tenantry_db_pool_size") >= app.config["DB_POOL_SIZE"]
    assert value(families, "tenantry_db_pool_connections") >= 1
    for gauge in ("tenantry_db_pool_checked_out", "tenantry_db_pool_overflow"):
        assert families[gauge].type == "gauge"
        assert value(families, gauge) >= 0
    for counter in ("tenantry_db_pool_waits", "tenantry_db_pool_timeouts"):
        assert families[counter].type == "counter"
    assert value(families, "tenantry_db_pool_checkout_seconds",
                 "tenantry_db_pool_checkout_seconds_count") >= 1


def test_a_pool_wait_and_timeout_are_counted(app_context, app):
    """Take every connection of a one-connection pool, then ask for one more."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    from core import metrics

    engine = create_engine(app.config["DATABASE_URL"], pool_size=1, max_overflow=0,
                           pool_timeout=0.2)
    metrics._instrument_engine(engine, max_overflow=0)
    names = ("tenantry_db_pool_waits_total", "tenantry_db_pool_timeouts_total",
             "tenantry_db_pool_checked_out", "tenantry_db_pool_connections")

    def now():
        return [REGISTRY.get_sample_value(name) for name in names]

    waits, timeouts, checked_out, connections = now()
    try:
        with engine.connect():
            assert now() == [waits, timeouts, checked_out + 1, connections + 1]
            with pytest.raises(PoolTimeoutError):
                engine.connect()
        assert now() == [waits + 1, timeouts + 1, checked_out, connections + 1]  # kept open
        # After a dispose (a new pool behind the same engine), checkouts are still timed.
        engine.dispose()
        assert now()[3] == connections
        timed = REGISTRY.get_sample_value("tenantry_db_pool_checkout_seconds_count")
        with engine.connect():
            pass
        assert REGISTRY.get_sample_value("tenantry_db_pool_checkout_seconds_count") == timed + 1
    finally:
        engine.dispose()
        metrics.POOL_SIZE.dec(1)


def test_payment_required_and_idempotent_replays_are_counted(clinic_client):
    clinic = bootstrap_over_http(clinic_client)
    api = clinic.clincore()
    before = scrape(clinic_client)
    created = api.post("/cases", json={"title": "once"}, headers={"Idempotency-Key": "m-1"})
    assert created.status_code == 201
    replayed = api.post("/cases", json={"title": "once"}, headers={"Idempotency-Key": "m-1"})
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    for _ in range(CLINIC_FREE_TIER_LIMIT):
        api.get("/cases")
    assert api.post("/cases", json={"title": "over"}).status_code == 402
    after = scrape(clinic_client)

    def moved(family, sample, **labels):
        return value(after, family, sample, **labels) - value(before, family, sample, **labels)

    assert moved("tenantry_idempotent_replays", "tenantry_idempotent_replays_total",
                 module="cases") == 1
    assert moved("tenantry_http_refused", "tenantry_http_refused_total", module="cases",
                 status="402") == 1
    assert moved("tenantry_http_refused", "tenantry_http_refused_total",
                 status="429") == 0


def test_fiscal_backlog_is_read_across_tenants(client, pos_owner, pos_cashier, pos_register,
                                               pos_shift, pos_products, admin_connection):
    pos_owner.put("/api/v1/pos/settings", json={"cash_register_provider": "unavailable"})
    receipt = sell(pos_cashier, pos_register,
                   [{"product_id": pos_products[0]["id"], "quantity": "1"}],
                   [{"method": "cash", "amount": "5.00"}])
    assert receipt["fiscal"]["status"] == "pending"
    families = scrape(client)  # platform host, no tenant: RLS would show the app role nothing
    pending = admin_connection.execute(
        "SELECT count(*) FROM pos_fiscal_records WHERE status = 'pending'").fetchone()[0]
    assert pending >= 1
    assert value(families, "tenantry_pos_fiscal_pending") == pending
    assert value(families, "tenantry_pos_fiscal_oldest_pending_age_seconds") >= 0


def test_a_backlog_that_cannot_be_read_leaves_its_gauges_out_not_the_scrape(
        client, database, admin_connection):
    from sqlalchemy.engine import make_url

    app_role = make_url(database.app_url).username
    admin_connection.execute(
        f'REVOKE EXECUTE ON FUNCTION tenantry_pos_fiscal_backlog() FROM "{app_role}"')
    try:
        families = scrape(client)
    finally:
        admin_connection.execute(
            f'GRANT EXECUTE ON FUNCTION tenantry_pos_fiscal_backlog() TO "{app_role}"')
    assert "tenantry_pos_fiscal_pending" not in families
    assert "tenantry_http_requests" in families
    assert "tenantry_pos_fiscal_pending" in scrape(client)


# --------------------------------------------------------------------------- who may scrape


def test_never_on_a_tenant_host(client, tenant):
    for host in (tenant.host, f"www.{ROOT_DOMAIN}", f"no-such-shop.{ROOT_DOMAIN}", ROOT_DOMAIN):
        response = HostClient(client, host).get("/metrics")
        assert response.status_code == 404, host
        assert response.json["code"] == 404
        assert b"tenantry_http_requests" not in response.data


def test_served_on_platform_hosts_and_pod_addresses_without_a_token(client):
    for host in (PLATFORM_HOST, POD_IP_HOST, "localhost"):
        assert "tenantry_http_requests" in scrape(client, host)


@pytest.fixture(scope="module")
def token_client(app, database):
    """The session's (migrated) database, with METRICS_TOKEN set."""
    return create_app(app_config(database, METRICS_TOKEN=METRICS_TOKEN)).test_client()


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-" + "x" * 30,
                                           f"Basic {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN}x"])
def test_with_a_token_every_other_answer_is_401(token_client, authorization):
    for host in (PLATFORM_HOST, POD_IP_HOST):
        headers = {"Authorization": authorization} if authorization else {}
        response = HostClient(token_client, host).get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response.json["message"] == "send Authorization: Bearer <METRICS_TOKEN>"
        assert METRICS_TOKEN not in response.get_data(as_text=True)


def test_with_the_token_it_is_served_but_still_never_on_a_tenant_host(token_client, tenant):
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    assert "tenantry_http_requests" in scrape(token_client, POD_IP_HOST, headers)
    assert HostClient(token_client, tenant.host).get(
        "/metrics", headers=headers).status_code == 404


# --------------------------------------------------------------------------- under gunicorn


def _healthz_served_by_pid(folder: Path) -> dict[int, float]:
    """Requests to /healthz counted in each worker's own file (the multiprocess layout)."""
    served = {}
    for path in folder.glob("counter_*.db"):
        total = sum(v for key, v, *_ in MmapedDict.read_all_values_from_file(str(path))
                    if '"tenantry_http_requests_total"' in key and '"health.live_healthz"' in key)
        served[int(path.stem.split("_")[1])] = total
    return served


def _pool_size_of(folder: Path, pids: set[int]) -> float | None:
    """The pool size gauge a booted worker wrote (None before it has)."""
    for pid in pids:
        path = folder / f"gauge_livesum_{pid}.db"
        if path.exists():
            return sum(v for key, v, *_ in MmapedDict.read_all_values_from_file(str(path))
                       if '"tenantry_db_pool_size"' in key)
    return None


@pytest.fixture
def gunicorn_two_workers(app, database, tmp_path):
    """gunicorn with deploy/gunicorn.conf.py, 2 workers, on the session's migrated database."""
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    (multiproc / "counter_999999.db").write_bytes(b"stale")  # a previous run's: wiped at start
    with gunicorn(database, tmp_path, 2, PROMETHEUS_MULTIPROC_DIR=str(multiproc)) as (
            process, url):
        yield process, url, multiproc


def test_one_scrape_adds_up_every_gunicorn_worker(gunicorn_two_workers):
    process, url, multiproc = gunicorn_two_workers
    assert not (multiproc / "counter_999999.db").exists()
    workers = worker_pids(process.pid)
    # Each worker in turn is kept busy by a request whose headers are not finished, so the
    # other one serves the next 100 (sync workers accept only when idle).
    port = int(url.rsplit(":", 1)[1])
    statuses = []
    first = held_request(port)
    statuses += [http(url + "/healthz")[0] for _ in range(100)]
    second = held_request(port)  # accepted by the worker that served those
    statuses.append(release(first))
    statuses += [http(url + "/healthz")[0] for _ in range(100)]
    statuses.append(release(second))
    assert statuses == [200] * 202
    served = _healthz_served_by_pid(multiproc)
    assert {pid for pid, count in served.items() if count} == workers, served

    status, text = http(url + "/metrics", host="127.0.0.1")
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(text)}
    healthz = requests_total(families, endpoint="health.live_healthz", status_class="2xx")
    assert healthz == sum(served.values()) >= 202
    assert value(families, "tenantry_db_pool_size") == 2 * 3  # two live workers' pools

    # A worker killed: gunicorn starts another, child_exit drops the dead one's gauges, its
    # counts stay.
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while _pool_size_of(multiproc, worker_pids(process.pid) - workers) != 3:
        assert time.monotonic() < deadline, "gunicorn did not replace the worker"
        time.sleep(0.2)
    for _ in range(20):
        http(url + "/healthz")
    status, text = http(url + "/metrics", host="127.0.0.1")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert value(families, "tenantry_db_pool_size") == 2 * 3
    assert requests_total(families, endpoint="health.live_healthz") >= healthz + 20
