#!/usr/bin/python3
"""Soak test: the real wsrouter under churn for a long time.

Thousands of clients connect and leave, subscribe and unsubscribe (fresh
channel names included), read slowly, flood pings; publishers publish at a
steady rate through the admin API; the client token rotates the Kubernetes way
while everybody is connected. Every data message every client receives is
checked: per channel, `seq` grows by exactly 1 unless a `gap` announces the
missing range. The router's RSS, descriptors and threads are sampled and must
be flat after the warm-up; the router stays ready and a canary keeps its
stream throughout.

    /usr/bin/python3 tests/soak/soak.py --router build/wsrouter --seconds 60 --clients 600
    make soak        # 30 minutes, 2000 clients (SOAK_SECONDS, SOAK_CLIENTS)

One asyncio process with a minimal WebSocket client of its own (not the
websockets package): a few thousand connections stay affordable on a shared
2-core machine because per-message work is one json.loads and a dict lookup,
and the client can do what a library hides (stop reading, flood pings without
reading, leave rudely).

Exit status 0 when every check passed; 1 with a list of what broke.
"""

import argparse
import asyncio
import base64
import hashlib
import json
import os
import random
import re
import resource
import signal
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e", "router"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

from router_harness import Router, base_config  # noqa: E402
from secrets_tools import SecretDir  # noqa: E402

ENVELOPE = re.compile(rb'\{"type":"([^"]*)","channel":"([^"]*)","seq":(\d+),"ts":\d+,"data":')
CONTROL_TYPES = {b"subscribed", b"gap", b"unsubscribed", b"welcome", b"pong", b"error"}
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
IP_BIND_ADDRESS_NO_PORT = 24  # linux/in.h; not exported by Python's socket module

STEADY_CHANNELS = ["soak:0", "soak:1", "soak:2", "soak:3"]
SLOW_CHANNEL = "slow:feed"
CANARY_CHANNEL = "canary:main"
PUBLISHED = STEADY_CHANNELS + [SLOW_CHANNEL, CANARY_CHANNEL]

# Upper bounds of single waits: generous, because a loaded shared machine can
# stall any process for seconds; none of them is a performance assertion.
HANDSHAKE_TIMEOUT = 30.0
ANSWER_TIMEOUT = 30.0
DRAIN_TIMEOUT = 90.0
CONNECT_SLOTS = 64      # handshakes in flight at once
FD_SLACK = CONNECT_SLOTS + 16


class Failures:
    """Checks that broke, by kind: a count and the first few examples."""

    def __init__(self):
        self.kinds = {}

    def add(self, kind, detail):
        entry = self.kinds.setdefault(kind, [0, []])
        entry[0] += 1
        if len(entry[1]) < 5:
            entry[1].append(detail)

    def __bool__(self):
        return bool(self.kinds)

    def report(self):
        lines = []
        for kind, (count, examples) in sorted(self.kinds.items()):
            lines.append("FAIL %s: %d time(s)" % (kind, count))
            lines.extend("    " + e for e in examples)
        return "\n".join(lines)


class Counters:
    def __init__(self):
        self.delivered = 0        # data messages received, all clients
        self.gaps = 0             # gap notices received
        self.gap_messages = 0     # messages those gaps announced as lost
        self.out_of_order = 0
        self.unannounced = 0
        self.connects = 0         # upgrades completed
        self.leaves = {}          # churner leave mode -> count
        self.subscribes = 0
        self.unsubscribes = 0
        self.junk_channels = 0    # fresh channel names subscribed
        self.flood_bursts = 0
        self.flood_pings = 0
        self.flood_closed_4029 = 0
        self.slow_pauses = 0
        self.published = 0
        self.rotations = 0
        self.max_loop_lag = 0.0


# ---- a minimal WebSocket client ---------------------------------------------


class Refused(Exception):
    def __init__(self, status, head):
        super().__init__("upgrade refused: %s" % head[:200])
        self.status = status


def mask_payload(payload, key):
    n = len(payload)
    if n == 0:
        return b""
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(k, "little")).to_bytes(n, "little")


def client_frame(opcode, payload):
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    key = os.urandom(4)
    return head + key + mask_payload(payload, key)


