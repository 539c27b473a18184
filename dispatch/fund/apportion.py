"""Cent-exact apportionment of a cost over weights (areas) by the largest-remainder method."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

CENT = Decimal("0.01")


def apportion(total: Decimal, weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Split ``total`` over ``weights`` in whole cents, summing exactly to ``total``.

    Each key first gets the floor (in cents) of its exact proportional share; the cents left over go one each
    to the keys with the largest remainders, ties broken by key ascending, so the result is deterministic and
    every share is within one cent of its exact proportion.
    """
    if total < 0 or total != total.quantize(CENT):
        raise ValueError("total must be a non-negative amount in whole cents")
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must be non-negative")
    weight_sum = sum((Fraction(w) for w in weights.values()), Fraction(0))
    if weight_sum == 0:
        raise ValueError("weights must not all be zero")
    cents = int(total / CENT)
    exact = {key: Fraction(cents) * Fraction(w) / weight_sum for key, w in weights.items()}
    floors = {key: share.numerator // share.denominator for key, share in exact.items()}
    leftover = cents - sum(floors.values())
    by_remainder = sorted(exact, key=lambda key: (-(exact[key] - floors[key]), key))
    for key in by_remainder[:leftover]:
        floors[key] += 1
    return {key: Decimal(floors[key]) * CENT for key in weights}
