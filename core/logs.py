"""Logging set-up: LOG_LEVEL, text or JSON lines (LOG_FORMAT), request id on every line.

Nothing secret is ever passed to a logger: call sites log e-mails, ids and statuses, never
passwords, tokens or keys. The redaction filter below is a second line of defence for
third-party log lines (e.g. a driver echoing a connection string).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from flask import g, has_request_context

_SECRETS = re.compile(
    r"(tnt_[A-Za-z0-9_-]{8,}|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"
    r"|(?<=://)[^:/@\s]+:[^@\s]+(?=@))")


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        if isinstance(record.msg, str) and not record.args:
            record.msg = _SECRETS.sub("[redacted]", record.msg)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": _SECRETS.sub("[redacted]", record.getMessage()),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging(level: str, fmt: str, own_handler: bool = True) -> None:
    """Attach our handler to the ``tenantry`` logger, or (tests) let records reach the root."""
    logger = logging.getLogger("tenantry")
    logger.setLevel(level)
    logging.getLogger("clincore").setLevel(level)  # the name ClinCore's runbook uses
    if not own_handler:
        logger.propagate = True
        return
    handler = logging.StreamHandler()
    handler.addFilter(RequestContextFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    logger.handlers[:] = [handler]
    logger.propagate = False
