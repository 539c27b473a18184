"""A fund account's movements worded for the owner in the reader's language. What the system recorded (a deposit,
interest, an insurance premium, a sale) is worded from the line's kind, never from its stored memo, which the
system wrote once in one language; what a person typed (a repair's item, a refund's reason) is shown as typed."""

from __future__ import annotations

from dashboard.i18n import translate
from dispatch.fund.account import LedgerLine


def line_kind(line: LedgerLine, lang: str) -> str:
    """The kind of movement in words: 交存, 利息, 使用, 退还, 过户 (Deposit, Interest, Use, Refund, Sale)."""
    return translate(f"own_line_kind_{line.kind}", lang)


def line_text(line: LedgerLine, lang: str) -> str:
    """What the movement was: "首次交存", "结息", the repair's item, "电梯安全责任保险", "退还：<reason>"."""
    if line.kind == "draw":
        if line.draw_purpose == "elevator_insurance":  # the library writes this item itself, in two languages
            return translate("own_line_insurance", lang)
        return line.draw_item or translate("own_line_kind_draw", lang)
    if line.kind == "deposit":
        return translate("own_line_first_deposit" if line.first_deposit else "own_line_kind_deposit", lang)
    if line.kind == "refund" and line.memo:
        return translate("own_line_refund", lang).replace("{reason}", line.memo)
    return translate(f"own_line_{line.kind}", lang)
