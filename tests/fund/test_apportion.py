"""Apportionment splits a cost by area in whole cents, exactly and deterministically."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.fund.apportion import apportion

CENT = Decimal("0.01")
totals = st.integers(min_value=0, max_value=10**11).map(lambda cents: Decimal(cents) * CENT)
areas = st.integers(min_value=1, max_value=10**6).map(lambda hundredths: Decimal(hundredths) * CENT)
weight_maps = st.dictionaries(st.text("abcdefgh0123456789", min_size=1, max_size=6), areas, min_size=1,
                              max_size=40)


@given(totals, weight_maps)
def test_shares_sum_exactly_to_the_total(total: Decimal, weights: dict[str, Decimal]) -> None:
    assert sum(apportion(total, weights).values(), Decimal(0)) == total


@given(totals, weight_maps)
def test_no_share_is_negative_and_all_are_whole_cents(total: Decimal, weights: dict[str, Decimal]) -> None:
    for share in apportion(total, weights).values():
        assert share >= 0
        assert share == share.quantize(CENT)


@given(totals, weight_maps)
def test_each_share_is_within_one_cent_of_its_exact_proportion(total: Decimal, weights: dict[str, Decimal]) -> None:
    weight_sum = sum(Fraction(w) for w in weights.values())
    for key, share in apportion(total, weights).items():
        exact = Fraction(total) * Fraction(weights[key]) / weight_sum
        assert abs(Fraction(share) - exact) < Fraction(1, 100)


@given(totals, weight_maps)
def test_result_does_not_depend_on_input_order(total: Decimal, weights: dict[str, Decimal]) -> None:
    reversed_weights = dict(reversed(list(weights.items())))
    assert apportion(total, weights) == apportion(total, reversed_weights)


def test_leftover_cents_go_to_the_largest_remainders() -> None:
    shares = apportion(Decimal("10.00"), {"a": Decimal("1"), "b": Decimal("1"), "c": Decimal("1")})
    assert shares == {"a": Decimal("3.34"), "b": Decimal("3.33"), "c": Decimal("3.33")}


def test_equal_remainders_are_broken_by_household_id() -> None:
    shares = apportion(Decimal("0.01"), {"h2": Decimal("50"), "h1": Decimal("50")})
    assert shares == {"h2": Decimal("0.00"), "h1": Decimal("0.01")}


def test_split_follows_area() -> None:
    shares = apportion(Decimal("300.00"), {"small": Decimal("50.00"), "large": Decimal("100.00")})
    assert shares == {"small": Decimal("100.00"), "large": Decimal("200.00")}


@pytest.mark.parametrize("total", [Decimal("-1.00"), Decimal("1.005")])
def test_total_must_be_non_negative_whole_cents(total: Decimal) -> None:
    with pytest.raises(ValueError):
        apportion(total, {"a": Decimal(1)})


def test_weights_must_not_all_be_zero() -> None:
    with pytest.raises(ValueError):
        apportion(Decimal("1.00"), {"a": Decimal(0)})
