"""The spec the responses keep (issue 18 item 6): schemathesis generates requests for every
operation of the OpenAPI document the app serves and checks each answer against it -- as a
tenant owner (JWT), with an admin API key, and as a platform admin.

Checks: all of schemathesis's (no server error, status codes the operation documents, content
types, response headers, response bodies against their schemas, auth that is not ignored ...)
except ``positive_data_acceptance``: some requests the schema allows are refused for reasons
a schema cannot say (a wrong current password, an id that does not exist, a module no plugin
provides); docs/security.md ("Contract tests") lists them. The 405-with-Allow rule has its own
test (tests/core/test_method_not_allowed.py). The budget is bounded and deterministic: a few
derandomized examples per operation, no example database.
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
NOT_CHECKED = {"positive_data_acceptance"}

load_all_checks()
EXCLUDED = [check for check in CHECKS.get_all() if check.__name__ in NOT_CHECKED]


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

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
              database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate])
    def run(case):
        try:
            case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)
        except BaseException as failure:  # a FailureGroup is a BaseExceptionGroup
            if isinstance(failure, KeyboardInterrupt):
                raise
            codes = sorted(set(re.findall(r"- (ST\d+ [^\n]*)", str(failure)))) or [
                f"{type(failure).__name__}: {str(failure)[:300]}"]
            found.extend(f"{operation.method.upper()} {operation.path}: {code}"
                         for code in codes)

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
