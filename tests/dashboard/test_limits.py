"""Limits before work: bodies are judged by their headers and counted while they stream, before anyone signs in.

The server rows run `propwatch serve` for real; the media-type rows go through the app in process.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from dashboard.limits import DEFAULT_MAX_BODY_BYTES, Limits

from .live_server import LiveServer, propwatch_serve

MB = 1024 * 1024
FORGED = {"Authorization": "Bearer not-a-real-token"}
UPLOAD_LIMIT = Limits().upload


@pytest.fixture(scope="module")
def live(scratch_database: Callable[..., AbstractContextManager[str]], template_database: str,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with scratch_database(template_database) as database, \
            propwatch_serve(database, tmp_path_factory.mktemp("serve")) as server:
        yield server


def _zeros(total: int, chunk: int = 256 * 1024) -> Iterator[bytes]:
    block = b"0" * chunk
    sent = 0
    while sent < total:
        piece = block[: min(chunk, total - sent)]
        sent += len(piece)
        yield piece


def _multipart(total: int, boundary: str = "pwboundary") -> Iterator[bytes]:
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.png\"\r\n"
           "Content-Type: image/png\r\n\r\n").encode()
    yield from _zeros(total)
    yield f"\r\n--{boundary}--\r\n".encode()


def _headers_only(server: LiveServer, path: str, headers: dict[str, str]) -> tuple[float, bytes]:
    """Send a request's headers and no body; return how long the answer took and its first bytes."""
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"] + [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        started = time.perf_counter()
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = sock.recv(65536)
        elapsed = time.perf_counter() - started
        head, _, body = answer.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(
            b"content-length")))
        while len(body) < length:
            body += sock.recv(65536)
        return elapsed, head + b"\r\n\r\n" + body


def test_a_declared_200_mb_json_body_is_413_before_a_byte_of_it_is_sent(live: LiveServer) -> None:
    elapsed, answer = _headers_only(live, "/api/v1/alarms/1/ack", {
        "Content-Type": "application/json", "Content-Length": str(200 * MB), **FORGED})
    assert answer.startswith(b"HTTP/1.1 413") and b'"too_large"' in answer
    assert elapsed < 1.0


def test_an_anonymous_200_mb_json_body_is_401_before_a_byte_of_it_is_sent(live: LiveServer) -> None:
    elapsed, answer = _headers_only(live, "/api/v1/alarms/1/ack", {
        "Content-Type": "application/json", "Content-Length": str(200 * MB)})
    assert answer.startswith(b"HTTP/1.1 401") and b'"unauthenticated"' in answer
    assert elapsed < 1.0


def test_an_anonymous_512_mb_upload_is_401_before_a_byte_of_it_is_sent(live: LiveServer) -> None:
    elapsed, answer = _headers_only(live, "/api/v1/work-orders/1/photos", {
        "Content-Type": "multipart/form-data; boundary=pwboundary", "Content-Length": str(512 * MB)})
    assert answer.startswith(b"HTTP/1.1 401")
    assert elapsed < 1.0
    assert list(live.temp_dir.iterdir()) == []


def test_a_streamed_json_body_is_cut_at_its_limit_with_a_clear_413(live: LiveServer) -> None:
    res = httpx.post(f"{live.url}/api/v1/alarms/1/ack", content=_zeros(16 * MB),
                     headers={"Content-Type": "application/json", **FORGED}, timeout=60)
    assert res.status_code == 413
    error = res.json()["error"]
    assert error["code"] == "too_large" and error["details"] == {"limit": DEFAULT_MAX_BODY_BYTES}
    assert str(DEFAULT_MAX_BODY_BYTES) in error["message"]


