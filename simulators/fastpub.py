"""A minimal publish-only MQTT client for load generation: packets are built as bytes and written in batches.

paho-mqtt writes one packet per ``send`` call and needs a network thread that competes for the GIL; at tens
of thousands of messages per second that, not the broker, is the limit. This client speaks just enough
MQTT 3.1.1 / 5.0 to CONNECT, PUBLISH (QoS 0 or 1), count PUBACKs and DISCONNECT.
"""

from __future__ import annotations

import socket
import time

CONNECT, CONNACK, PUBLISH, PUBACK, DISCONNECT = 0x10, 0x20, 0x30, 0x40, 0xE0
PROTOCOL_LEVEL = {"3.1.1": 4, "5": 5}
RECEIVE_MAXIMUM = 0x21
# Value sizes of the MQTT 5 properties a CONNACK may carry (None: length-prefixed; "pair": two strings).
CONNACK_PROPERTY_SIZE: dict[int, int | str | None] = {
    0x11: 4, 0x21: 2, 0x24: 1, 0x25: 1, 0x27: 4, 0x12: None, 0x22: 2, 0x1F: None, 0x26: "pair", 0x28: 1,
    0x29: 1, 0x2A: 1, 0x13: 2, 0x1A: None, 0x1C: None, 0x15: None, 0x16: None,
}


def varint(n: int) -> bytes:
    """MQTT variable byte integer (remaining length, property length)."""
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out)


def _string(value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return len(raw).to_bytes(2, "big") + raw


class FastPublisher:
    """Publish-only connection. Call ``publish`` many times, ``flush`` to write, ``poll`` to read acks."""

    def __init__(self, host: str, port: int, client_id: str, *, protocol: str = "5", qos: int = 1,
                 username: str | None = None, password: str | None = None, window: int = 20000) -> None:
        if qos not in (0, 1):
            raise ValueError("the load publisher supports QoS 0 and 1")
        if not 0 < window < 65536:
            raise ValueError("window must fit the 16-bit packet-id space")
        self.qos, self.window, self.v5 = qos, window, protocol == "5"
        self.sent = self.acked = self.refused = 0
        self._next_id = 0
        self._out = bytearray()
        self._in = bytearray()
        self._sock = socket.create_connection((host, port), timeout=10)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
        self._connect(client_id, PROTOCOL_LEVEL[protocol], username, password)
        self._sock.setblocking(False)

    @property
    def in_flight(self) -> int:
        """QoS 1 messages sent and not yet acknowledged."""
        return self.sent - self.acked if self.qos else 0

    def publish(self, topic_block: bytes, payload: bytes) -> None:
        """Queue one PUBLISH; ``topic_block`` is ``topic_block(topic)`` computed once per topic."""
        if self.qos:
            while self.in_flight >= self.window:
                self.flush()
                self.poll(0.001)
            self._next_id = self._next_id % 65535 + 1
            body = topic_block + self._next_id.to_bytes(2, "big") + (b"\x00" if self.v5 else b"") + payload
            self._out += b"\x32" + varint(len(body)) + body
        else:
            body = topic_block + (b"\x00" if self.v5 else b"") + payload
            self._out += b"\x30" + varint(len(body)) + body
        self.sent += 1

    def flush(self) -> None:
        """Write everything queued (blocks while the socket buffer is full, reading acks meanwhile)."""
        data, self._out = self._out, bytearray()
        view = memoryview(data)
        while view:
            try:
                view = view[self._sock.send(view):]
            except BlockingIOError:
                self.poll(0.001)

    def poll(self, timeout: float = 0.0) -> None:
        """Read and count whatever PUBACKs have arrived."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                chunk = self._sock.recv(65536)
            except BlockingIOError:
                chunk = b""
            if chunk:
                self._in += chunk
                self._parse()
            elif time.monotonic() >= deadline:
                return
            else:
                time.sleep(0.0005)

    def drain(self, timeout: float) -> bool:
        """Flush and wait until every QoS 1 message is acknowledged; False on timeout."""
        self.flush()
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            self.poll(0.01)
        return not self.in_flight

    def close(self) -> None:
        """Send DISCONNECT and close the socket."""
        try:
            self._out += bytes([DISCONNECT, 0])
            self.flush()
        finally:
            self._sock.close()

    def _connect(self, client_id: str, level: int, username: str | None, password: str | None) -> None:
        flags = 0x02 | (0x80 if username else 0) | (0x40 if username and password is not None else 0)
        variable = _string("MQTT") + bytes([level, flags]) + (0).to_bytes(2, "big")  # keep-alive off
        if level == 5:
            variable += varint(0)
        payload = _string(client_id)
        if username:
            payload += _string(username)
            if password is not None:
                payload += _string(password)
        body = variable + payload
        self._sock.sendall(bytes([CONNECT]) + varint(len(body)) + body)
        header = self._recv_exact(2)
        rest = self._recv_exact(header[1])
        if header[0] != CONNACK or rest[1] != 0:
            raise ConnectionError(f"broker refused the connection (CONNACK code {rest[1]})")
        if level == 5:
            # Sending more unacknowledged QoS 1 messages than the broker's Receive Maximum is a protocol error.
            self.window = min(self.window, _receive_maximum(rest[2:]))

    def _recv_exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self._sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("broker closed the connection")
            data += chunk
        return data

    def _parse(self) -> None:
        buf, pos = self._in, 0
        while len(buf) - pos >= 2:
            length, shift, i = 0, 0, pos + 1
            while True:
                if i >= len(buf):
                    del buf[:pos]
                    return
                byte = buf[i]
                length |= (byte & 0x7F) << shift
                shift, i = shift + 7, i + 1
                if not byte & 0x80:
                    break
            if len(buf) - i < length:
                break
            if buf[pos] & 0xF0 == PUBACK:
                self.acked += 1
                # MQTT 5 PUBACKs may carry a reason code; 0x80 and above means the broker refused it.
                if length > 2 and buf[i + 2] >= 0x80:
                    self.refused += 1
            pos = i + length
        del buf[:pos]


def _receive_maximum(properties: bytes) -> int:
    """Receive Maximum from the property block of an MQTT 5 CONNACK (65 535 when absent)."""
    length, pos, shift = 0, 0, 0
    while True:
        byte = properties[pos]
        length |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not byte & 0x80:
            break
    end = pos + length
    while pos < end:
        ident, pos = properties[pos], pos + 1
        size = CONNACK_PROPERTY_SIZE.get(ident)
        if ident == RECEIVE_MAXIMUM:
            return int.from_bytes(properties[pos : pos + 2], "big")
        if size == "pair":
            for _ in range(2):
                pos += 2 + int.from_bytes(properties[pos : pos + 2], "big")
        elif size is None:
            pos += 2 + int.from_bytes(properties[pos : pos + 2], "big")
        else:
            pos += int(size)
    return 65535


def topic_block(topic: str) -> bytes:
    """The length-prefixed topic of a PUBLISH packet."""
    return _string(topic)