class WsClient(asyncio.Protocol):
    """One connection. Data messages are checked against the per-channel seq
    rule as they arrive; everything else is handed to the role's hooks."""

    def __init__(self, soak, name, path, token, expect_errors=False):
        loop = asyncio.get_running_loop()
        self.soak, self.name = soak, name
        self.path, self.token = path, token
        self.key = base64.b64encode(os.urandom(16)).decode()
        self.opened = loop.create_future()
        self.welcome = loop.create_future()
        self.closed = loop.create_future()
        self.transport = None
        self.upgraded = False
        self.buf = bytearray()
        self.fragments = None
        self.close_sent = False
        self.close_code = None
        self.last = {}             # channel -> last seq accounted for (data or gap)
        self.finals = {}           # channel -> seq this client must reach at the end
        self.waiters = {}          # request id -> future of its answer
        self.expect_errors = expect_errors
        self.errors = []
        self.pongs = []            # payloads of WebSocket pongs
        self.json_pongs = 0
        self.last_data_at = None
        self.delivered = 0
        self.gaps = 0

    # -- asyncio.Protocol

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n"
                   % (self.path, self.key, self.token))
        transport.write(request.encode())

    def data_received(self, data):
        self.buf += data
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).decode("latin-1")
            status_line = head.split("\r\n", 1)[0]
            parts = status_line.split(" ")
            status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            if status != 101:
                if not self.opened.done():
                    self.opened.set_exception(Refused(status, head + " " + bytes(
                        self.buf[end + 4:end + 300]).decode("latin-1")))
                self.transport.close()
                return
            accept = base64.b64encode(hashlib.sha1(self.key.encode() + GUID).digest()).decode()
            if ("sec-websocket-accept: " + accept.lower()) not in head.lower():
                self.soak.fail("bad_handshake", "%s: 101 without the right "
                               "Sec-WebSocket-Accept: %r" % (self.name, head))
            del self.buf[:end + 4]
            self.upgraded = True
            if not self.opened.done():
                self.opened.set_result(True)
        self._frames()

    def connection_lost(self, exc):
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("connection lost before the upgrade: %r"
                                                      % exc))
        if not self.closed.done():
            self.closed.set_result(self.close_code if self.close_code is not None else 1006)
        for fut in self.waiters.values():
            if not fut.done():
                fut.set_exception(ConnectionError("connection closed (%s)" % self.close_code))
        if not self.welcome.done():
            self.welcome.set_exception(ConnectionError("closed before welcome (%s)"
                                                       % self.close_code))

    # -- frames

    def _frames(self):
        buf = self.buf
        n = len(buf)
        pos = 0
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if n - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2:pos + 4], "big")
                head = 4
            elif length == 127:
                if n - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2:pos + 10], "big")
                head = 10
            if b1 & 0x80:
                self.soak.fail("protocol", "%s: the server sent a masked frame" % self.name)
                self.transport.abort()
                return
            if n - pos < head + length:
                break
            payload = bytes(buf[pos + head:pos + head + length])
            pos += head + length
            opcode, fin = b0 & 0x0F, b0 & 0x80
            if b0 & 0x70:
                self.soak.fail("protocol", "%s: reserved bits set (no extension was offered)"
                               % self.name)
            if opcode == 0x1 or (opcode == 0x0 and self.fragments is not None):
                if opcode == 0x1 and not fin:
                    self.fragments = [payload]
                    continue
                if opcode == 0x0:
                    self.fragments.append(payload)
                    if not fin:
                        continue
                    payload, self.fragments = b"".join(self.fragments), None
                self._text(payload)
            elif opcode == 0x9:
                if not self.close_sent:
                    self.transport.write(client_frame(0xA, payload))
            elif opcode == 0xA:
                self.pongs.append(payload)
            elif opcode == 0x8:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                self.close_code = code
                if not self.close_sent:
                    self.close_sent = True
                    self.transport.write(client_frame(0x8, payload[:2]))
                self.transport.close()
                del buf[:pos]
                return
            else:
                self.soak.fail("protocol", "%s: unexpected frame opcode %d" % (self.name, opcode))
        del buf[:pos]

    def _text(self, payload):
        # Data messages are most of the traffic: their envelope is read with a
        # regex (the router writes type, channel, seq first); anything else,
        # or an envelope in another shape, goes through json.loads.
        m = ENVELOPE.match(payload)
        if m is not None and m.group(1) not in CONTROL_TYPES:
            if not payload.endswith(b"}"):
                self.soak.fail("protocol", "%s: a truncated message: %r" % (self.name,
                                                                           payload[-200:]))
            self._data(m.group(2).decode(), int(m.group(3)))
            return
        try:
            msg = json.loads(payload)
        except ValueError:
            self.soak.fail("protocol", "%s: a text message that is not JSON: %r"
                           % (self.name, payload[:200]))
            return
        kind = msg.get("type")
        if "seq" in msg and "data" in msg and kind not in ("subscribed", "gap"):
            self._data(msg.get("channel"), msg["seq"])
        elif kind == "gap":
            self._gap(msg)
        elif kind == "subscribed":
            channel = msg.get("channel")
            if channel in self.last:
                self.soak.fail("protocol", "%s: subscribed twice to %s" % (self.name, channel))
            self.last[channel] = msg.get("seq", 0)
            self._answer(msg)
        elif kind == "unsubscribed":
            self.last.pop(msg.get("channel"), None)
            self._answer(msg)
        elif kind == "welcome":
            if not self.welcome.done():
                self.welcome.set_result(msg)
        elif kind == "pong":
            self.json_pongs += 1
            self._answer(msg)
        elif kind == "error":
            self.errors.append(msg)
            if not self.expect_errors:
                self.soak.fail("error_answer", "%s: %r" % (self.name, msg))
            self._answer(msg)
        else:
            self.soak.fail("protocol", "%s: unexpected message %r" % (self.name, msg))

    def _answer(self, msg):
        fut = self.waiters.pop(msg.get("id"), None)
        if fut is not None and not fut.done():
            fut.set_result(msg)

    def _data(self, channel, seq):
        counters = self.soak.counters
        counters.delivered += 1
        self.delivered += 1
        self.last_data_at = time.monotonic()
        last = self.last.get(channel)
        if last is None:
            self.soak.fail("unsubscribed_delivery", "%s: %s seq %s while not subscribed to it"
                           % (self.name, channel, seq))
            return
        if seq == last + 1:
            self.last[channel] = seq
            return
        if seq <= last:
            counters.out_of_order += 1
            self.soak.fail("out_of_order", "%s: %s seq %d after %d" % (self.name, channel, seq,
                                                                       last))
            return
        counters.unannounced += 1
        self.soak.fail("unannounced_loss", "%s: %s seq %d after %d, no gap for %d..%d"
                       % (self.name, channel, seq, last, last + 1, seq - 1))
        self.last[channel] = seq

    def _gap(self, msg):
        channel, first, to = msg.get("channel"), msg.get("from"), msg.get("to")
        last = self.last.get(channel)
        if last is None:
            self.soak.fail("unsubscribed_delivery", "%s: gap %r while not subscribed"
                           % (self.name, msg))
            return
        if not isinstance(first, int) or not isinstance(to, int) or first != last + 1 or to < first:
            self.soak.fail("bad_gap", "%s: %r after seq %d (a gap must start right after "
                           "the last message)" % (self.name, msg, last))
            if isinstance(to, int):
                self.last[channel] = max(last, to)
            return
        self.soak.counters.gaps += 1
        self.soak.counters.gap_messages += to - first + 1
        self.gaps += 1
        self.last[channel] = to

    # -- sending

    def send_json(self, obj):
        self.transport.write(client_frame(0x1, json.dumps(obj).encode()))

    def request(self, obj):
        """Sends obj (with an id) and returns a future of its answer."""
        fut = asyncio.get_running_loop().create_future()
        self.waiters[obj["id"]] = fut
        self.send_json(obj)
        return fut

    def send_close(self, code=1000):
        if not self.close_sent and not self.transport.is_closing():
            self.close_sent = True
            self.transport.write(client_frame(0x8, code.to_bytes(2, "big")))

    async def close(self, code=1000, timeout=20.0):
        """The closing handshake; drops the socket if the router does not
        answer within timeout."""
        if self.transport is None or self.closed.done():
            return
        self.send_close(code)
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), timeout)
        except asyncio.TimeoutError:
            self.soak.fail("close_unanswered", "%s: our close frame not answered within %.0f s"
                           % (self.name, timeout))
            self.transport.abort()

    def reached_finals(self):
        return all(self.last.get(c, -1) >= seq for c, seq in self.finals.items())


# ---- admin HTTP -------------------------------------------------------------


