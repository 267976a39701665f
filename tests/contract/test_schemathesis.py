"""The spec the responses keep (issue 18 item 6): schemathesis generates requests for every
operation of the OpenAPI document the app serves and checks each answer against it -- as a
tenant owner (JWT), with an admin API key, and as a platform admin.

Checks: all of schemathesis's (no server error, status codes the operation documents, content
types, response headers, response bodies against their schemas, auth that is not ignored,
requests the schema allows being accepted ...). ``positive_data_acceptance`` is left out only on
the operations of ``STATEFUL``, which refuse schema-valid requests for reasons a schema cannot
say (a wrong current password, an id that does not exist, a module no plugin provides, a rule
across two fields); docs/security.md ("Contract tests") lists them with their reasons. The
405-with-Allow rule has its own test (tests/core/test_method_not_allowed.py). The budget is
bounded and deterministic: a few derandomized examples per operation, no example database.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import CHECKS, load_all_checks

from core.testing.app import PLATFORM_HOST

EXAMPLES_PER_OPERATION = 4
EVERY_MODULE = ["catalog", "stock", "sales", "pos", "purchasing", "users", "reports", "billing",
                "cases"]
_PASSWORD = "the current password must be the right one"
_IDS = "ids in the body must name rows of the tenant"
_MODULES = "module keys must name installed plugins"
_WEBHOOK = ("a URL's host must resolve to public addresses (the SSRF guard); event types must "
            "be declared ones")
STATEFUL = {
    "POST /api/v1/platform/auth/password": _PASSWORD,
    "POST /api/v1/users/me/password": _PASSWORD,
    "POST /api/v1/stock/moves": _IDS, "POST /api/v1/stock/adjustments": _IDS,
    "POST /api/v1/stock/transfers": _IDS, "POST /api/v1/purchasing/orders": _IDS,
    "POST /api/v1/catalog/categories": _IDS,
    "POST /api/v1/sales/orders": _IDS, "PATCH /api/v1/sales/orders/{order_id}": _IDS,
    "POST /api/v1/pos/registers/{register_id}/receipts": _IDS,
    "POST /api/v1/platform/tenants": f"{_MODULES}; a template must exist; a slug not reserved",
    "PATCH /api/v1/tenant/settings": _MODULES, "POST /api/v1/platform/modules": _MODULES,
    "PATCH /api/v1/platform/modules/{key}": _MODULES,
    "POST /api/v1/platform/templates": _MODULES,
    "PATCH /api/v1/platform/templates/{key}": _MODULES,
    "PUT /api/v1/pos/settings": "the provider must be an installed cash-register provider",
    "GET /api/v1/tenant/export": _MODULES,
    "POST /api/v1/tenant/webhooks/endpoints": _WEBHOOK,
    "PATCH /api/v1/tenant/webhooks/endpoints/{endpoint_id}": _WEBHOOK,
}

load_all_checks()
EVERY_CHECK = {check.__name__: check for check in CHECKS.get_all()}
EXCLUDED_ON_STATEFUL = [EVERY_CHECK["positive_data_acceptance"]]


@pytest.fixture
def credentials(make_tenant, platform_admin):
    tenant = make_tenant(modules=EVERY_MODULE)
    return {
        "tenant owner": {"Host": tenant.host,
                         "Authorization": f"Bearer {tenant.token('owner')}"},
        "API key": {"Host": tenant.host, "X-API-Key": tenant.api_key("admin")},
        "platform admin": {"Host": PLATFORM_HOST,
                           "Authorization": f"Bearer {platform_admin.token}"},
    }


def _operations(app, kind):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    for result in schema.get_all_operations():
        operation = result.ok()
        on_platform = operation.path.startswith("/api/v1/platform")
        if on_platform == (kind == "platform admin"):
            yield operation


def _failures_of(operation, headers) -> list[str]:
    found: list[str] = []
    label = f"{operation.method.upper()} {operation.path}"
    excluded = EXCLUDED_ON_STATEFUL if label in STATEFUL else []

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
              database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate])
    def run(case):
        try:
            case.call_and_validate(headers=headers, excluded_checks=excluded)
        except BaseException as failure:  # a FailureGroup is a BaseExceptionGroup
            if isinstance(failure, KeyboardInterrupt):
                raise
            codes = sorted(set(re.findall(r"- (ST\d+ [^\n]*)", str(failure)))) or [
                f"{type(failure).__name__}: {str(failure)[:300]}"]
            found.extend(f"{label}: {code}" for code in codes)

    run()
    return sorted(set(found))


@pytest.mark.parametrize("kind", ["tenant owner", "API key", "platform admin"])
def test_every_answer_keeps_the_document(app, credentials, kind):
    failures, operations = [], 0
    for operation in _operations(app, kind):
        operations += 1
        failures += _failures_of(operation, credentials[kind])
    assert operations > 10
    assert failures == [], "\n".join(failures)
