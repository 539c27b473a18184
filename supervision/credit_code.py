"""The unified social credit code (统一社会信用代码) of GB 32100-2015: 18 characters, the last one a check character.

Characters come from the 31 of the standard's code table (digits and capitals without I, O, Z, S, V). The check
character C18 = 31 − (Σ Ci × Wi mod 31) over the first 17, with the weights Wi = 3^(i−1) mod 31, and 0 where the
result is 31.
"""

from __future__ import annotations

from supervision.errors import Invalid

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
LENGTH = 18


class InvalidCreditCode(Invalid):
    """Not a unified social credit code: wrong length, a character outside the code table, or a bad check."""

    field = "credit_code"


def check_character(first17: str) -> str:
    """The check character GB 32100-2015 gives the first 17 characters of a code."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(code: str) -> str:
    """``code`` normalised (trimmed, upper case) if it is a valid unified social credit code; raises
    ``InvalidCreditCode`` saying what is wrong."""
    normal = code.strip().upper()
    if len(normal) != LENGTH:
        raise InvalidCreditCode(f"a unified social credit code has {LENGTH} characters, not {len(normal)}")
    wrong = sorted({c for c in normal if c not in ALPHABET})
    if wrong:
        raise InvalidCreditCode(f"characters outside the GB 32100-2015 code table: {' '.join(wrong)}")
    expected = check_character(normal[:17])
    if normal[17] != expected:
        raise InvalidCreditCode(f"the check character is {normal[17]}, GB 32100-2015 gives {expected}")
    return normal
