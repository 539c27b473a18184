"""Rule kinds, one module each, registered by name in ``KINDS``.

A kind's module holds everything about it: its YAML keys and parser, what an override may change, its binder
(the rule compiled against one device, with the routes and urgent triggers it adds) and its evaluator. To add a
kind, write ``rules/kinds/<name>.py`` with its spec in ``rules.model`` and a ``KIND = RuleKind(...)``, and list
it here. The loader, the overrides and the engine reach kinds only through this table.
"""

from __future__ import annotations

from rules.kinds import absence, anomaly, composite, event, forecast, rate, threshold
from rules.kinds.kind import RuleKind, Setting

KINDS: dict[str, RuleKind] = {kind.name: kind for kind in (
    threshold.KIND, rate.KIND, event.KIND, absence.KIND, composite.KIND, anomaly.KIND, forecast.KIND)}

__all__ = ["KINDS", "RuleKind", "Setting"]
