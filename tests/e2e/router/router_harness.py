"""Helpers for the router's end-to-end tests: build/wsrouter as a child
process with a per-test configuration, a publisher on the admin port, and a
JSON-speaking WebSocket client built on tests/e2e/harness.py's raw client.

Every wait is for an event (a line, a message, a status) with a timeout as
an upper bound only; nothing sleeps to synchronise.

    WSROUTER=build/wsrouter /usr/bin/python3 -m unittest discover -s tests/e2e/router -p "test_*.py"
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from harness import (OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, SANITIZER_MARKERS,  # noqa: E402
                     HarnessError, RawClient, handshake_request, make_key)

STEP = 10.0  # seconds: the upper bound of any single wait
TOKEN = "e2e-publisher-token"
SERVING_URLS = re.compile(r"^ws://(\S+):(\d+)/ws$"), re.compile(r"^http://(\S+):(\d+)$")


def log_event(line):
    """The JSON log line's object, or None for a line that is not one."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def router_path():
    path = os.environ.get("WSROUTER")
    if not path:
        raise RuntimeError(
            "WSROUTER is not set: point it at the built router, e.g. WSROUTER=build/wsrouter "
            "/usr/bin/python3 -m unittest discover -s tests/e2e/router -p 'test_*.py'")
    if not os.access(path, os.X_OK):
        raise RuntimeError("WSROUTER=%r is not an executable file" % path)
    return path


def base_config(**sections):
    """A small configuration: free ports, no demo feed, short timings for
    what tests wait on. Keyword arguments replace or add whole sections."""
    config = {
        "server": {"host": "127.0.0.1", "port": 0, "workers": 2},
        "admin": {"host": "127.0.0.1", "port": 0},
        "feed": {"enabled": False},
        "heartbeat": {"close_timeout_ms": 1000},
        "shutdown": {"drain_delay_ms": 0, "close_window_ms": 200},
        # Tests open many connections from 127.0.0.1 in quick succession;
        # test_security.py turns the limits on where it tests them.
        "limits": {"connections_per_address": 0, "connection_attempts_per_minute": 0,
                   "messages_per_minute": 0},
    }
    for name, value in sections.items():
        if isinstance(value, dict) and isinstance(config.get(name), dict):
            merged = dict(config[name])
            merged.update(value)
            config[name] = merged
        else:
            config[name] = value
    return config


