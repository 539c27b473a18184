"""Alarm categories (rules/categories.yaml): the vocabulary shared by rule packs and the dispatch list."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

SEVERITIES: tuple[str, ...] = ("P0", "P1", "P2", "P3")


@dataclass(frozen=True, slots=True)
class Category:
    """One alarm category: its id, the device type it concerns, default severity and names."""

    id: str
    component: str
    severity: str
    zh: str
    en: str


@cache
def _load() -> tuple[Category, ...]:
    text = (resources.files("rules") / "categories.yaml").read_text(encoding="utf-8")
    return tuple(Category(**entry) for entry in yaml.safe_load(text)["categories"])


def categories() -> dict[str, Category]:
    """Every category by id, in file order."""
    return {category.id: category for category in _load()}


def severity_rank(severity: str) -> int:
    """0 for P0 (most severe) up to 3 for P3."""
    return SEVERITIES.index(severity)
