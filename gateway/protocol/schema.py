"""JSON Schema (draft 2020-12) of every protocol payload, exported from the pydantic models.

``python -m gateway.protocol.schema docs/protocol.schema.json`` regenerates the published file; a test checks
that the file in docs/ matches what this module produces.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson

from gateway.protocol.commands import CommandMessage
from gateway.protocol.payloads import MAX_PAST_S, MAX_SKEW_S, EventMessage, StateMessage, TelemetryMessage
from gateway.protocol.topics import TOPIC_ROOT

PROTOCOL_VERSION = 1
SCHEMA_ID = "https://propwatch.dev/schemas/protocol-v1.json"
# pydantic describes ``ts`` by its Python type (datetime); on the wire it is either form below. The schema
# holds the form (anything else is bad_timestamp); the window is relative to receipt, so only its description
# can say it, and every time outside it, a negative or astronomically large number included, is out of the
# window rather than of the form.
TIMESTAMP_SCHEMA: dict[str, Any] = {
    "description": (
        f"Epoch milliseconds (a whole number: 1e20 is one), or ISO 8601 with a UTC offset (Z or ±hh:mm); at most "
        f"{MAX_PAST_S / 86400:.0f} days before and {MAX_SKEW_S:.0f} s after receipt, else ts_too_old or "
        f"ts_in_future"
    ),
    "anyOf": [
        {"type": "integer"},
        {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"},
    ],
}
MODELS = {"telemetry": TelemetryMessage, "event": EventMessage, "state": StateMessage, "cmd": CommandMessage}


def payload_schema(kind: str) -> dict[str, Any]:
    """The schema of the payload published on topics of ``kind`` (telemetry, event, state, cmd)."""
    schema = MODELS[kind].model_json_schema(mode="validation")
    properties = schema.get("properties", {})
    if "ts" in properties:
        nullable = kind == "state"
        properties["ts"] = {"anyOf": [TIMESTAMP_SCHEMA, {"type": "null"}]} if nullable else dict(TIMESTAMP_SCHEMA)
    schema["additionalProperties"] = False
    _close_pattern_maps(schema)
    return schema


def _close_pattern_maps(node: Any) -> None:
    """pydantic exports ``dict[Pattern, float]`` as ``patternProperties`` alone, which lets keys that miss
    the pattern through; the models reject them, so the schema must too."""
    if isinstance(node, dict):
        if "patternProperties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _close_pattern_maps(value)
    elif isinstance(node, list):
        for value in node:
            _close_pattern_maps(value)


def protocol_schema() -> dict[str, Any]:
    """One document holding every payload schema under ``$defs``, keyed by topic kind."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"propwatch wire protocol v{PROTOCOL_VERSION} ({TOPIC_ROOT}/<site>/<device>/<kind>)",
        "version": PROTOCOL_VERSION,
        "$defs": {kind: payload_schema(kind) for kind in MODELS},
    }


def render() -> bytes:
    """The published file's bytes (stable key order, two-space indent, trailing newline)."""
    return orjson.dumps(protocol_schema(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def main(argv: list[str] | None = None) -> int:
    """Write the schema to the path given (default: standard output)."""
    args = sys.argv[1:] if argv is None else argv
    if args:
        Path(args[0]).write_bytes(render())
    else:
        sys.stdout.buffer.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
