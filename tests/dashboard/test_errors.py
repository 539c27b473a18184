"""Domain errors answer by class: each package's four families map to one status and code through the real
exception handlers, a package's specific error answers like its family, and a built-in error is not mistaken
for a domain one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dashboard.app import create_app
from dashboard.errors import FAMILIES, PACKAGES
from dispatch.fund import errors as fund_errors

CASES = [pytest.param(family.status, family.code, cls, id=f"{cls.__module__}.{cls.__name__}")
         for family in FAMILIES for cls in family.classes]


def _raising(exc: Exception) -> FastAPI:
    """The real app with one more route that raises ``exc``; no database is needed to reach it."""
    app = create_app(database_url="postgresql://unused", secret_key="k")

    @app.get("/raise")
    def _raise() -> None:
        raise exc

    return app


def test_every_package_has_all_four_families_registered() -> None:
    registered = {cls for family in FAMILIES for cls in family.classes}
    assert registered == {getattr(p, name) for p in PACKAGES for name in ("NotFound", "Conflict", "Forbidden",
                                                                          "Invalid")}


@pytest.mark.parametrize(("status", "code", "cls"), CASES)
def test_a_family_answers_with_its_status_code_message_and_class(status: int, code: str, cls: type) -> None:
    res = TestClient(_raising(cls("what went wrong")), raise_server_exceptions=False).get("/raise")
    assert res.status_code == status
    assert res.json() == {"error": {"code": code, "message": "what went wrong", "details": {"reason": cls.__name__}}}


@pytest.mark.parametrize(("exc", "status", "code"), [
    (fund_errors.WrongApprover("the committee decides here"), 403, "forbidden"),
    (fund_errors.InvalidState("draw 7 is completed"), 409, "conflict"),
    (fund_errors.NotEmergency("not on the emergency list"), 422, "invalid"),
    (fund_errors.NotFound("no such draw"), 404, "not_found"),
], ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v))
def test_a_packages_specific_error_answers_like_its_family(exc: Exception, status: int, code: str) -> None:
    res = TestClient(_raising(exc), raise_server_exceptions=False).get("/raise")
    assert (res.status_code, res.json()["error"]["code"]) == (status, code)
    assert res.json()["error"]["details"] == {"reason": type(exc).__name__}


@pytest.mark.parametrize("exc", [ValueError("x"), LookupError("x"), PermissionError("x")],
                         ids=lambda e: type(e).__name__)
def test_a_builtin_error_outside_the_families_is_an_internal_error(exc: Exception) -> None:
    res = TestClient(_raising(exc), raise_server_exceptions=False).get("/raise")
    assert res.status_code == 500 and res.json()["error"]["code"] == "internal"


# --- the same mapping reached through the domain packages themselves -------------------------------------


def test_a_household_without_a_fund_account_is_404_from_the_fund(client: TestClient,
                                                                  token_for: Callable[..., dict[str, str]]) -> None:
    res = client.get("/api/v1/fund/me", headers=token_for("owner", household_id="H-NO-ACCOUNT"))
    assert res.status_code == 404
    assert res.json()["error"]["code"] == "not_found" and res.json()["error"]["details"]["reason"] == "NotFound"


def test_a_history_range_with_too_many_buckets_is_422_from_ingest(client: TestClient, estate: str,
                                                                  token_for: Callable[..., dict[str, str]]) -> None:
    end = datetime.now(UTC)
    params = {"metric": "speed", "resolution": "1m", "start": (end - timedelta(days=30)).isoformat(),
              "end": end.isoformat()}
    res = client.get(f"/api/v1/devices/{estate}-B01-EL01/history", params=params, headers=token_for("operator"))
    assert res.status_code == 422
    assert res.json()["error"]["code"] == "invalid" and res.json()["error"]["details"]["reason"] == "ResultTooLarge"
