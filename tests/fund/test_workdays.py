"""Review deadlines count working days in the site's time zone and end at 24:00 local; public holidays do not
count and the weekend days worked in exchange (调休) do, as the State Council's notice for the year sets them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from dispatch.fund.workdays import CalendarError, parse_calendar, working_days_deadline

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


def test_the_national_day_holidays_do_not_count() -> None:
    opened = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Shanghai, the eve of 1-7 October
    assert working_days_deadline(opened, 2, SHANGHAI) == datetime(2026, 10, 9, 16, 0, tzinfo=UTC)


def test_a_weekend_day_worked_in_exchange_counts() -> None:
    opened = datetime(2026, 9, 18, 2, 0, tzinfo=UTC)  # Friday; Sunday 20 September is a working day
    assert working_days_deadline(opened, 2, SHANGHAI) == datetime(2026, 9, 21, 16, 0, tzinfo=UTC)


def test_the_spring_festival_week_is_skipped_after_its_saturday_workday() -> None:
    opened = datetime(2026, 2, 13, 2, 0, tzinfo=UTC)  # Friday; Saturday 14th worked, 15th-23rd off
    assert working_days_deadline(opened, 2, SHANGHAI) == datetime(2026, 2, 24, 16, 0, tzinfo=UTC)


def test_a_year_without_a_calendar_counts_weekdays_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    opened = datetime(2027, 1, 4, 2, 0, tzinfo=UTC)  # Monday
    assert working_days_deadline(opened, 2, SHANGHAI) == datetime(2027, 1, 6, 16, 0, tzinfo=UTC)
    assert "no holiday calendar for 2027" in caplog.text


@pytest.mark.parametrize(("entry", "problem"), [
    ("{holidays: [{from: 2026-05-01, to: 2026-05-05}]}", "no source"),
    ("{source: x, workdays: [2026-05-08]}", "2026-05-08 is not a weekend day"),
    ("{source: x, holidays: [{from: 2026-05-01, to: 2026-05-10}], workdays: [2026-05-09]}", "both a holiday"),
    ("{source: x, workdays: [2027-01-02]}", "2027-01-02 is not in 2026"),
    ("{source: x, holidays: [{from: 2026-05-05, to: 2026-05-01}]}", "ends (2026-05-01) before it starts"),
    ("{source: x, workdays: [soon]}", "'soon' is not a date"),
])
def test_a_malformed_calendar_is_refused_with_the_reason(entry: str, problem: str) -> None:
    with pytest.raises(CalendarError, match=re.escape(problem)):
        parse_calendar(f"years:\n  2026: {entry}\n")