def test_a_streamed_upload_spools_at_most_its_limit_to_a_temporary_file(live: LiveServer) -> None:
    largest = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal largest
        while not done.is_set():
            largest = max(largest, _largest_temporary_file(live))
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        res = httpx.post(f"{live.url}/api/v1/work-orders/1/photos", content=_multipart(64 * MB),
                         headers={"Content-Type": "multipart/form-data; boundary=pwboundary", **FORGED}, timeout=60)
    finally:
        done.set()
        watcher.join()
    print(f"\nlargest temporary file while 64 MiB streamed in: {largest / MB:.2f} MiB "
          f"(limit {UPLOAD_LIMIT / MB:.2f} MiB)")
    assert res.status_code == 413
    assert largest <= UPLOAD_LIMIT


def _largest_temporary_file(server: LiveServer) -> int:
    largest = 0
    fds = Path(f"/proc/{server.process.pid}/fd")
    for fd in fds.iterdir():
        try:
            if os.readlink(fd).startswith(str(server.temp_dir)):
                largest = max(largest, os.stat(fd).st_size)
        except OSError:  # closed while we looked
            continue
    return largest


def test_peak_memory_stays_within_50_mb_of_idle_while_20_clients_send_100_mb_each(live: LiveServer) -> None:
    for _ in range(5):
        httpx.get(f"{live.url}/healthz")
    idle = live.rss()
    live.reset_peak()
    targets = [("/api/v1/alarms/1/ack", "application/json", _zeros),
               ("/api/v1/work-orders/1/photos", "multipart/form-data; boundary=pwboundary", _multipart)]
    statuses: list[int | str] = []

    def send(n: int) -> None:
        path, content_type, body = targets[n % 2]
        headers = {"Content-Type": content_type, **(FORGED if n % 4 >= 2 else {})}
        if n % 3 == 0:  # some declare their length, the others stream chunked
            headers["Content-Length"] = str(sum(len(piece) for piece in body(100 * MB)))
        try:
            statuses.append(httpx.post(f"{live.url}{path}", content=body(100 * MB), headers=headers,
                                       timeout=60).status_code)
        except httpx.TransportError as exc:
            statuses.append(type(exc).__name__)

    started = time.perf_counter()
    clients = [threading.Thread(target=send, args=(n,)) for n in range(20)]
    for client in clients:
        client.start()
    for client in clients:
        client.join(timeout=120)
    elapsed = time.perf_counter() - started
    peak = live.peak_rss()
    print(f"\nserver RSS idle {idle / MB:.1f} MiB, peak {peak / MB:.1f} MiB (+{(peak - idle) / MB:.1f} MiB) while "
          f"20 clients sent 100 MiB each ({elapsed:.1f} s); answers {sorted(map(str, statuses))}")
    assert not any(client.is_alive() for client in clients)
    assert peak - idle <= 50 * MB
    assert len(statuses) == 20 and set(statuses) <= {401, 413}


def test_a_json_endpoint_refuses_html_as_415(client: TestClient, token_for) -> None:
    res = client.post("/api/v1/alarms/1/ack", content=b"<html></html>",
                      headers={"Content-Type": "text/html", **token_for("operator")})
    assert res.status_code == 415 and res.json()["error"]["details"]["accepted"] == ["application/json"]


def test_an_upload_endpoint_refuses_json_as_415(client: TestClient, token_for) -> None:
    res = client.post("/api/v1/work-orders/1/photos", json={"photo": "x"}, headers=token_for("operator"))
    assert res.status_code == 415 and res.json()["error"]["code"] == "unsupported_media_type"


def test_a_json_body_without_a_media_type_is_415(client: TestClient, token_for) -> None:
    res = client.post("/api/v1/alarms/1/ack", content=b'{"comment": "x"}', headers=token_for("operator"))
    assert res.status_code == 415


def test_the_sign_in_form_takes_a_form_and_nothing_else(client: TestClient) -> None:
    res = client.post("/api/v1/auth/token", json={"username": "a", "password": "b"})
    assert res.status_code == 415
    assert client.post("/api/v1/auth/token", data={"username": "a", "password": "bbbbbbbb"}).status_code == 401


def test_an_anonymous_body_is_refused_in_process_too(client: TestClient) -> None:
    res = client.post("/api/v1/alarms/1/ack", json={"comment": "x"})
    assert res.status_code == 401 and res.headers["www-authenticate"] == "Bearer"
