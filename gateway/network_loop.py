"""One thread that owns a paho client: connects, reads, writes, keeps alive and reconnects.

Built on paho's external-loop API (``socket``, ``loop_read``, ``loop_write``, ``want_write``, ``loop_misc``,
``reconnect``) instead of ``loop_start``, for two reasons:

* **One ``select`` per burst, not per packet.** paho's own loop reads one packet per ``select``; here the
  socket is read until a read yields no message, so a backlog costs one wake-up for many messages
  (docs/ingest.md, "Our own network loop").
* **Every paho call on one thread.** Other threads hand work over with ``call_soon`` (the gateway's
  acknowledgements after a commit); it runs on this thread between reads, and the PUBACKs it queues go out
  together in the next ``loop_write``. paho is not called from two threads, and acknowledging a batch costs
  one wake-up instead of a socket-pair write per message.

Reading pauses while ``paused()`` is true: the owner's window of unacknowledged messages is full, TCP flow
control then holds the broker back, and memory stays bounded. An error that escapes the loop ends the thread
and is handed to ``on_crash`` (the gateway's ends the process: ``gateway.crash``).
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from gateway.crash import OnCrash, guarded_thread

log = logging.getLogger(__name__)

# Upper bound on packets read per wake-up, so queued calls (acknowledgements) are never starved by a backlog.
MAX_READS_PER_WAKE = 16
IDLE_WAIT_S = 1.0


class NetworkLoop:
    """Runs ``client``'s network traffic on a thread of its own; see the module docstring.

    ``client.on_message`` must be set before ``start``; the loop wraps it to see which reads delivered a
    message.
    """

    def __init__(self, client: mqtt.Client, *, name: str, paused: Callable[[], bool] = lambda: False,
                 min_reconnect_s: float = 0.1, max_reconnect_s: float = 2.0, on_crash: OnCrash | None = None) -> None:
        self._client = client
        self._name = name
        self._on_crash = on_crash
        self._paused = paused
        self._min_reconnect_s = min_reconnect_s
        self._max_reconnect_s = max_reconnect_s
        self._calls: deque[Callable[[], Any]] = deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._messages = 0
        # With these set, paho queues what it has to write instead of writing from the calling thread.
        client.on_socket_register_write = _ignore
        client.on_socket_unregister_write = _ignore

    def start(self) -> None:
        """Start the thread; it connects with what ``client.connect_async`` was given."""
        on_message = self._client.on_message

        def counted(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
            self._messages += 1
            on_message(client, userdata, message)

        self._client.on_message = counted
        if self._on_crash is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        else:
            self._thread = guarded_thread(self._run, name=self._name, on_crash=self._on_crash)
        self._thread.start()

    def call_soon(self, call: Callable[[], Any]) -> None:
        """Run ``call`` on the loop's thread, in order with other calls, as soon as it wakes (never once the
        loop has stopped)."""
        self._calls.append(call)
        self.wake()

    def wake(self) -> None:
        """Make the loop look again at its calls and at ``paused()``."""
        # BlockingIOError: a wake-up is already pending; OSError: the loop has stopped and closed the socket.
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    @property
    def stopping(self) -> bool:
        """Whether ``stop`` has been called (a disconnect then is the expected one)."""
        return self._stopping.is_set()

    def stop(self, timeout: float = 10.0) -> None:
        """Run the calls already queued, disconnect cleanly, and end the thread. Safe to call again."""
        if self._stopping.is_set():
            return
        # Stopping first: once the disconnect has closed the socket, the loop must end, not reconnect.
        self._stopping.set()
        self.call_soon(self._client.disconnect)
        if self._thread is not None:
            self._thread.join(timeout)
        self._wake_r.close()
        self._wake_w.close()

    # -- the thread ------------------------------------------------------------------------------------

    def _run(self) -> None:
        delay = self._min_reconnect_s
        while True:
            if self._client.socket() is None:
                if self._stopping.is_set():
                    return
                try:
                    self._client.reconnect()
                    delay = self._min_reconnect_s
                except OSError as exc:
                    log.debug("connection to the broker failed: %s", exc)
                    self._stopping.wait(delay)
                    delay = min(delay * 2, self._max_reconnect_s)
                    continue
            try:
                self._turn()
            except Exception:
                log.exception("%s: unexpected error in the network loop", self._name)
                raise

    def _turn(self) -> None:
        client = self._client
        self._run_calls()
        sock = client.socket()
        if sock is None:
            return
        reading = not self._paused()
        # An SSL socket may hold decrypted bytes that select() cannot see.
        buffered = reading and bool(getattr(sock, "pending", lambda: 0)())
        readable, _, _ = select.select(
            [self._wake_r, sock] if reading else [self._wake_r],
            [sock] if client.want_write() else [],
            [],
            0 if buffered else IDLE_WAIT_S,
        )
        if self._wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                self._wake_r.recv(4096)
        if buffered or sock in readable:
            self._read()
        self._run_calls()
        if client.want_write():
            client.loop_write()
        client.loop_misc()

    def _read(self) -> None:
        # Until a read delivers no message: the socket is drained, or the packet was not a PUBLISH (then the
        # next select finds what is left).
        for _ in range(MAX_READS_PER_WAKE):
            if self._paused():
                return
            before = self._messages
            if self._client.loop_read() != mqtt.MQTT_ERR_SUCCESS or self._messages == before:
                return

    def _run_calls(self) -> None:
        while self._calls:
            self._calls.popleft()()


def _ignore(*args: object) -> None:
    return None
