"""Dispatch: responsibility list, work orders, assignment, SLA timers and escalation, KPIs (docs/dispatch.md)."""