class Router:
    """build/wsrouter as a child process.

    config: a dict written as the config file (JSON is YAML), or None to use
    config_path as it is. A publisher token file is always added (unless
    with_token is False). stdout is read by a thread (the router logs there);
    stderr goes to a file checked for sanitizer reports by check() and stop().
    """

    def __init__(self, config=None, config_path=None, env=None, with_token=True,
                 startup_timeout=STEP):
        self.dir = tempfile.mkdtemp(prefix="wsrouter-e2e-")
        self.token = TOKEN
        self.env_extra = dict(env or {})
        self.startup_timeout = startup_timeout
        if config is not None:
            config = json.loads(json.dumps(config))
            if with_token:
                token_file = os.path.join(self.dir, "publishers")
                with open(token_file, "w") as f:
                    f.write("\n  %s  \n" % self.token)
                config.setdefault("admin", {})["publisher_token_file"] = token_file
            config_path = os.path.join(self.dir, "config.yaml")
            with open(config_path, "w") as f:
                json.dump(config, f, indent=1)
        self.config_path = config_path
        self.proc = None
        self.port = self.admin_port = None
        self.stdout_lines = []
        self.stdout_raw = []  # the same lines as the bytes written (before decoding)
        self._stdout_cond = threading.Condition()
        self._stdout_done = False
        self._stderr_name = os.path.join(self.dir, "stderr")
        self._stopped = False
        self._exit_awaited = False  # the test ended it and checked the code
        self.exit_code = None

    # -- lifecycle

    def start(self):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "halt_on_error=1:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        env.update(self.env_extra)
        with open(self._stderr_name, "wb") as stderr:
            self.proc = subprocess.Popen([router_path(), "--config", self.config_path],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=stderr, env=env)
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        line = self.wait_stdout(lambda l: (log_event(l) or {}).get("event") == "serving",
                                self.startup_timeout, "the 'serving' log line")
        event = log_event(line)
        ws = SERVING_URLS[0].match(str(event.get("ws")))
        admin = SERVING_URLS[1].match(str(event.get("admin")))
        if not ws or not admin:
            self.kill()
            raise HarnessError("cannot parse the serving line %r" % line)
        self.port, self.admin_port = int(ws.group(2)), int(admin.group(2))
        return self

    def _read_stdout(self):
        for raw in iter(self.proc.stdout.readline, b""):
            with self._stdout_cond:
                self.stdout_raw.append(raw)
                self.stdout_lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._stdout_cond.notify_all()
        with self._stdout_cond:
            self._stdout_done = True
            self._stdout_cond.notify_all()

    def wait_stdout(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        seen = 0
        with self._stdout_cond:
            while True:
                for line in self.stdout_lines[seen:]:
                    if predicate(line):
                        return line
                seen = len(self.stdout_lines)
                if self._stdout_done:
                    code = self.proc.wait(timeout=STEP)
                    raise HarnessError("wsrouter exited (%s) before %s; stdout:\n%s\nstderr:\n%s"
                                       % (code, what, "\n".join(self.stdout_lines),
                                          self.stderr_text()[-8000:]))
                left = deadline - time.monotonic()
                if left <= 0:
                    self.kill()
                    raise HarnessError("no %s within %.1f s; stderr:\n%s"
                                       % (what, timeout, self.stderr_text()[-8000:]))
                self._stdout_cond.wait(left)

    def stderr_text(self):
        try:
            with open(self._stderr_name, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def sanitizer_report(self):
        text = self.stderr_text()
        return text if any(m in text for m in SANITIZER_MARKERS) else None

    def check(self):
        report = self.sanitizer_report()
        if report:
            raise HarnessError("sanitizer report in wsrouter's stderr:\n" + report[-8000:])
        if self.proc is not None and not self._stopped and self.proc.poll() is not None:
            raise HarnessError("wsrouter died (exit %s); stderr:\n%s"
                               % (self.proc.returncode, self.stderr_text()[-8000:]))

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=STEP)

    def send_signal(self, signum):
        os.kill(self.proc.pid, signum)

    def wait_exit(self, timeout):
        """Waits for the process to end; returns its exit code (kills it and
        fails on timeout)."""
        try:
            code = self.proc.wait(timeout=timeout)
            self._exit_awaited = True
            return code
        except subprocess.TimeoutExpired:
            self.kill()
            raise HarnessError("wsrouter did not exit within %.1f s" % timeout)

    def stop(self, signum=signal.SIGTERM, timeout=10.0):
        """Ends the router by pid (signal, then SIGKILL after timeout); fails
        on a sanitizer report, a crash, or an exit code other than 0."""
        if self.proc is None or self._stopped:
            return
        self._stopped = True
        code = self.proc.poll()
        died_early = code is not None and not self._exit_awaited
        killed = False
        if code is None:
            try:
                os.kill(self.proc.pid, signum)
            except ProcessLookupError:
                pass
            try:
                code = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                killed = True
                code = self.proc.returncode
        self._reader.join(timeout=STEP)
        if self.proc.stdout:
            self.proc.stdout.close()
        self.exit_code = code
        text = self.stderr_text()
        report = self.sanitizer_report()
        shutil.rmtree(self.dir, ignore_errors=True)
        if report:
            raise HarnessError("sanitizer report in wsrouter's stderr:\n" + report[-8000:])
        if died_early:
            raise HarnessError("wsrouter had died (exit %s) before stop; stderr:\n%s"
                               % (code, text[-8000:]))
        if killed:
            raise HarnessError("wsrouter did not exit within %.0f s of signal %d; stderr:\n%s"
                               % (timeout, signum, text[-8000:]))
        if code != 0 and not self._exit_awaited:
            raise HarnessError("wsrouter exited with %s on signal %d (negative: killed by that "
                               "signal); stderr:\n%s" % (code, signum, text[-8000:]))

    # -- clients

    def admin(self, token=None):
        return Admin(self.admin_port, self.token if token is None else token)

    def client(self, path="/ws", **kwargs):
        return RouterClient.connect(self.port, path, **kwargs)


class RouterTestCase(unittest.TestCase):
    """One router per test class (CONFIG: base_config(...)); every test
    fails if the router died or a sanitizer reported during it."""

    CONFIG = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.router = Router(cls.CONFIG if cls.CONFIG is not None else base_config()).start()
        cls.addClassCleanup(cls.router.stop)
        cls.pub = cls.router.admin()
        cls.addClassCleanup(cls.pub.close)

    def setUp(self):
        super().setUp()
        self._clients = []

    def tearDown(self):
        for c in self._clients:
            c.close()
        self.router.check()
        super().tearDown()

    def client(self, path="/ws", **kwargs):
        c = self.router.client(path, **kwargs)
        self._clients.append(c)
        return c

    def subscribed_client(self, channels, since=None, id=1):
        """A /ws client with its welcome read and its subscription answered."""
        c = self.client()
        c.expect_type("welcome")
        c.subscribe(channels, id=id, since=since)
        for _ in channels:
            c.expect_type("subscribed")
        return c


# ---- the admin port ----------------------------------------------------------


class AdminResponse:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "AdminResponse(%d, %r)" % (self.status, self.body[:300])


class Admin:
    """A keep-alive HTTP/1.1 connection to the admin port (one per thread)."""

    def __init__(self, port, token=TOKEN, host="127.0.0.1", timeout=STEP):
        self.host, self.port, self.token, self.timeout = host, port, token, timeout
        self.conn = None

    def _connection(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.conn.connect()
            self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.conn

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None, auth=True):
        """One request; body: bytes, str, or an object sent as JSON."""
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        hdrs = {"Content-Type": "application/json"}
        if auth and self.token is not None:
            hdrs["Authorization"] = "Bearer " + self.token
        hdrs.update(headers or {})
        for attempt in (0, 1):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=hdrs)
                resp = conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection: once more.
                self.close()
                if attempt:
                    raise
                continue
            if resp.will_close:
                self.close()
            return AdminResponse(resp.status, resp.getheaders(), data)

    def get(self, path):
        return self.request("GET", path, auth=False)

    def get_json(self, path):
        r = self.get(path)
        if r.status != 200:
            raise HarnessError("GET %s: %r" % (path, r))
        return r.json()

    def publish(self, channel, data, type=None, key=None, raw_data=None):
        """Publishes; returns the seq (fails on anything but 200). raw_data:
        the JSON text of data, sent exactly as given."""
        r = self.publish_response(channel, data, type=type, key=key, raw_data=raw_data)
        if r.status != 200:
            raise HarnessError("publish to %s: %r" % (channel, r))
        return r.json()["seq"]

    def publish_response(self, channel, data, type=None, key=None, raw_data=None):
        body = '{"channel":%s' % json.dumps(channel)
        if type is not None:
            body += ',"type":%s' % json.dumps(type)
        if key is not None:
            body += ',"key":%s' % json.dumps(key)
        body += ',"data":%s}' % (raw_data if raw_data is not None else json.dumps(data))
        return self.request("POST", "/api/v1/publish", body)

    def publish_batch(self, messages):
        """Publishes a batch; returns the results list (fails on non-200)."""
        r = self.request("POST", "/api/v1/publish/batch", {"messages": messages})
        if r.status != 200:
            raise HarnessError("batch publish: %r" % r)
        return r.json()["results"]

    def stats(self):
        return self.get_json("/api/v1/stats")

    def connections(self):
        return self.get_json("/api/v1/connections")["connections"]

    def connection_of(self, client):
        """The /api/v1/connections entry of one of our clients (by its port)."""
        local = "127.0.0.1:%d" % client.local_port
        for c in self.connections():
            if c["peer"] == local:
                return c
        return None


