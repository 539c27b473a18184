"""What the alarm detail page shows: the alarm and where it is, its timeline in the estate's time zone, the
device's readings around it (drawn by static/js/alarm_chart.js with ECharts) and its work order. Gathered here so
the page route stays one call."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

import psycopg

from dashboard.ui import charts
from dashboard.users import User
from dispatch.workorders import OrderFilter, WorkOrder, page_work_orders
from gateway.protocol.catalog import catalog
from ingest import history, registry
from rules import alarms, console_query
from rules.alarms import Alarm
from rules.errors import RulePackError
from rules.store import effective_pack

# The readings shown around an alarm: from this long before it became active to this long after it cleared (or
# to now while it is open), in buckets of at least BUCKET and at most MAX_POINTS of them.
AROUND = timedelta(minutes=30)
BUCKET = timedelta(seconds=30)
MAX_POINTS = 360
# Event rules name no metric: the device's first few metrics are shown instead, measured ones first.
FALLBACK_METRICS = 3
# Catalogue units of metrics that are state codes or counters, not measurements (gateway/protocol/catalog).
NOT_MEASURES = frozenset({"code", "count"})


@dataclass(frozen=True)
class TimelineEntry:
    """One transition as the page shows it: ``kind`` names its translated label (``tl_*`` in dashboard.i18n);
    ``cause`` is the engine's own wording, shown in English only."""

    at: str
    kind: str
    from_state: str | None
    to_state: str
    actor: str | None
    cause: str
    comment: str | None


# What an operator's or the engine's transition was, from the cause each writes (rules.alarms, rules.lifecycle).
_CAUSES = (("cleared on acknowledgement", "tl_ack_cleared"), ("acknowledged", "tl_ack"), ("assigned to", "tl_assigned"),
           ("cleared by hand", "tl_hand_cleared"), ("cleared as its work order closed", "tl_order_cleared"))


def transition_kind(to_state: str, cause: str, values: dict[str, object]) -> str:
    """The ``tl_*`` label key of one transition."""
    for prefix, kind in _CAUSES:
        if cause.startswith(prefix):
            return kind
    if values.get("latched"):
        return "tl_latched"
    return {"pending": "tl_pending", "active": "tl_raised", "cleared": "tl_cleared"}.get(to_state, "tl_other")


@dataclass(frozen=True)
class Chart:
    """The readings of one metric around the alarm, as the alarm page's script draws them: ``points`` are
    ``[UTC time, avg, min, max]`` per bucket; ``labels`` name a state metric's codes; ``bands`` are the alarm
    rule's thresholds on the metric."""

    metric: str
    name: str
    unit: str
    state: bool
    labels: list[tuple[int, str]]
    bands: list[charts.Band]
    points: list[tuple[str, float, float, float]]


@dataclass(frozen=True)
class Moment:
    """A moment of the alarm's life drawn as a line on its charts: ``kind`` is its label key."""

    kind: str
    at: str


@dataclass(frozen=True)
class ChartWindow:
    """What the alarm page's charts share: the window, the estate's zone and the alarm's moments."""

    zone: str
    start: str
    end: str
    moments: list[Moment]
    charts: list[Chart] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AlarmPage:
    """Everything the alarm page renders."""

    alarm: Alarm
    site_name: str
    building_name: str | None
    floor: str | None
    device_name: str | None
    zone: str
    first_seen: str
    activated_at: str | None
    returned_at: str | None
    acked_at: str | None
    open_for: str
    timeline: list[TimelineEntry]
    charts: ChartWindow
    window: str
    value_at_alarm: str | None
    """The alarm's value as the reader says it: a state metric's label (下行), else the number."""
    order: WorkOrder | None
    clearable: bool
    last_transition_id: int
    """The newest transition shown: the page reloads for a newer one only."""


def local_time(at: datetime, zone: tzinfo) -> str:
    """``at`` in the estate's zone with the offset as a marker: ``2026-12-07 20:01:02 UTC+8``."""
    local = at.astimezone(zone)
    offset = local.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    marker = f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    return f"{local:%Y-%m-%d %H:%M:%S} {marker}"


def _maybe_local(at: datetime | None, zone: tzinfo) -> str | None:
    return local_time(at, zone) if at else None


