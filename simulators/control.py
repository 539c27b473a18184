"""A small HTTP control API for a running simulation (loopback only; no authentication by design).

    GET  /faults                      faults in force
    POST /inject {"device", "fault", "duration_s"?, "params"?}   -> the FaultRecord
    POST /clear  {"fault_id"}         -> the closed FaultRecord
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from simulators.site import SiteSimulator

MAX_BODY = 64 * 1024


class ControlServer:
    """Serves the control API for ``site`` on ``host:port`` (port 0 picks a free one) in a thread."""

    def __init__(self, site: SiteSimulator, host: str = "127.0.0.1", port: int = 0) -> None:
        handler = type("Handler", (_Handler,), {"site": site})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="sim-control", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        """Start serving."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    site: SiteSimulator

    def do_GET(self) -> None:
        if self.path != "/faults":
            self._reply(404, {"error": "not found"})
            return
        self._reply(200, [asdict(r) for r in self.site.active_faults()])

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._reply(413, {"error": "body too large"})
            return
        try:
            body = orjson.loads(self.rfile.read(length) or b"{}")
            if self.path == "/inject":
                record = self.site.inject(body["device"], body["fault"], duration_s=body.get("duration_s"),
                                          **body.get("params", {}))
            elif self.path == "/clear":
                record = self.site.clear(body["fault_id"])
            else:
                self._reply(404, {"error": "not found"})
                return
        except KeyError as exc:
            self._reply(404, {"error": f"unknown {exc.args[0]}"})
            return
        except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
            self._reply(400, {"error": str(exc)})
            return
        self._reply(200, asdict(record))

    def _reply(self, status: int, data: Any) -> None:
        body = orjson.dumps(data, option=orjson.OPT_UTC_Z)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log; the simulator logs injections itself."""
