"""Shared API pieces: pagination, the page envelope, a change comment."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of a listing with the total count of matching items."""

    items: list[T]
    total: int
    limit: int
    offset: int


class Pagination(BaseModel):
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


def pagination(limit: Annotated[int, Query(ge=1, le=500)] = 50,
               offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Pagination:
    """``limit``/``offset`` query parameters."""
    return Pagination(limit=limit, offset=offset)


class Comment(BaseModel):
    """A free-text comment recorded with a change."""

    comment: str = Field("", max_length=2000)

