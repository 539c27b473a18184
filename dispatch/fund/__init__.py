"""Housing special maintenance fund: accounts, ledger, draws, votes, shared-part income and disclosure.

Modules: ``estate`` (site settings, units, households), ``ledger`` (accounts, append-only entries,
reconciliation), ``account`` (an owner's own lines and yearly statement), ``apportion`` (cent-exact split),
``draws`` (emergency, authorised and voted draws, review, completion), ``insurance`` (elevator insurance
purchases, clause 16), ``votes`` (Civil Code art. 278, thresholds from ``vote_rules``), ``disclosure`` (public
record of each draw), ``statement`` (annual statement), ``shared_parts`` (shared-part income and expenses),
``annual`` (the yearly disclosure workflow), ``regions`` (regional rules from ``data/regions.yaml``).

Public readers for the board: ``published_results``, ``published_disclosures``, ``shared_parts_summary`` and
``public_disclosures`` (each draw, with its ``purpose``: ``repair`` or ``elevator_insurance``).
"""

from dispatch.fund import (
    account,
    annual,
    apportion,
    disclosure,
    draws,
    estate,
    insurance,
    ledger,
    regions,
    shared_parts,
    statement,
    vote_rules,
    votes,
)
from dispatch.fund.annual import published_disclosures
from dispatch.fund.demo import seed_demo
from dispatch.fund.disclosure import public_disclosures
from dispatch.fund.shared_parts import shared_parts_summary
from dispatch.fund.votes import published_results

__all__ = ["account", "annual", "apportion", "disclosure", "draws", "estate", "insurance", "ledger",
           "public_disclosures", "published_disclosures", "published_results", "regions", "seed_demo",
           "shared_parts", "shared_parts_summary", "statement", "vote_rules", "votes"]
