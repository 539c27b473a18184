"""Rules and alarms: rule packs (YAML, validated, versioned), the engine, the alarm lifecycle and its API.

Entry points: ``rules.engine.RuleEngine`` (evaluate batches and time), ``rules.alarms`` (query and act on
alarms), ``rules.categories.categories()``, ``python -m rules check FILE``. Each rule kind is one module of
``rules.kinds``; refusals are the families of ``rules.errors``. See docs/rules.md.
"""