class AdminHttp:
    """A keep-alive HTTP/1.1 client on asyncio streams (the sync one in
    router_harness would block the loop that serves thousands of sockets)."""

    def __init__(self, port, token=None):
        self.port, self.token = port, token
        self.reader = self.writer = None

    async def _open(self):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP,
                                                        socket.TCP_NODELAY, 1)

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def request(self, method, path, body=None, timeout=ANSWER_TIMEOUT):
        return await asyncio.wait_for(self._request(method, path, body), timeout)

    async def _request(self, method, path, body):
        data = b"" if body is None else json.dumps(body).encode()
        head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n" % (
            method, path, len(data))
        if self.token:
            head += "Authorization: Bearer %s\r\nContent-Type: application/json\r\n" % self.token
        raw = head.encode() + b"\r\n" + data
        for attempt in (0, 1):
            if self.writer is None:
                await self._open()
            self.writer.write(raw)
            try:
                status_line = await self.reader.readline()
            except ConnectionError:
                status_line = b""
            if not status_line:
                # The server closed an idle keep-alive connection before reading
                # this request: nothing was done, send it again.
                self.close()
                if attempt:
                    raise ConnectionError("admin %s %s: connection closed" % (method, path))
                continue
            status = int(status_line.split()[1])
            length, will_close = 0, False
            while True:
                line = await self.reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
                elif name.strip().lower() == "connection" and "close" in value.lower():
                    will_close = True
            payload = await self.reader.readexactly(length) if length else b""
            if will_close:
                self.close()
            return status, payload


# ---- the soak ---------------------------------------------------------------


