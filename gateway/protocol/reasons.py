"""Every way a device message can be wrong, by name. Dead letters and counters use these values."""

from __future__ import annotations

from enum import StrEnum


class RejectionReason(StrEnum):
    BAD_TOPIC = "bad_topic"
    UNKNOWN_DEVICE = "unknown_device"
    SITE_MISMATCH = "site_mismatch"
    OVERSIZE = "oversize"
    BAD_JSON = "bad_json"
    SCHEMA_VIOLATION = "schema_violation"
    BAD_TIMESTAMP = "bad_timestamp"
    TS_TOO_OLD = "ts_too_old"
    TS_IN_FUTURE = "ts_in_future"
    TOO_MANY_METRICS = "too_many_metrics"
    UNKNOWN_METRIC = "unknown_metric"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_EVENT_CODE = "unknown_event_code"
    REPLAYED_SEQ = "replayed_seq"
    OUT_OF_ORDER_SEQ = "out_of_order_seq"


class Rejection(Exception):
    """A message that cannot be accepted, with the named reason and a human-readable detail."""

    def __init__(self, reason: RejectionReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
