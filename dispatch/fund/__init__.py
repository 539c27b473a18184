"""Housing special maintenance fund: accounts, ledger, emergency draws, votes and disclosure.

Modules: ``estate`` (site settings, units, households), ``ledger`` (accounts, append-only entries,
reconciliation), ``apportion`` (cent-exact split), ``draws`` (emergency and voted draws, review, completion),
``votes`` (Civil Code art. 278), ``disclosure`` (public record of each draw), ``statement`` (annual statement),
``regions`` (regional rules from ``data/regions.yaml``).
"""

from dispatch.fund import apportion, disclosure, draws, estate, ledger, regions, statement, votes
from dispatch.fund.demo import seed_demo

__all__ = ["apportion", "disclosure", "draws", "estate", "ledger", "regions", "seed_demo", "statement", "votes"]
