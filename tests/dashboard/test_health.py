"""Operations endpoints: liveness, readiness, metrics, offline API docs."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dashboard.app import create_app


def test_healthz_answers_ok(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_the_database_ready(client: TestClient) -> None:
    res = client.get("/readyz")
    assert res.status_code == 200
    assert res.json()["database"] == "ok"


def test_readyz_is_503_with_an_error_body_when_the_database_is_gone(db_url: str, postgres_admin_url: str) -> None:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    app = create_app(database_url=db_url, secret_key="k")
    with TestClient(app) as client:
        name = conninfo_to_dict(db_url)["dbname"]
        with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        res = client.get("/readyz")
    assert res.status_code == 503
    assert res.json()["error"]["code"] == "not_ready"


def test_metrics_are_prometheus_text_with_request_counts(client: TestClient) -> None:
    client.get("/healthz")
    res = client.get("/metrics")
    assert res.headers["content-type"].startswith("text/plain")
    assert 'propwatch_http_requests_total{method="GET",route="/healthz",status="200"} 1' in res.text
    assert "propwatch_http_request_duration_seconds_bucket" in res.text


def test_openapi_lists_the_v1_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/alarms", "/api/v1/alarms/{alarm_id}/ack", "/api/v1/work-orders",
                 "/api/v1/work-orders/{order_id}/transition", "/api/v1/events/stream", "/api/v1/auth/token"):
        assert path in paths


def test_swagger_ui_loads_every_asset_from_this_server(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "cdn" not in page.lower()
    assert "/docs/assets/swagger-ui-bundle.js" in page
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200


def test_unknown_paths_get_the_shared_error_body(client: TestClient) -> None:
    res = client.get("/api/v1/nothing-here")
    assert res.status_code == 404
    assert res.json() == {"error": {"code": "not_found", "message": "Not Found", "details": None}}