def wait_until(predicate, timeout=STEP, what="condition", interval=0.01):
    """Polls predicate (a status, an API answer) until it is true; returns
    its value. interval bounds how often an outside view is asked."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise HarnessError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---- the WebSocket client ----------------------------------------------------


class Closed(Exception):
    def __init__(self, code, reason):
        super().__init__("closed %s %r" % (code, reason))
        self.code, self.reason = code, reason


class RouterClient(RawClient):
    """A raw WebSocket client speaking the router's JSON protocol."""

    @classmethod
    def connect(cls, port, path="/ws", rcvbuf=None, timeout=STEP, extra=()):
        client = cls.__new__(cls)
        client.timeout = timeout
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            # Before connect(), so the window offered is small from the start.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(timeout)
        try:
            sock.connect(("127.0.0.1", port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except BaseException:
            sock.close()
            raise
        client.sock = sock
        client.buf = bytearray()
        client.deflate = False
        client.extensions_header = None
        client.local_port = sock.getsockname()[1]
        client.path = path
        if path is not None:
            try:
                client.handshake(path=path, extra=extra)
            except BaseException:
                client.close()
                raise
        return client

    def send_json(self, obj):
        self.send_text(json.dumps(obj))

    def subscribe(self, channels, id=None, since=None):
        msg = {"op": "subscribe", "channels": list(channels)}
        if id is not None:
            msg["id"] = id
        if since is not None:
            msg["since"] = since
        self.send_json(msg)

    def unsubscribe(self, channels, id=None):
        msg = {"op": "unsubscribe", "channels": list(channels)}
        if id is not None:
            msg["id"] = id
        self.send_json(msg)

    def recv_json(self, timeout=None):
        """The next message as a dict; a close frame raises Closed."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            frame = self.read_frame(max(0.0, deadline - time.monotonic()))
            if frame.masked:
                raise HarnessError("server sent a masked frame: %r" % frame)
            if frame.opcode == OP_PING:
                self.send_frame(OP_PONG, frame.payload)
                continue
            if frame.opcode == OP_PONG:
                continue
            if frame.opcode == OP_CLOSE:
                raise Closed(frame.close_code, frame.payload[2:].decode("utf-8", "replace"))
            if frame.opcode != OP_TEXT or not frame.fin or frame.rsv1:
                raise HarnessError("expected one uncompressed text frame, got %r" % frame)
            return json.loads(frame.payload.decode("utf-8"))

    def recv_raw(self, timeout=None):
        """The next text message's exact bytes."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            frame = self.read_frame(max(0.0, deadline - time.monotonic()))
            if frame.opcode in (OP_PING, OP_PONG):
                if frame.opcode == OP_PING:
                    self.send_frame(OP_PONG, frame.payload)
                continue
            if frame.opcode == OP_CLOSE:
                raise Closed(frame.close_code, frame.payload[2:].decode("utf-8", "replace"))
            return frame.payload

    def expect_type(self, type_, timeout=None):
        msg = self.recv_json(timeout)
        if msg.get("type") != type_:
            raise HarnessError("expected a %r message, got %r" % (type_, msg))
        return msg

    def read_until(self, predicate, timeout=None):
        """Messages up to and including the first one matching predicate."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        out = []
        while True:
            msg = self.recv_json(max(0.0, deadline - time.monotonic()))
            out.append(msg)
            if predicate(msg):
                return out

    def request(self, obj, timeout=None):
        """Sends obj and returns the next message (the answer)."""
        self.send_json(obj)
        return self.recv_json(timeout)


def upgrade_response(port, path, extra=(), timeout=STEP):
    """Sends an upgrade request for path; returns the HTTP answer."""
    with RawClient(port, timeout=timeout) as raw:
        raw.send(handshake_request(key=make_key(), path=path, extra=extra))
        return raw.read_http_response()


def is_data(msg, channel=None):
    return ("seq" in msg and "data" in msg and msg.get("type") not in
            ("subscribed", "gap") and (channel is None or msg.get("channel") == channel))
