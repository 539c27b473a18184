"""Structured JSON log lines. Only the fields given here are emitted; request logs carry no personal data."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

_FIELDS = ("method", "path", "route", "status", "duration_ms", "client", "event", "alarm_id", "work_order_id")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg and whitelisted extras."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
               "level": record.levelname, "logger": record.name, "msg": record.getMessage()}
        for name in _FIELDS:
            if hasattr(record, name):
                out[name] = getattr(record, name)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure(level: str = "INFO") -> None:
    """Send propwatch.web logs as JSON to stderr (idempotent), and only there: a root handler (the command line's
    ``logging.basicConfig``) would print every request a second time."""
    logger = logging.getLogger("propwatch.web")
    logger.propagate = False
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
    logger.setLevel(level)
