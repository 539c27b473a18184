"""Rule pack files: ``default.yaml`` ships with propwatch; a site's extra pack is laid over it."""

from __future__ import annotations

from pathlib import Path

from rules import loader
from rules.model import RulePack


def load_pack_file(path: Path) -> RulePack:
    """The default pack with the pack file at ``path`` laid over it (same-id rules replaced, overrides and
    inhibitions added); raises ``rules.errors.RulePackError`` naming every problem with its line."""
    base = loader.default_pack()
    return base.merged(loader.load_pack_file(path, base=base))
