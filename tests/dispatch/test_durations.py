"""Durations in the dispatch data files."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.durations import format_duration, parse_duration


@given(st.integers(min_value=1, max_value=10**7))
def test_formatting_then_parsing_gives_the_same_duration(seconds: int) -> None:
    assert parse_duration(format_duration(timedelta(seconds=seconds))) == timedelta(seconds=seconds)


def test_the_shortest_exact_unit_is_used() -> None:
    assert [format_duration(timedelta(seconds=s)) for s in (30, 1800, 5400, 86400 * 15)] == ["30s", "30m", "90m",
                                                                                             "15d"]


@pytest.mark.parametrize("text", ["", "0m", "-5m", "5", "5 minutes", "1.5h"])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(text)
