"""Helpers for the end-to-end tests: the echo server as a subprocess, and a
raw-socket WebSocket client that can build any frame, valid or not.

Every wait here is for an event (a line, a byte, EOF) with a timeout as an
upper bound only; nothing sleeps to synchronise.

Run with Debian's interpreter (it has python3-websockets):
    ECHO_SERVER=build/echo_server /usr/bin/python3 -m unittest discover -s tests/e2e -p "test_*.py"
"""

import base64
import hashlib
import json
import os
import select
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest
import zlib

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

# What a sanitizer prints when it finds something; any of these in the
# server's stderr fails the test that was running.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer")

DEFAULT_TIMEOUT = 5.0


class HarnessError(AssertionError):
    """A failure of the server seen by the harness (it fails the test)."""


# ---- The server ------------------------------------------------------------


def server_path():
    path = os.environ.get("ECHO_SERVER")
    if not path:
        raise RuntimeError(
            "ECHO_SERVER is not set: point it at the built echo_server, e.g. "
            "ECHO_SERVER=build/echo_server /usr/bin/python3 -m unittest discover -s tests/e2e")
    if not os.access(path, os.X_OK):
        raise RuntimeError("ECHO_SERVER=%r is not an executable file" % path)
    return path


class EchoServer:
    """tests/e2e/echo_server as a child process on a free port.

    start() waits for its "LISTENING <port>" line; stop() ends it by pid
    (SIGTERM, then SIGKILL after 5 s) and fails if its stderr holds a
    sanitizer report. check() may be called any time to fail early when the
    server died or reported something.
    """

    def __init__(self, *flags, startup_timeout=10.0):
        self.flags = [str(f) for f in flags]
        self.startup_timeout = startup_timeout
        self.proc = None
        self.port = None
        self._stderr = None
        self._stderr_name = None
        self._stopped = False

    def start(self):
        path = server_path()
        self._stderr = tempfile.NamedTemporaryFile(prefix="echo_server-", suffix=".stderr",
                                                   delete=False)
        self._stderr_name = self._stderr.name
        env = dict(os.environ)
        # Sanitizer builds: report and stop at the first problem; leaks too.
        env.setdefault("ASAN_OPTIONS", "halt_on_error=1:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        self.proc = subprocess.Popen([path, "--port", "0"] + self.flags, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self._stderr)
        deadline = time.monotonic() + self.startup_timeout
        line = b""
        fd = self.proc.stdout.fileno()
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                self._kill()
                raise HarnessError("echo_server did not print LISTENING within %.0f s; stderr:\n%s"
                                   % (self.startup_timeout, self.stderr_text()))
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1)
            if not chunk:
                self.proc.wait(timeout=5)
                raise HarnessError("echo_server exited (%s) before LISTENING; stderr:\n%s"
                                   % (self.proc.returncode, self.stderr_text()))
            line += chunk
        words = line.decode().split()
        if len(words) != 2 or words[0] != "LISTENING":
            self._kill()
            raise HarnessError("unexpected first line from echo_server: %r" % line)
        self.port = int(words[1])
        return self

    def stderr_text(self):
        if not self._stderr_name:
            return ""
        try:
            with open(self._stderr_name, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def sanitizer_report(self):
        text = self.stderr_text()
        for marker in SANITIZER_MARKERS:
            if marker in text:
                return text
        return None

    def check(self):
        """Fails when the server has died or a sanitizer has reported."""
        report = self.sanitizer_report()
        if report:
            raise HarnessError("sanitizer report in echo_server's stderr:\n" + report[-8000:])
        if self.proc is not None and not self._stopped and self.proc.poll() is not None:
            raise HarnessError("echo_server died (exit %s); stderr:\n%s"
                               % (self.proc.returncode, self.stderr_text()[-8000:]))

    def _kill(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.kill(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=5)

    def stop(self):
        if self.proc is None or self._stopped:
            return
        self._stopped = True
        exit_code = self.proc.poll()
        died_early = exit_code is not None
        if not died_early:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                exit_code = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._kill()
                exit_code = self.proc.returncode
        if self.proc.stdout:
            self.proc.stdout.close()
        self._stderr.close()
        text = self.stderr_text()
        report = self.sanitizer_report()
        os.unlink(self._stderr_name)
        if report:
            raise HarnessError("sanitizer report in echo_server's stderr:\n" + report[-8000:])
        if died_early:
            raise HarnessError("echo_server had died (exit %s) before stop; stderr:\n%s"
                               % (exit_code, text[-8000:]))
        if exit_code != 0:
            raise HarnessError("echo_server exited with %s on SIGTERM; stderr:\n%s"
                               % (exit_code, text[-8000:]))


class ServerMixin:
    """One echo server per test class, with SERVER_FLAGS; every test fails
    if the server died or a sanitizer reported during it."""

    SERVER_FLAGS = ()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = EchoServer(*cls.SERVER_FLAGS).start()
        cls.port = cls.server.port
        cls.addClassCleanup(cls.server.stop)

    def tearDown(self):
        self.server.check()
        super().tearDown()


class ServerTestCase(ServerMixin, unittest.TestCase):
    pass


class AsyncServerTestCase(ServerMixin, unittest.IsolatedAsyncioTestCase):
    pass


# ---- Frames ----------------------------------------------------------------


def build_frame(opcode, payload=b"", fin=True, rsv1=False, rsv2=False, rsv3=False, mask=True,
                length_form=None, declared_length=None, mask_key=None):
    """Any frame, valid or not.

    length_form: None (minimal), 7, 16 or 64 (force that length encoding).
    declared_length: the length to put in the header (default: len(payload)).
    """
    if isinstance(payload, str):
        payload = payload.encode()
    length = len(payload) if declared_length is None else declared_length
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | (0x20 if rsv2 else 0) | \
         (0x10 if rsv3 else 0) | (opcode & 0x0F)
    mask_bit = 0x80 if mask else 0
    if length_form is None:
        length_form = 7 if length < 126 else 16 if length <= 0xFFFF else 64
    if length_form == 7:
        header = struct.pack("!BB", b0, mask_bit | length)
    elif length_form == 16:
        header = struct.pack("!BBH", b0, mask_bit | 126, length)
    else:
        header = struct.pack("!BBQ", b0, mask_bit | 127, length)
    if not mask:
        return header + payload
    key = mask_key if mask_key is not None else os.urandom(4)
    return header + key + apply_mask(payload, key)


def apply_mask(payload, key):
    if not payload:
        return b""
    n = len(payload)
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")).to_bytes(
        n, "little")


def close_payload(code, reason=b""):
    if isinstance(reason, str):
        reason = reason.encode()
    return struct.pack("!H", code) + reason


def deflate_message(data):
    """permessage-deflate payload of one message (no context takeover)."""
    c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def inflate_message(data):
    d = zlib.decompressobj(-15)
    return d.decompress(data + b"\x00\x00\xff\xff")


class Frame:
    def __init__(self, fin, rsv1, rsv2, rsv3, opcode, masked, payload):
        self.fin, self.rsv1, self.rsv2, self.rsv3 = fin, rsv1, rsv2, rsv3
        self.opcode, self.masked, self.payload = opcode, masked, payload

    @property
    def close_code(self):
        assert self.opcode == OP_CLOSE
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None

    @property
    def close_reason(self):
        assert self.opcode == OP_CLOSE
        return self.payload[2:].decode("utf-8")

    def __repr__(self):
        shown = self.payload[:40]
        return "Frame(op=%#x fin=%d rsv1=%d rsv2=%d rsv3=%d masked=%d len=%d %r%s)" % (
            self.opcode, self.fin, self.rsv1, self.rsv2, self.rsv3, self.masked, len(self.payload),
            shown, "..." if len(self.payload) > 40 else "")


class HttpResponse:
    def __init__(self, status, reason, headers, body, raw_head):
        self.status, self.reason, self.headers, self.body, self.raw_head = \
            status, reason, headers, body, raw_head

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body.decode("utf-8"))


