"""The owner's yearly fund statement as a CSV document a person opens in Excel: headers in the reader's language,
the home and each draw's scope by name, kinds in words, times in the estate's zone to the second with the zone in
the header, amounts with two decimals. The JSON statement stays the machine-readable one (ids, codes, ISO times)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from dashboard.i18n import translate
from dashboard.ui.alarm_detail import local_time
from dashboard.ui.homes import HomeNames
from dashboard.ui.ledger_lines import line_kind, line_text
from dispatch.fund.account import HouseholdStatement, LedgerLine

SUMMARY = ("own_csv_home", "own_csv_year", "own_csv_opening", "own_csv_deposited", "own_csv_interest",
           "own_csv_used", "own_csv_refunded", "own_csv_closing")


def _text(value: str) -> str:
    """A cell of text a person typed, kept text in Excel: one starting ``=``, ``+``, ``-`` or ``@`` would run as a
    formula there (CSV injection), so it is quoted with the apostrophe Excel hides."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _scope(line: LedgerLine, names: HomeNames, lang: str) -> str:
    if line.draw_scope_type is None:
        return ""
    return names.scope(line.draw_scope_type, line.draw_scope_id or "", lang) or translate("own_scope_site", lang)


def _clock_and_zone(at: datetime, zone: ZoneInfo) -> tuple[str, str]:
    """``2026-12-08 11:14:02`` and ``UTC+8``: the time goes in the cell, the zone in the column's header."""
    clock, marker = local_time(at, zone).rsplit(" ", 1)
    return clock, marker


def statement_csv(statement: HouseholdStatement, zone: ZoneInfo, names: HomeNames, lang: str) -> str:
    """The statement as CSV: a summary row under its headers, a blank row, then one row per movement."""
    def t(key: str) -> str:
        return translate(key, lang)

    marker = _clock_and_zone(statement.period_start, zone)[1]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([t(key) for key in SUMMARY])
    writer.writerow([names.home_in_unit(statement.building_id, statement.unit_name, statement.room, lang),
                     statement.year] + [_money(x) for x in (statement.opening, statement.deposited, statement.interest,
                                                            statement.used, statement.refunded, statement.closing)])
    writer.writerow([])
    writer.writerow([t("own_csv_time").replace("{zone}", marker), t("own_csv_kind"), t("own_csv_amount"),
                     t("own_csv_balance"), t("own_csv_what"), t("own_csv_scope"), t("own_csv_work_order")])
    for line in statement.lines:
        clock, line_marker = _clock_and_zone(line.created_at, zone)
        # A zone with summer time changes its offset within the year: such a line names its own.
        writer.writerow([clock if line_marker == marker else f"{clock} {line_marker}", line_kind(line, lang),
                         _money(line.amount), _money(line.balance_after), _text(line_text(line, lang)),
                         _scope(line, names, lang), line.work_order_number or ""])
    return out.getvalue()
