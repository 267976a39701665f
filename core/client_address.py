"""The client's address, as the login limits (core/auth/throttle.py) and the rate limits
(core/rate_limits.py) count it: the TCP peer, or the trusted proxies' ``X-Forwarded-For`` when
TRUSTED_PROXY_COUNT says how many proxies to trust (werkzeug's ProxyFix, core/__init__.py)."""

from __future__ import annotations

from flask import has_request_context, request


def client_address() -> str:
    return (request.remote_addr if has_request_context() else None) or "unknown"