def clock(span: timedelta) -> str:
    """A duration as ``mm:ss`` under an hour, else ``h:mm``; never negative."""
    seconds = max(0, int(span.total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}"


def alarm_page(conn: psycopg.Connection, alarm: Alarm, user: User, *, now: datetime, english: bool) -> AlarmPage:
    """The page of ``alarm`` (already checked to lie in ``user``'s scope) as of ``now``; ``english`` picks the
    estate's English name where it has one."""
    zone = registry.site_timezone(conn, alarm.site_id)
    transitions = alarms.alarm_history(conn, alarm.id)
    site = registry.get_site(conn, alarm.site_id)
    device = registry.get_device(conn, alarm.device_id) if alarm.device_id else None
    building = next((b for b in registry.list_buildings(conn, site_id=alarm.site_id)
                     if b.id == alarm.building_id), None)
    start = alarm.activated_at or alarm.first_seen
    end = alarm.cleared_at or now
    lang = "en" if english else "zh-CN"
    window_end = min(now, end + AROUND)
    device_type = device.type if device else None
    metrics = _metrics(conn, alarm, device_type)
    return AlarmPage(
        alarm=alarm, site_name=(site.name_en if english and site.name_en else site.name) if site else alarm.site_id,
        building_name=building.name if building else alarm.building_id,
        floor=str(device.attributes.get("floor")) if device and device.attributes.get("floor") is not None else None,
        device_name=device.name if device else None, zone=str(zone),
        first_seen=local_time(alarm.first_seen, zone), activated_at=_maybe_local(alarm.activated_at, zone),
        returned_at=_maybe_local(alarm.returned_at, zone), acked_at=_maybe_local(alarm.acked_at, zone),
        open_for=clock(end - start),
        timeline=[TimelineEntry(local_time(t.at, zone), transition_kind(t.to_state, t.cause, t.values), t.from_state,
                                t.to_state, t.actor, t.cause, t.values.get("comment") or t.values.get("reason"))
                  for t in transitions],
        charts=ChartWindow(str(zone), (start - AROUND).isoformat(), window_end.isoformat(), _moments(alarm),
                           _charts(conn, alarm, device, metrics, start - AROUND, window_end, lang)),
        window=f"{local_time(start - AROUND, zone)} – {local_time(window_end, zone)}",
        value_at_alarm=_value_text(alarm, device_type, metrics, lang),
        order=_order_of(conn, alarm, user), clearable=console_query.clearable(conn, alarm.id),
        last_transition_id=max((t.id for t in transitions), default=0))


def _metrics(conn: psycopg.Connection, alarm: Alarm, device_type: str | None) -> list[str]:
    """The metric the alarm's rule watches, or for an event rule the device's first few measured metrics (those
    with a physical unit before state codes and counters)."""
    try:
        rule = effective_pack(conn).rule(alarm.rule_id)
    except (KeyError, RulePackError):
        rule = None
    metric = getattr(rule.spec, "metric", None) if rule else None
    if metric:
        return [metric]
    if not alarm.device_id:
        return []
    units = _units(device_type)
    seen = list(history.latest(conn, alarm.device_id))
    seen.sort(key=lambda m: units.get(m, "code") in NOT_MEASURES)
    return seen[:FALLBACK_METRICS]


def _units(device_type: str | None) -> dict[str, str]:
    specs = catalog().get(device_type or "")
    return {name: spec.unit for name, spec in specs.metrics.items()} if specs else {}


def _moments(alarm: Alarm) -> list[Moment]:
    """The alarm's raise, return to normal, acknowledgement and clearing, those it has had (UTC)."""
    found = [("activated_at", alarm.activated_at or alarm.first_seen), ("returned_at", alarm.returned_at),
             ("acked_at", alarm.acked_at), ("dev_alarm_cleared", alarm.cleared_at)]
    return [Moment(kind, at.isoformat()) for kind, at in found if at is not None]


def _value_text(alarm: Alarm, device_type: str | None, metrics: list[str], lang: str) -> str | None:
    """The alarm's value in words for a state metric the rule watches, its number otherwise."""
    if alarm.value is None:
        return None
    spec = charts.metric_spec(device_type, metrics[0]) if len(metrics) == 1 else None
    label = spec.label(alarm.value, lang) if spec else None
    return label or f"{alarm.value:g}"


def _charts(conn: psycopg.Connection, alarm: Alarm, device: registry.Device | None, metrics: list[str],
            start: datetime, end: datetime, lang: str) -> list[Chart]:
    """Each metric's readings in ``[start, end)``, bucketed so a chart has at most MAX_POINTS points, with the
    alarm rule's thresholds on it."""
    if device is None or end <= start:
        return []
    bucket = max(BUCKET, timedelta(seconds=-(-(end - start).total_seconds() // MAX_POINTS)))
    bands = charts.thresholds(conn, device, lang)
    found = []
    for metric in metrics:
        spec = charts.metric_spec(device.type, metric)
        unit = spec.unit if spec else ""
        buckets = history.rollup(conn, device.id, metric, start, end, bucket=bucket)
        found.append(Chart(metric, charts.metric_name(metric, lang), charts.unit_label(unit, lang),
                           unit in charts.STATES, charts.value_labels(spec, lang),
                           [b for b in bands.get(metric, []) if b.rule_id == alarm.rule_id],
                           [(b.bucket.isoformat(), b.avg, b.min, b.max) for b in buckets]))
    return found


def _order_of(conn: psycopg.Connection, alarm: Alarm, user: User) -> WorkOrder | None:
    """The work order dispatch opened for the alarm (an order lists the first alarm of its incident)."""
    if not alarm.device_id or not user.sees_site(alarm.site_id):
        return None
    orders, _ = page_work_orders(conn, sites=[alarm.site_id], where=OrderFilter(device_id=alarm.device_id),
                                 limit=50, offset=0)
    return next((order for order in orders if order.alarm_id == alarm.id), None)