class Soak:
    def __init__(self, args):
        self.args = args
        self.failures = Failures()
        self.counters = Counters()
        self.stopping = False       # roles that come and go stop their next cycle
        self.published_stopped = False
        self.samples = []
        self.keepers = []           # clients that must never be dropped
        self.slow_clients = []
        self.subchurners = []
        self.inflight = {}          # token -> handshakes in flight with it
        self.pub_seq = {c: 0 for c in PUBLISHED}
        self.connect_slots = None
        self.t0 = None
        n = args.clients - 1  # one is the canary
        self.n_slow = max(1, n * 5 // 100)
        self.n_subchurn = max(1, n * 20 // 100)
        self.n_churn = max(1, n * 25 // 100)
        self.n_flood = max(1, n * 10 // 100)
        self.n_steady = max(1, n - self.n_slow - self.n_subchurn - self.n_churn - self.n_flood)
        self.junk_per_subchurner = 3

    def fail(self, kind, detail):
        self.failures.add(kind, "[t=%.1fs] %s" % (self.elapsed(), detail))

    def elapsed(self):
        return time.monotonic() - self.t0 if self.t0 else 0.0

    def log(self, text):
        try:
            print("[%7.1fs] %s" % (self.elapsed(), text), flush=True)
        except OSError:
            pass  # stdout gone (a closed pipe): the run and its verdict go on

    # -- the router

    def router_config(self):
        a = self.args
        return base_config(
            server={"host": "127.0.0.1", "port": 0, "workers": a.workers},
            heartbeat={"interval_ms": 5000, "pong_timeout_ms": 20000, "idle_timeout_ms": 60000,
                       "close_timeout_ms": 2000},
            auth={"mode": "token", "token_file": self.secret.path("tokens"),
                  "secret_check_interval_ms": 1000},
            # Limits on, raised for a few thousand clients spread over
            # 127.0.0.2..254: the per-address tables and the message budget
            # are part of what is soaked.
            limits={"connections_per_address": 64, "connection_attempts_per_minute": 3000,
                    "messages_per_minute": a.budget, "subscriptions_per_connection": 50,
                    "max_connections": 15000},
            log={"level": "info"},
            namespaces={
                "default": {"history_size": 100},
                # Steady readers may lag behind a stalled interpreter: room for that.
                "soak": {"queue_max_messages": 500},
                # Small, so a reader that stops for a second or two loses messages
                # and must be told with a gap.
                "slow": {"policy": "drop_oldest", "queue_max_messages": 8},
                "canary": {"queue_max_messages": 1000},
                "junk": {},
            })

    async def admin_get(self, path):
        http = AdminHttp(self.router.admin_port)
        try:
            return await http.request("GET", path)
        finally:
            http.close()

    async def stats(self):
        status, body = await self.admin_get("/api/v1/stats")
        if status != 200:
            raise RuntimeError("GET /api/v1/stats answered %d" % status)
        return json.loads(body)

    # -- connecting

    def source_address(self, i):
        # Spread over 127.0.0.2..254 so the per-address limits see many clients
        # and no single address runs out of ephemeral ports.
        return "127.0.0.%d" % (2 + i % 253)

    async def connect(self, name, i, path="/ws", rcvbuf=None, expect_errors=False):
        loop = asyncio.get_running_loop()
        token = self.token
        self.inflight[token] = self.inflight.get(token, 0) + 1
        try:
            async with self.connect_slots:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                try:
                    sock.setblocking(False)
                    sock.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                    if rcvbuf is not None:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
                    sock.bind((self.source_address(i), 0))
                    await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1",
                                                                    self.router.port)),
                                           HANDSHAKE_TIMEOUT)
                    _, client = await loop.create_connection(
                        lambda: WsClient(self, name, path, token, expect_errors), sock=sock)
                except BaseException:
                    sock.close()
                    raise
                try:
                    await asyncio.wait_for(asyncio.shield(client.opened), HANDSHAKE_TIMEOUT)
                    await asyncio.wait_for(asyncio.shield(client.welcome), HANDSHAKE_TIMEOUT)
                except BaseException:
                    client.transport.abort()
                    raise
        finally:
            self.inflight[token] -= 1
        self.counters.connects += 1
        return client

    async def connect_or_fail(self, name, i, **kwargs):
        """A connection, or None after recording why the router refused it
        (every refusal is a failure: the limits are raised for the soak and
        the token is always a current one)."""
        try:
            return await self.connect(name, i, **kwargs)
        except Refused as e:
            self.fail("refused", "%s: %s" % (name, e))
        except asyncio.TimeoutError:
            self.fail("connect_timeout", "%s: no upgrade within %.0f s" % (name,
                                                                          HANDSHAKE_TIMEOUT))
        except (ConnectionError, OSError) as e:
            self.fail("connect_error", "%s: %r" % (name, e))
        return None

    async def subscribe(self, client, channels, rid):
        answer = await asyncio.wait_for(
            client.request({"op": "subscribe", "id": rid, "channels": channels}), ANSWER_TIMEOUT)
        if answer.get("type") != "subscribed":
            raise RuntimeError("%s: subscribe %s answered %r" % (client.name, channels, answer))
        # One answer per channel; the rest arrive in order right behind it.
        for c in channels[1:]:
            deadline = time.monotonic() + ANSWER_TIMEOUT
            while c not in client.last:
                if client.closed.done() or time.monotonic() > deadline:
                    raise RuntimeError("%s: no 'subscribed' for %s" % (client.name, c))
                await asyncio.sleep(0.05)
        self.counters.subscribes += len(channels)

    async def sleep_unless_stopping(self, seconds):
        end = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < end:
            await asyncio.sleep(min(0.5, end - time.monotonic()))

    # -- roles

    async def long_lived(self, name, i, channels, rcvbuf=None):
        """A client that stays for the whole run (steady readers, slow readers,
        the canary): losing it is a failure."""
        client = await self.connect_or_fail(name, i, rcvbuf=rcvbuf)
        if client is None:
            return None
        try:
            await self.subscribe(client, channels, 1)
        except (RuntimeError, asyncio.TimeoutError, ConnectionError) as e:
            self.fail("subscribe", "%s: %s" % (name, e))
            client.transport.abort()
            return None
        self.keepers.append(client)
        client.closed.add_done_callback(lambda f: self.dropped(client))
        return client

    def dropped(self, client):
        if not getattr(client, "leaving", False):
            self.fail("long_lived_dropped", "%s closed by the router: code %s"
                      % (client.name, client.close_code))

    async def steady(self, i):
        channels = [STEADY_CHANNELS[i % 4], STEADY_CHANNELS[(i + 1) % 4]]
        await self.long_lived("steady#%d" % i, i, channels)

    async def slow(self, i):
        """Stops reading for a while, then catches up: a small receive buffer
        and a small queue, so the router drops and must say so."""
        client = await self.long_lived("slow#%d" % i, i, [SLOW_CHANNEL, STEADY_CHANNELS[i % 4]],
                                       rcvbuf=4096)
        if client is None:
            return
        self.slow_clients.append(client)
        rng = random.Random(self.args.seed * 7919 + i)
        await asyncio.sleep(rng.uniform(0, 3))
        while not self.stopping and not client.closed.done():
            client.transport.pause_reading()
            client.paused = True
            self.counters.slow_pauses += 1
            # The kernel holds megabytes of a stalled loopback socket, so only
            # a pause of several seconds makes the router drop. The client keeps
            # talking meanwhile (a busy app, not a dead one): the heartbeat
            # wants to hear from it, not to read its pongs.
            pause_end = time.monotonic() + rng.uniform(2.0, 12.0)
            rid = 1000
            while not self.stopping and time.monotonic() < pause_end:
                rid += 1
                client.send_json({"op": "ping", "id": rid})
                await self.sleep_unless_stopping(min(4.0, pause_end - time.monotonic()))
            client.transport.resume_reading()
            client.paused = False
            await self.sleep_unless_stopping(rng.uniform(1.0, 4.0))

    async def churn(self, i):
        """Connects, reads a little, leaves in one of the ways clients leave."""
        rng = random.Random(self.args.seed * 104729 + i)
        await asyncio.sleep(rng.uniform(0, 5))
        n = 0
        while not self.stopping:
            n += 1
            name = "churn#%d.%d" % (i, n)
            mode = rng.choice(["close", "close", "abort", "fin", "close_no_wait",
                               "mid_handshake"])
            if mode == "mid_handshake":
                await self.half_handshake(i, rng)
            else:
                client = await self.connect_or_fail(name, i)
                if client is not None:
                    client.leaving = True
                    try:
                        await self.subscribe(client, [STEADY_CHANNELS[rng.randrange(4)]], 1)
                    except (RuntimeError, asyncio.TimeoutError, ConnectionError) as e:
                        self.fail("subscribe", "%s: %s" % (name, e))
                    await asyncio.sleep(rng.uniform(0.2, 3.0))
                    if client.closed.done():
                        self.fail("churner_dropped", "%s closed by the router: code %s"
                                  % (name, client.close_code))
                    elif mode == "close":
                        await client.close()
                    elif mode == "abort":
                        client.transport.abort()           # RST
                    elif mode == "fin":
                        client.transport.close()           # FIN, no close frame
                    else:
                        client.send_close()                # close frame, then gone
                        client.transport.close()
            self.counters.leaves[mode] = self.counters.leaves.get(mode, 0) + 1
            await asyncio.sleep(rng.uniform(0.1, 1.5))

    async def half_handshake(self, i, rng):
        """Half an upgrade request, then gone: the handshake path's cleanup."""
        loop = asyncio.get_running_loop()
        async with self.connect_slots:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                sock.bind((self.source_address(i), 0))
                await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", self.router.port)),
                                       HANDSHAKE_TIMEOUT)
                await loop.sock_sendall(sock, b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr")
                await asyncio.sleep(rng.uniform(0, 0.5))
            except (OSError, asyncio.TimeoutError) as e:
                self.fail("connect_error", "half-handshake #%d: %r" % (i, e))
            finally:
                sock.close()

    async def subchurn(self, i):
        """Stays connected; subscribes and unsubscribes all the time, to
        published channels and to fresh names nobody publishes on."""
        rng = random.Random(self.args.seed * 15485863 + i)
        name = "subchurn#%d" % i
        client = await self.connect_or_fail(name, i)
        if client is None:
            return
        self.subchurners.append(client)
        self.keepers.append(client)
        client.closed.add_done_callback(lambda f: self.dropped(client))
        rid = 0
        junk = []
        steady = None
        await asyncio.sleep(rng.uniform(0, 2))
        while not self.stopping and not client.closed.done():
            rid += 1
            try:
                if rng.random() < 0.5:
                    if len(junk) >= self.junk_per_subchurner:
                        channel = junk.pop(0)
                        await self.unsubscribe(client, channel, rid)
                    else:
                        channel = "junk:%d-%08x" % (i, rng.getrandbits(32))
                        junk.append(channel)
                        await self.subscribe(client, [channel], rid)
                        self.counters.junk_channels += 1
                else:
                    if steady is None:
                        steady = STEADY_CHANNELS[rng.randrange(4)]
                        await self.subscribe(client, [steady], rid)
                    else:
                        await self.unsubscribe(client, steady, rid)
                        steady = None
            except (RuntimeError, asyncio.TimeoutError, ConnectionError) as e:
                if not client.closed.done():
                    self.fail("subscribe", "%s: %s" % (name, e))
                return
            await self.sleep_unless_stopping(rng.uniform(0.3, 1.5))

    async def unsubscribe(self, client, channel, rid):
        answer = await asyncio.wait_for(
            client.request({"op": "unsubscribe", "id": rid, "channels": [channel]}),
            ANSWER_TIMEOUT)
        if answer.get("type") != "unsubscribed":
            raise RuntimeError("unsubscribe %s answered %r" % (channel, answer))
        self.counters.unsubscribes += 1

    async def flood(self, i):
        """Bursts of pings without reading. WebSocket pings: the router answers
        (at least the latest one) or, past the message budget, closes with
        4029. JSON pings: the same budget, answered one by one."""
        rng = random.Random(self.args.seed * 32452843 + i)
        budget = self.args.budget
        await asyncio.sleep(rng.uniform(0, 5))
        n = 0
        while not self.stopping:
            n += 1
            name = "flood#%d.%d" % (i, n)
            client = await self.connect_or_fail(name, i, expect_errors=True)
            if client is not None:
                client.leaving = True
                if rng.random() < 0.75:
                    await self.ws_ping_burst(client, rng.randint(5, 2 * budget), rng)
                else:
                    count = rng.choice([rng.randint(5, budget // 2),
                                        rng.randint(2 * budget, 3 * budget)])
                    await self.json_ping_burst(client, count, rng)
                if not client.closed.done():
                    await client.close()
            await asyncio.sleep(rng.uniform(0.5, 3.0))

    async def ws_ping_burst(self, client, count, rng):
        self.counters.flood_bursts += 1
        self.counters.flood_pings += count
        client.transport.pause_reading()
        client.transport.write(b"".join(client_frame(0x9, b"f%d" % k) for k in range(count)))
        await asyncio.sleep(rng.uniform(0.2, 3.0))
        client.transport.resume_reading()
        last = b"f%d" % (count - 1)
        # Within the budget the latest ping must be answered. Past it the
        # router may drop pings or close with 4029, but must still answer the
        # closing handshake that follows (flood()).
        wait = ANSWER_TIMEOUT if count <= self.args.budget else 5.0
        deadline = time.monotonic() + wait
        while last not in client.pongs and not client.closed.done():
            if time.monotonic() > deadline:
                if count <= self.args.budget:
                    self.fail("flood_unanswered", "%s: %d WebSocket pings (within the budget), "
                              "the last not answered within %.0f s (%d pongs)"
                              % (client.name, count, wait, len(client.pongs)))
                break
            await asyncio.sleep(0.05)
        if client.closed.done():
            self.check_flood_close(client, count, "WebSocket")
        elif len(client.pongs) > count:
            self.fail("flood_pongs", "%s: %d pongs for %d pings" % (client.name,
                                                                   len(client.pongs), count))

    async def json_ping_burst(self, client, count, rng):
        self.counters.flood_bursts += 1
        self.counters.flood_pings += count
        budget = self.args.budget
        client.transport.pause_reading()
        client.transport.write(b"".join(client_frame(0x1, b'{"op":"ping","id":%d}' % k)
                                        for k in range(count)))
        await asyncio.sleep(rng.uniform(0.2, 3.0))
        client.transport.resume_reading()
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while (client.json_pongs + len(client.errors) < count and not client.closed.done()
               and time.monotonic() < deadline):
            await asyncio.sleep(0.05)
        if client.closed.done():
            self.check_flood_close(client, count, "JSON")
        elif count >= 2 * budget:
            self.fail("flood_not_closed", "%s: %d JSON pings (budget %d a minute) and no 4029 "
                      "within %.0f s" % (client.name, count, budget, ANSWER_TIMEOUT))
        elif client.json_pongs != count:
            self.fail("flood_unanswered", "%s: %d JSON pings under the budget, %d pongs, "
                      "errors %r" % (client.name, count, client.json_pongs, client.errors[:2]))

    def check_flood_close(self, client, count, what):
        code = client.close_code
        if code == 4029 and count > self.args.budget // 2:
            self.counters.flood_closed_4029 += 1
            return
        self.fail("flood_closed", "%s: closed with %s after a burst of %d %s pings (budget %d "
                  "a minute: only a burst over it may be closed, with 4029)"
                  % (client.name, code, count, what, self.args.budget))

    # -- publishers, rotation, sampling

    async def publisher(self):
        """Batches through POST /api/v1/publish/batch on one keep-alive
        connection, every 100 ms, at a fixed rate per channel; every answered
        seq must be the previous one plus 1."""
        http = AdminHttp(self.router.admin_port, self.router.token)
        rates = {c: self.args.rate for c in STEADY_CHANNELS}
        rates[SLOW_CHANNEL] = self.args.slow_rate
        rates[CANARY_CHANNEL] = 5.0
        pad = "x" * self.args.slow_bytes
        start = time.monotonic()
        sent = {c: 0 for c in rates}
        while not self.published_stopped:
            now = time.monotonic()
            batch = []
            for channel, rate in rates.items():
                due = int((now - start) * rate)
                for k in range(sent[channel], due):
                    data = {"k": k, "t": round(time.time(), 3)}
                    if channel == SLOW_CHANNEL:
                        data["pad"] = pad
                    batch.append({"channel": channel, "type": "tick", "data": data})
                sent[channel] = max(sent[channel], due)
            if batch:
                await self.publish_batch(http, batch)
            await asyncio.sleep(0.1)
        http.close()

    async def publish_batch(self, http, batch):
        try:
            status, body = await http.request("POST", "/api/v1/publish/batch",
                                              {"messages": batch})
        except (OSError, asyncio.TimeoutError, ConnectionError, asyncio.IncompleteReadError) as e:
            self.fail("publish", "batch of %d: %r" % (len(batch), e))
            http.close()
            return
        if status != 200:
            self.fail("publish", "batch answered %d: %r" % (status, body[:300]))
            return
        results = json.loads(body)["results"]
        for message, result in zip(batch, results):
            channel = message["channel"]
            expected = self.pub_seq[channel] + 1
            if result.get("seq") != expected:
                self.fail("publish", "%s: expected seq %d, got %r" % (channel, expected, result))
            self.pub_seq[channel] = result.get("seq") or expected
            self.counters.published += 1

    async def probe(self, token):
        """The status of an upgrade with this token (then gone)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.router.port)
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            writer.write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                          "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n"
                          % (key, token)).encode())
            line = await asyncio.wait_for(reader.readline(), HANDSHAKE_TIMEOUT)
            return int(line.split()[1])
        finally:
            writer.transport.abort()

    async def wait_probe(self, token, status, what):
        deadline = time.monotonic() + 30.0
        while True:
            try:
                got = await self.probe(token)
            except (OSError, asyncio.TimeoutError, IndexError, ValueError) as e:
                got = repr(e)
            if got == status:
                return True
            if time.monotonic() > deadline:
                self.fail("rotation", "%s: upgrades with it still answer %s 30 s after the "
                          "Secret changed" % (what, got))
                return False
            await asyncio.sleep(0.2)

    async def rotator(self):
        """The kubelet's way: new and old side by side, clients move to the new
        one, the old one goes. Connected clients must not notice."""
        n = 0
        while not self.stopping:
            await self.sleep_unless_stopping(self.args.rotate_every)
            if self.stopping:
                return
            n += 1
            old, new = self.token, "soak-token-%d-%s" % (n, os.urandom(4).hex())
            self.secret.rotate({"tokens": "%s\n%s\n" % (old, new)})
            if not await self.wait_probe(new, 101, "the new token"):
                return
            self.token = new
            # Old tokens go only once no handshake started with them is still in
            # flight, as a client of a real rotation would have moved on too.
            await asyncio.sleep(1.0)
            while self.inflight.get(old, 0):
                await asyncio.sleep(0.1)
            self.secret.rotate({"tokens": "%s\n" % new})
            if not await self.wait_probe(old, 401, "the removed token"):
                return
            self.counters.rotations += 1
            self.log("token rotated (%d)" % self.counters.rotations)

    def proc_sample(self):
        pid = self.router.proc.pid
        rss_kb = 0
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss_kb = int(line.split()[1])
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        return {"rss_kb": rss_kb, "fds": len(os.listdir("/proc/%d/fd" % pid)),
                "threads": len(os.listdir("/proc/%d/task" % pid)), "cpu_s": round(cpu_s, 1)}

    async def sample(self, phase="load"):
        ready, _ = await self.admin_get("/readyz")
        healthy, _ = await self.admin_get("/healthz")
        stats = await self.stats()
        s = self.proc_sample()   # right after the stats: fds vs connections
        s.update({"t": round(self.elapsed(), 1), "phase": phase, "ready": ready,
                  "healthy": healthy, "connections": connections_of(stats),
                  "channels": channels_of(stats), "delivered": self.counters.delivered})
        self.samples.append(s)
        return s

    async def sampler(self):
        bound = len(PUBLISHED) + self.n_subchurn * (self.junk_per_subchurner + 1) + 16
        while not self.stopping:
            s = await self.sample()
            self.log("rss %6.1f MiB  fds %5d  threads %3d  connections %5d  channels %5d  "
                     "delivered %9d  gaps %6d  lag %.2fs"
                     % (s["rss_kb"] / 1024, s["fds"], s["threads"], s["connections"],
                        s["channels"], s["delivered"], self.counters.gaps,
                        self.counters.max_loop_lag))
            if s["ready"] != 200 or s["healthy"] != 200:
                self.fail("not_ready", "/readyz %s, /healthz %s" % (s["ready"], s["healthy"]))
            if s["channels"] > bound:
                self.fail("channels_unbounded", "%d channels, more than the %d clients can hold "
                          "(channels nobody holds are not removed?)" % (s["channels"], bound))
            # Let I/O that arrived while this interpreter was descheduled be
            # read first: the canary's silence must be the router's.
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            canary = self.canary
            if canary is not None and self.elapsed() > 10:
                silent = time.monotonic() - (canary.last_data_at or 0)
                if silent > self.args.canary_silence:
                    self.fail("canary_silent", "no canary message for %.1f s" % silent)
            self.router.check()
            await self.sleep_unless_stopping(self.args.sample_every)

    async def loop_lag(self):
        """How late the interpreter wakes up: context for any timeout."""
        while not self.published_stopped:
            t = time.monotonic()
            await asyncio.sleep(0.25)
            self.counters.max_loop_lag = max(self.counters.max_loop_lag,
                                             time.monotonic() - t - 0.25)

    # -- the run

    async def run(self):
        try:
            await self._run()
        finally:
            # Whatever ended the run, every loop must see it: asyncio.run()
            # then waits for the tasks it cancels, and a loop still going
            # would keep the router (a child) alive with it.
            self.stopping = self.published_stopped = True

    async def _run(self):
        a = self.args
        self.connect_slots = asyncio.Semaphore(CONNECT_SLOTS)
        self.t0 = time.monotonic()
        self.canary = None
        lag = asyncio.ensure_future(self.loop_lag())
        await self.sample("idle")
        base = self.samples[-1]
        self.log("router pid %d, ws port %d, admin port %d; idle: rss %.1f MiB, fds %d, "
                 "threads %d" % (self.router.proc.pid, self.router.port, self.router.admin_port,
                                 base["rss_kb"] / 1024, base["fds"], base["threads"]))
        self.log("clients: 1 canary, %d steady, %d slow, %d sub/unsub, %d churn, %d ping flood"
                 % (self.n_steady, self.n_slow, self.n_subchurn, self.n_churn, self.n_flood))
        publisher = asyncio.ensure_future(self.publisher())
        self.canary = await self.long_lived("canary", 0, [CANARY_CHANNEL])
        if self.canary is None:
            raise RuntimeError("the canary could not connect")
        roles = []
        for i in range(self.n_steady):
            roles.append(asyncio.ensure_future(self.steady(i)))
        for i in range(self.n_slow):
            roles.append(asyncio.ensure_future(self.slow(self.n_steady + i)))
        for i in range(self.n_subchurn):
            roles.append(asyncio.ensure_future(self.subchurn(2000 + i)))
        for i in range(self.n_churn):
            roles.append(asyncio.ensure_future(self.churn(4000 + i)))
        for i in range(self.n_flood):
            roles.append(asyncio.ensure_future(self.flood(6000 + i)))
        sampler = asyncio.ensure_future(self.sampler())
        rotator = asyncio.ensure_future(self.rotator())

        end = self.t0 + a.seconds
        while time.monotonic() < end:
            await asyncio.sleep(min(1.0, end - time.monotonic()))
            if self.router.proc.poll() is not None:
                self.fail("router_died", "exit %s; stderr:\n%s"
                          % (self.router.proc.returncode, self.router.stderr_text()[-4000:]))
                self.stopping = self.published_stopped = True
                return
        self.load_end = self.elapsed()

        # Wind down: the roles that come and go finish their cycle and leave.
        self.log("load phase over; winding down")
        self.stopping = True
        await self.sample("end")
        await asyncio.wait_for(asyncio.gather(sampler, rotator), DRAIN_TIMEOUT)
        done, pending = await asyncio.wait(roles, timeout=DRAIN_TIMEOUT)
        for task in done:
            if task.exception() is not None:
                self.fail("driver", "a role raised %r" % task.exception())
        if pending:
            self.fail("wind_down", "%d clients still busy %.0f s after the end"
                      % (len(pending), DRAIN_TIMEOUT))
            for task in pending:
                task.cancel()
        for c in self.subchurners:
            c.leaving = True
            await c.close()

        # The tail: a last message on every channel must reach every client
        # still subscribed, or be covered by a gap; a loss at the very end is
        # otherwise invisible.
        self.published_stopped = True
        await publisher
        http = AdminHttp(self.router.admin_port, self.router.token)
        await self.publish_batch(http, [{"channel": c, "type": "end", "data": {"end": True}}
                                        for c in PUBLISHED])
        http.close()
        readers = [c for c in self.keepers if c not in self.subchurners]
        for c in readers:
            if getattr(c, "paused", False):
                c.transport.resume_reading()
            c.finals = {ch: self.pub_seq[ch] for ch in c.last}
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while time.monotonic() < deadline and not all(c.reached_finals() or c.closed.done()
                                                      for c in readers):
            await asyncio.sleep(0.2)
        short = [c for c in readers if not c.reached_finals() and not c.closed.done()]
        for c in short[:5]:
            self.fail("tail_missing", "%s: at %r, the last publications are %r"
                      % (c.name, c.last, c.finals))
        if len(short) > 5:
            self.fail("tail_missing", "... and %d more clients" % (len(short) - 5))
        if self.canary.gaps:
            self.fail("canary_gaps", "the canary (a reader that never stops) got %d gaps"
                      % self.canary.gaps)

        for c in readers:
            c.leaving = True
        await asyncio.gather(*(c.close() for c in readers))
        # Nobody holds the junk channels any more: only the published channels
        # (kept for their history) may remain.
        deadline = time.monotonic() + 30.0
        while True:
            stats = await self.stats()
            if channels_of(stats) <= len(PUBLISHED) and connections_of(stats) == 0:
                break
            if time.monotonic() > deadline:
                self.fail("teardown", "30 s after every client left: %d channels (at most %d "
                          "published ones may stay), %d connections"
                          % (channels_of(stats), len(PUBLISHED), connections_of(stats)))
                break
            await asyncio.sleep(0.2)
        self.final_stats = stats
        # The router's own counts must cover what the clients saw (it may count
        # more: a client that left before reading its gap).
        namespaces = stats["hub"]["namespaces"]
        dropped = sum(ns["dropped"]["slow_consumer"] + ns["dropped"]["conflated"]
                      for ns in namespaces.values())
        gaps_sent = sum(ns["gaps_sent"] for ns in namespaces.values())
        delivered = sum(ns["delivered"] for ns in namespaces.values())
        c = self.counters
        if c.gap_messages > dropped or c.gaps > gaps_sent:
            self.fail("drop_counters", "clients were told of %d gaps, %d messages; the router "
                      "counted %d gaps sent, %d dropped" % (c.gaps, c.gap_messages, gaps_sent,
                                                            dropped))
        if c.delivered > delivered:
            self.fail("delivery_counters", "clients received %d data messages, the router "
                      "counted %d delivered" % (c.delivered, delivered))
        await self.sample("after")
        lag.cancel()

    # -- verdicts

    def check_flat(self):
        """After the warm-up (the first --warmup of the run), the load-phase
        samples are split in two halves by time. Flat means:
          RSS:       max(second half) <= max(first half) + max(margin MiB, margin %)
          fds:       fds minus open connections (what is not an open client
                     socket): max(second half) <= max(first half) + FD_SLACK;
                     and at every sample, fds <= idle fds + clients + FD_SLACK
                     (FD_SLACK: sockets mid-handshake or mid-close, which the
                     connection count does not include; at most CONNECT_SLOTS
                     handshakes are in flight)
          threads:   max(second half) <= max(first half)"""
        a = self.args
        load = [s for s in self.samples if s["phase"] in ("load", "end")]
        warm = a.seconds * a.warmup
        after = [s for s in load if s["t"] >= warm]
        if len(after) < 4:
            self.fail("samples", "only %d samples after the warm-up; sample more often"
                      % len(after))
            return None
        mid = (after[0]["t"] + after[-1]["t"]) / 2
        first = [s for s in after if s["t"] <= mid]
        second = [s for s in after if s["t"] > mid]
        idle = self.samples[0]
        verdict = {}

        def mx(series, key):
            return max(key(s) for s in series)

        rss1, rss2 = mx(first, lambda s: s["rss_kb"]), mx(second, lambda s: s["rss_kb"])
        allowed = max(a.rss_margin_mb * 1024, rss1 * a.rss_margin_pct / 100.0)
        verdict["rss"] = (rss1, rss2)
        if rss2 > rss1 + allowed:
            self.fail("rss_growth", "RSS max %.1f MiB in the second half after warm-up, %.1f MiB "
                      "in the first (allowed +%.1f MiB)" % (rss2 / 1024, rss1 / 1024,
                                                            allowed / 1024))

        def excess(s):
            return s["fds"] - s["connections"]
        fd1, fd2 = mx(first, excess), mx(second, excess)
        verdict["fd_excess"] = (fd1, fd2)
        if fd2 > fd1 + FD_SLACK:
            self.fail("fd_growth", "descriptors that are not connections: max %d in the second "
                      "half, %d in the first" % (fd2, fd1))
        ceiling = idle["fds"] + a.clients + FD_SLACK
        for s in load:
            if s["fds"] > ceiling:
                self.fail("fd_ceiling", "%d descriptors at t=%.0f s with at most %d clients "
                          "(idle: %d)" % (s["fds"], s["t"], a.clients, idle["fds"]))
        th1, th2 = mx(first, lambda s: s["threads"]), mx(second, lambda s: s["threads"])
        verdict["threads"] = (th1, th2)
        if th2 > th1:
            self.fail("thread_growth", "threads: max %d in the second half, %d in the first"
                      % (th2, th1))
        verdict["warm_end"] = first[0]
        verdict["last"] = load[-1]
        return verdict


def self_check():
    """The seq checker must catch what it is there to catch: a checker that
    cannot fail proves nothing. Synthetic messages through a real WsClient."""
    class Recorder:
        def __init__(self):
            self.failures = Failures()
            self.counters = Counters()

        def fail(self, kind, detail):
            self.failures.add(kind, detail)

    def run(lines):
        async def go():
            rec = Recorder()
            client = WsClient(rec, "self-check", "/ws", "t")
            for line in lines:
                client._text(line.encode() if isinstance(line, str) else line)
            return set(rec.failures.kinds)
        return asyncio.run(go())

    def data(seq, channel="c:1"):
        return '{"type":"tick","channel":"%s","seq":%d,"ts":1,"data":{}}' % (channel, seq)

    def gap(first, to, channel="c:1"):
        return ('{"type":"gap","channel":"%s","from":%d,"to":%d,"reason":"slow_consumer"}'
                % (channel, first, to))

    sub = '{"type":"subscribed","id":1,"channel":"c:1","seq":4}'
    unsub = '{"type":"unsubscribed","id":2,"channel":"c:1"}'
    cases = [
        ([sub, data(5), data(6), gap(7, 9), data(10)], set()),
        ([sub, data(5), gap(6, 6), gap(7, 8), data(9)], set()),
        ([sub, data(5), data(7)], {"unannounced_loss"}),
        ([sub, data(5), data(6), data(6)], {"out_of_order"}),
        ([sub, data(6), data(5)], {"unannounced_loss", "out_of_order"}),
        ([sub, data(5), gap(7, 8), data(9)], {"bad_gap"}),
        ([sub, data(5), gap(5, 6), data(7)], {"bad_gap"}),
        ([sub, data(5), unsub, data(6)], {"unsubscribed_delivery"}),
        ([data(1, "c:2")], {"unsubscribed_delivery"}),
        (['{"channel":"c:1","seq":5,"type":"tick","ts":1,"data":{}}', sub, data(5)],
         {"unsubscribed_delivery"}),
    ]
    for lines, expected in cases:
        got = run(lines)
        if got != expected:
            raise AssertionError("seq checker self-check: %r gave %r, expected %r"
                                 % (lines, sorted(got), sorted(expected)))


def connections_of(stats):
    return int(stats["connections"])


def channels_of(stats):
    return int(stats["hub"]["channels"])


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--router", default=os.environ.get("WSROUTER", "build/wsrouter"),
                   help="the wsrouter binary (default: $WSROUTER or build/wsrouter)")
    p.add_argument("--seconds", type=float, default=60, help="length of the load phase")
    p.add_argument("--clients", type=int, default=600,
                   help="client slots: 1 canary, then 40%% steady readers, 5%% slow readers, "
                        "20%% sub/unsub churners, 25%% connect/leave churners, 10%% ping "
                        "flooders")
    p.add_argument("--rate", type=float, default=5.0,
                   help="publications a second on each of the 4 steady channels")
    p.add_argument("--slow-rate", type=float, default=25.0,
                   help="publications a second on the slow readers' channel")
    p.add_argument("--slow-bytes", type=int, default=16000,
                   help="padding of each message on the slow readers' channel")
    p.add_argument("--rotate-every", type=float, default=15.0,
                   help="seconds between token rotations")
    p.add_argument("--budget", type=int, default=600, help="limits.messages_per_minute")
    p.add_argument("--workers", type=int, default=2, help="the router's event loops")
    p.add_argument("--warmup", type=float, default=0.2,
                   help="share of the run before RSS, fds and threads must be flat")
    p.add_argument("--sample-every", type=float, default=None,
                   help="seconds between samples (default: the run / 120, at least 2)")
    p.add_argument("--rss-margin-mb", type=float, default=8.0)
    p.add_argument("--rss-margin-pct", type=float, default=10.0)
    p.add_argument("--canary-silence", type=float, default=15.0,
                   help="longest the canary may go without a message")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--json", help="write the samples and figures to this file")
    args = p.parse_args(argv)
    if args.seed is None:
        args.seed = random.randrange(1 << 30)
    if args.sample_every is None:
        args.sample_every = max(2.0, args.seconds / 120.0)
    if args.clients < 10:
        p.error("--clients must be at least 10")
    return args


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    self_check()
    # Every connection is a descriptor here and in the router (a child: it
    # inherits the raised limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < args.clients + 256:
        # The driver and the router each hold one end of every connection: a
        # smaller soak beats none on a machine with a low hard limit.
        fit = hard - 256
        if fit < 100:
            print("RLIMIT_NOFILE %d is too low for a soak (100 clients need 356)" % hard)
            return 2
        print("RLIMIT_NOFILE %d: %d clients instead of %d" % (hard, fit, args.clients))
        args.clients = fit
    os.environ["WSROUTER"] = args.router
    soak = Soak(args)
    soak.secret = SecretDir()
    soak.token = "soak-token-0-%s" % os.urandom(4).hex()
    soak.secret.rotate({"tokens": soak.token + "\n"})
    soak.router = Router(soak.router_config())
    print("soak: %s, %.0f s, %d clients, seed %d" % (args.router, args.seconds, args.clients,
                                                      args.seed), flush=True)
    soak.router.start()
    started = time.monotonic()
    try:
        asyncio.run(soak.run())
    except Exception as e:  # the report below still names it
        soak.fail("driver", "%s: %r" % (type(e).__name__, e))
        import traceback
        try:
            traceback.print_exc()
        except OSError:
            pass
    finally:
        try:
            soak.router.stop(signal.SIGTERM, timeout=30.0)
        except AssertionError as e:
            soak.fail("router_exit", str(e)[:4000])
        soak.secret.close()
    verdict = soak.check_flat()
    if soak.counters.rotations == 0 and args.seconds >= 2 * args.rotate_every:
        soak.fail("rotation", "no token rotation completed")
    # A run where nothing was dropped proved nothing about announcing losses.
    if soak.counters.gaps == 0 and args.seconds >= 30 and "driver" not in soak.failures.kinds:
        soak.fail("no_gaps", "the slow readers never made the router drop a message: the "
                  "gap path was not exercised (raise --slow-rate or --slow-bytes)")
    try:
        report(soak, verdict, time.monotonic() - started)
    except OSError:
        pass  # stdout gone; the exit status still tells
    return 1 if soak.failures else 0


def report(soak, verdict, wall):
    c, a = soak.counters, soak.args
    print("\nsamples (t s, phase, RSS MiB, fds, threads, connections, channels, delivered, "
          "router CPU s):")
    for s in soak.samples:
        print("  %7.1f %-5s %7.1f %6d %4d %6d %6d %10d %8.1f"
              % (s["t"], s["phase"], s["rss_kb"] / 1024, s["fds"], s["threads"],
                 s["connections"], s["channels"], s["delivered"], s["cpu_s"]))
    figures = {
        "seconds": a.seconds, "clients": a.clients, "wall_seconds": round(wall, 1),
        "published": c.published, "delivered": c.delivered, "gaps": c.gaps,
        "gap_messages": c.gap_messages, "out_of_order": c.out_of_order,
        "unannounced_losses": c.unannounced, "connects": c.connects, "leaves": c.leaves,
        "subscribes": c.subscribes, "unsubscribes": c.unsubscribes,
        "junk_channels": c.junk_channels, "flood_bursts": c.flood_bursts,
        "flood_pings": c.flood_pings, "flood_closed_4029": c.flood_closed_4029,
        "slow_pauses": c.slow_pauses, "rotations": c.rotations,
        "max_loop_lag_s": round(c.max_loop_lag, 2), "seed": a.seed,
    }
    if verdict:
        w, last = verdict["warm_end"], verdict["last"]
        keys = ("t", "rss_kb", "fds", "threads", "connections", "cpu_s")
        figures["warm_end"] = {k: w[k] for k in keys}
        figures["end"] = {k: last[k] for k in keys}
        figures["flat"] = {"rss_kb_max_halves": verdict["rss"],
                           "fd_excess_max_halves": verdict["fd_excess"],
                           "threads_max_halves": verdict["threads"]}
    stats = getattr(soak, "final_stats", None)
    if stats is not None:
        figures["router_stats"] = stats
    print("\nfigures: " + json.dumps({k: v for k, v in figures.items() if k != "router_stats"}))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"figures": figures, "samples": soak.samples}, f, indent=1)
    if soak.failures:
        print("\nSOAK FAILED\n" + soak.failures.report())
    else:
        print("\nSOAK PASSED: %d messages delivered in order, %d gaps announcing %d dropped "
              "messages, 0 out of order, 0 unannounced; RSS, descriptors and threads flat"
              % (c.delivered, c.gaps, c.gap_messages))


if __name__ == "__main__":
    sys.exit(main())
