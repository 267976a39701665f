"""Where webhooks may go: URL rules at registration, the SSRF guard at every send, and the
HTTP call itself.

A tenant names the URL, so without a guard any tenant could make the server call its own
network (the metadata service, PostgreSQL's host, an admin port on loopback). Every address a
host name resolves to must be public (``ipaddress``'s ``is_global``) unless it lies in
``WEBHOOK_ALLOWED_NETWORKS``; the check runs when the URL is registered and again at each send,
and the connection goes to the very address that was checked (a DNS answer that changes
between the check and the connect — rebinding — cannot redirect it). Redirects are not
followed: a 3xx is a failed attempt. HTTPS certificates are verified against the URL's host.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

MAX_URL_LENGTH = 2000
USER_AGENT = "Tenantry-Webhooks/1"


class TargetRefused(ValueError):
    """The URL may not be called (its message says why; shown to the tenant)."""


def _allowed_networks():
    return current_app.config.get("WEBHOOK_ALLOWED_NETWORKS") or ()


def check_address(address: str) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _allowed_networks()):
        return
    if not ip.is_global or ip.is_multicast:
        raise TargetRefused(f"{ip} is a private, loopback or reserved address")


def check_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path and query) of an acceptable URL; TargetRefused otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"must be at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("https", "http"):
        raise TargetRefused("must start with https:// (or http://)")
    if not parts.hostname:
        raise TargetRefused("must name a host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("must not carry a user name or password")
    if parts.fragment:
        raise TargetRefused("must not have a #fragment")
    port = port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, target


def resolve(host: str, port: int) -> str:
    """The address to connect to: every address ``host`` resolves to must pass (a name that
    resolves to a public and a private address is refused), and the first is used."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"host {host} does not resolve: {exc}") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:
        check_address(address)
    return addresses[0]


def check_registrable(url: str) -> None:
    """The registration check: a valid URL whose host resolves to allowed addresses now."""
    _scheme, host, port, _target = check_url(url)
    resolve(host, port)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a checked address, whatever the host name resolves to now."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    def connect(self) -> None:
        super().connect()
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self.sock, server_hostname=self.host)


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (refused, timeout, TLS error)
    error: str | None  # why it failed, for the tenant; None on 2xx

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(url: str, body: str, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url`` through the guard; never raises for the receiver's faults."""
    try:
        scheme, host, port, target = check_url(url)
        address = resolve(host, port)
    except TargetRefused as exc:
        return Answer(None, f"refused: {exc}")
    timeout = current_app.config["WEBHOOK_TIMEOUT_SECONDS"]
    kind = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = kind(host, port, address, timeout)
    try:
        connection.request("POST", target, body=body.encode(), headers={
            **headers, "Content-Type": "application/json", "User-Agent": USER_AGENT})
        response = connection.getresponse()
        response.read(4096)  # drain a little; the body is not kept
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}"[:300])
    finally:
        connection.close()
    if 200 <= status < 300:
        return Answer(status, None)
    return Answer(status, f"HTTP {status}" + (" (redirects are not followed)"
                                              if 300 <= status < 400 else ""))
