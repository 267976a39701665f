"""The tenant owner sets up a webhook in a real browser: adds an endpoint from Settings →
Webhooks (the secret is shown once with a copy button), pings it, and after the worker's pass
the page shows the delivery as delivered — and the receiver verifies the message with the
secret the browser showed, using the Standard Webhooks reference library."""

from __future__ import annotations

import ipaddress

import pytest
from playwright.sync_api import expect
from standardwebhooks import Webhook

from core.testing.browser import screenshot, sign_in
from tests.core.webhook_receiver import start_receiver

pytestmark = pytest.mark.browser


def test_owner_adds_an_endpoint_pings_it_and_sees_it_delivered(app, make_tenant, serve,
                                                                open_page, monkeypatch):
    from core.webhooks.delivery import deliver

    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_NETWORKS",
                        (ipaddress.ip_network("127.0.0.1/32"),))
    clinic = make_tenant(modules=["cases"])
    receiver = start_receiver()
    try:
        page = open_page(serve(app), clinic.host)
        sign_in(page, clinic.users["owner"])
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
        page.get_by_role("link", name="Webhooks").click()
        page.wait_for_url("**/settings/webhooks")
        page.get_by_label("URL (https://…)").fill(receiver.url)
        page.get_by_label("Description").fill("Practice system")
        page.get_by_role("button", name="Add endpoint").click()
        expect(page.get_by_role("heading", name="Webhook endpoint added")).to_be_visible()
        secret = page.locator("#webhook-secret").inner_text().strip()
        assert secret.startswith("whsec_")
        expect(page.get_by_role("button", name="Copy")).to_be_visible()
        screenshot(page, "tenant-webhook-added")

        page.get_by_role("link", name="Back to the webhooks").click()
        assert secret not in page.content()
        page.get_by_role("button", name=f"Send a test message to {receiver.url}").click()
        expect(page.get_by_text("A test message is on its way")).to_be_visible()
        with app.app_context():
            assert deliver(clinic.id) == (1, 0, 0)
        page.reload()
        row = page.locator("tr", has=page.get_by_role("rowheader", name="webhook.ping"))
        expect(row.get_by_text("delivered")).to_be_visible()
        screenshot(page, "tenant-webhooks")
        message = receiver.accepted[0]
        assert Webhook(secret).verify(message.body, message.headers)["type"] == "webhook.ping"
    finally:
        receiver.stop()
