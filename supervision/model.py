"""The credit model as data (supervision/data/credit.yaml): factor weights and normalisations, star thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources

import yaml

NORMALISATIONS = ("rate", "duration", "points", "ratings", "scale")


@dataclass(frozen=True)
class FactorSpec:
    """One factor of the model: its weight, what it measures, how it is scored 0-100, and the source."""

    id: str
    weight: Decimal
    measure: str
    normalise: str
    source: str
    ratings: dict[str, Decimal] = field(default_factory=dict)
    full_within_s: float | None = None
    zero_at_s: float | None = None
    lowest: Decimal | None = None
    highest: Decimal | None = None


@dataclass(frozen=True)
class Band:
    """A star level: scores from ``min_score`` (included) up to the next band."""

    stars: int
    min_score: Decimal
    grade: str


@dataclass(frozen=True)
class CreditModel:
    """A version of the model: its factors by id and its star bands."""

    version: str
    factors: dict[str, FactorSpec]
    bands: tuple[Band, ...]  # highest first

    def stars(self, score: Decimal) -> int:
        """The star level of ``score``: the highest band whose minimum it reaches."""
        return next(band.stars for band in self.bands if score >= band.min_score)


def parse_model(text: str) -> CreditModel:
    """A model from its YAML text; raises ``ValueError`` for a model that cannot be used."""
    raw = yaml.safe_load(text)
    factors = {}
    for factor_id, spec in raw["factors"].items():
        if spec["normalise"] not in NORMALISATIONS:
            raise ValueError(f"factor {factor_id}: normalise must be one of {', '.join(NORMALISATIONS)}")
        factors[factor_id] = FactorSpec(
            id=factor_id, weight=Decimal(str(spec["weight"])), measure=" ".join(str(spec["measure"]).split()),
            normalise=spec["normalise"], source=spec["source"],
            ratings={k: Decimal(str(v)) for k, v in (spec.get("ratings") or {}).items()},
            full_within_s=spec.get("full_within_s"), zero_at_s=spec.get("zero_at_s"),
            lowest=_decimal(spec.get("lowest")), highest=_decimal(spec.get("highest")))
    bands = tuple(sorted((Band(b["stars"], Decimal(str(b["min_score"])), b["grade"]) for b in raw["stars"]),
                         key=lambda b: b.min_score, reverse=True))
    if not bands or bands[-1].min_score != 0:
        raise ValueError("the lowest star band must start at 0")
    if any(spec.weight <= 0 for spec in factors.values()):
        raise ValueError("every factor needs a positive weight")
    return CreditModel(version=str(raw["version"]), factors=factors, bands=bands)


def _decimal(value: object) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


@cache
def credit_model() -> CreditModel:
    """The model shipped with the package."""
    return parse_model(resources.files("supervision").joinpath("data/credit.yaml").read_text(encoding="utf-8"))


def opinion_ratings() -> tuple[str, ...]:
    """The ratings a sub-district opinion may give, best first."""
    return tuple(credit_model().factors["opinion"].ratings)
