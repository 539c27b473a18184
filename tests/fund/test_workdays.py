"""Review deadlines count working days in the site's time zone and end at 24:00 local."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dispatch.fund.workdays import working_days_deadline

SHANGHAI = "Asia/Shanghai"


def test_two_working_days_from_a_monday_end_at_wednesday_midnight_local() -> None:
    opened = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
    assert working_days_deadline(opened, 2, SHANGHAI) == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


def test_weekends_are_skipped() -> None:
    opened = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai
    assert working_days_deadline(opened, 2, SHANGHAI) == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)


def test_the_local_date_decides_the_start_day_not_the_utc_date() -> None:
    opened = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)  # already Monday 01:00 in Shanghai, Sunday in UTC
    assert working_days_deadline(opened, 1, SHANGHAI) == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        working_days_deadline(datetime(2026, 11, 23, 10, 0), 2, SHANGHAI)  # noqa: DTZ001