def make_key():
    return base64.b64encode(os.urandom(16)).decode()


def accept_for(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def handshake_request(key=None, path="/", host="127.0.0.1", extensions=None, extra=(),
                      version="13"):
    key = key or make_key()
    lines = ["GET %s HTTP/1.1" % path, "Host: %s" % host, "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Key: %s" % key]
    if version is not None:
        lines.append("Sec-WebSocket-Version: %s" % version)
    if extensions:
        lines.append("Sec-WebSocket-Extensions: %s" % extensions)
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# ---- The raw client ----------------------------------------------------------


class RawClient:
    """A WebSocket client over a plain socket that sends exactly the bytes
    it is told to. Reads block at most `timeout` seconds each."""

    def __init__(self, port, host="127.0.0.1", timeout=DEFAULT_TIMEOUT):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.deflate = False
        self.extensions_header = None

    # -- plumbing

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def abort(self):
        """Closes with RST (SO_LINGER 0) instead of FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out")
        self.sock.settimeout(left)
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError("server closed the connection")
        self.buf += chunk

    def recv_exact(self, n, timeout=None):
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while len(self.buf) < n:
            self._fill(deadline)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def wait_eof(self, timeout=None):
        """Waits for EOF (or RST); returns the seconds it took. Fails if any
        byte arrives before it, or on timeout."""
        start = time.monotonic()
        deadline = start + (timeout if timeout is not None else self.timeout)
        if self.buf:
            raise HarnessError("expected EOF, have unread bytes %r" % bytes(self.buf[:64]))
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HarnessError("no EOF within %.1f s" % (deadline - start))
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return time.monotonic() - start
            if not chunk:
                return time.monotonic() - start
            raise HarnessError("expected EOF, got bytes %r" % chunk[:64])

    # -- HTTP

    def read_http_response(self, timeout=None):
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while b"\r\n\r\n" not in self.buf:
            self._fill(deadline)
        end = self.buf.index(b"\r\n\r\n") + 4
        head = bytes(self.buf[:end])
        del self.buf[:end]
        lines = head[:-4].decode("latin-1").split("\r\n")
        version, status, reason = (lines[0].split(" ", 2) + [""])[:3]
        if version != "HTTP/1.1":
            raise HarnessError("bad status line %r" % lines[0])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = b""
        if "content-length" in headers:
            n = int(headers["content-length"])
            while len(self.buf) < n:
                self._fill(deadline)
            body = bytes(self.buf[:n])
            del self.buf[:n]
        return HttpResponse(int(status), reason, headers, body, head)

    def handshake(self, path="/", extensions=None, extra=(), timeout=None):
        """Opens the WebSocket; returns the 101 response. Fails on anything else."""
        key = make_key()
        self.send(handshake_request(key=key, path=path, extensions=extensions, extra=extra))
        response = self.read_http_response(timeout)
        if response.status != 101:
            raise HarnessError("handshake refused: %d %r" % (response.status, response.body))
        if response.header("sec-websocket-accept") != accept_for(key):
            raise HarnessError("bad Sec-WebSocket-Accept in %r" % response.raw_head)
        if (response.header("upgrade") or "").lower() != "websocket":
            raise HarnessError("bad Upgrade in %r" % response.raw_head)
        if "upgrade" not in (response.header("connection") or "").lower():
            raise HarnessError("bad Connection in %r" % response.raw_head)
        self.extensions_header = response.header("sec-websocket-extensions")
        self.deflate = bool(self.extensions_header and
                            "permessage-deflate" in self.extensions_header)
        return response

    # -- frames

    def send_frame(self, opcode, payload=b"", **kwargs):
        self.send(build_frame(opcode, payload, **kwargs))

    def send_text(self, text, compress=False):
        data = text.encode() if isinstance(text, str) else text
        if compress:
            self.send_frame(OP_TEXT, deflate_message(data), rsv1=True)
        else:
            self.send_frame(OP_TEXT, data)

    def send_binary(self, data):
        self.send_frame(OP_BINARY, data)

    def send_close(self, code=None, reason=b""):
        self.send_frame(OP_CLOSE, b"" if code is None else close_payload(code, reason))

    def read_frame(self, timeout=None):
        deadline_timeout = timeout if timeout is not None else self.timeout
        start = time.monotonic()

        def left():
            return max(0.0, deadline_timeout - (time.monotonic() - start))

        b0, b1 = self.recv_exact(2, deadline_timeout)
        length = b1 & 0x7F
        if length == 126:
            length = struct.unpack("!H", self.recv_exact(2, left()))[0]
        elif length == 127:
            length = struct.unpack("!Q", self.recv_exact(8, left()))[0]
        masked = bool(b1 & 0x80)
        key = self.recv_exact(4, left()) if masked else None
        payload = self.recv_exact(length, left()) if length else b""
        if masked:
            payload = apply_mask(payload, key)
        return Frame(bool(b0 & 0x80), bool(b0 & 0x40), bool(b0 & 0x20), bool(b0 & 0x10),
                     b0 & 0x0F, masked, payload)

    def read_message(self, timeout=None, answer_pings=True):
        """Next data message as (opcode, payload), reassembled and inflated;
        pings are answered, pongs skipped. A close frame raises."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        opcode, parts, compressed = None, [], False
        while True:
            frame = self.read_frame(max(0.0, deadline - time.monotonic()))
            if frame.masked:
                raise HarnessError("server sent a masked frame: %r" % frame)
            if frame.opcode == OP_PING:
                if answer_pings:
                    self.send_frame(OP_PONG, frame.payload)
                continue
            if frame.opcode == OP_PONG:
                continue
            if frame.opcode == OP_CLOSE:
                raise HarnessError("unexpected close frame %r" % frame)
            if opcode is None:
                opcode, compressed = frame.opcode, frame.rsv1
            parts.append(frame.payload)
            if frame.fin:
                data = b"".join(parts)
                if compressed:
                    data = inflate_message(data)
                return opcode, data

    def expect_close(self, timeout=None, skip_data=True):
        """Reads until a close frame (skipping pings and, if allowed, data);
        returns it."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            frame = self.read_frame(max(0.0, deadline - time.monotonic()))
            if frame.masked:
                raise HarnessError("server sent a masked frame: %r" % frame)
            if frame.opcode == OP_CLOSE:
                return frame
            if frame.opcode in (OP_PING, OP_PONG):
                continue
            if not skip_data:
                raise HarnessError("expected a close frame, got %r" % frame)

    def echo(self, text, timeout=None):
        self.send_text(text)
        return self.read_message(timeout)


def open_client(port, extensions=None, timeout=DEFAULT_TIMEOUT):
    client = RawClient(port, timeout=timeout)
    try:
        client.handshake(extensions=extensions)
    except BaseException:
        client.close()
        raise
    return client


def assert_still_serving(test, port, timeout=DEFAULT_TIMEOUT):
    """A fresh client gets its echo (and the close handshake completes)."""
    token = "still-serving-" + base64.b16encode(os.urandom(6)).decode()
    with open_client(port, timeout=timeout) as client:
        opcode, data = client.echo(token)
        test.assertEqual((opcode, data), (OP_TEXT, token.encode()))
        client.send_close(1000)
        frame = client.expect_close(skip_data=False)
        test.assertEqual(frame.close_code, 1000)
        client.wait_eof()
