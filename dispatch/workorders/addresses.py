"""Addresses as people write them, normalised so that the same place compares equal (repeats, search)."""

from __future__ import annotations

import unicodedata


def address_key(address: str | None) -> str | None:
    """An address normalised for repeat detection: NFKC (full-width → half-width), no spaces, lower case."""
    if not address:
        return None
    return "".join(unicodedata.normalize("NFKC", address).split()).lower()
