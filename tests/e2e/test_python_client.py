"""The echo server against a real client: Debian's python3-websockets (10.4),
plus the raw client where the library hides what a test must see.

Run by /usr/bin/python3 (the interpreter that has python3-websockets)."""

import asyncio
import logging
import os
import random
import select
import string
import time
import unittest

import websockets
from websockets.exceptions import ConnectionClosed
from websockets.frames import Opcode

from harness import (OP_BINARY, OP_PING, OP_PONG, OP_TEXT, AsyncServerTestCase,
                     RawClient, ServerTestCase, handshake_request, assert_still_serving, build_frame,
                     inflate_message, open_client)

SIZES = (0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20)
STEP = 10  # seconds: the upper bound of any single await
DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"


def text_of(size, seed=0):
    rng = random.Random(seed * 1_000_003 + size)
    return "".join(rng.choices(string.ascii_letters + string.digits + " ", k=size))


def binary_of(size):
    return os.urandom(size)


def stats_of(text):
    return {k: int(v) for k, v in (kv.split("=") for kv in text.split())}


class ClientMixin:
    def uri(self):
        return "ws://127.0.0.1:%d/" % self.port

    def connect(self, compression="deflate", **kwargs):
        kwargs.setdefault("max_size", None)
        kwargs.setdefault("ping_interval", None)
        kwargs.setdefault("open_timeout", STEP)
        kwargs.setdefault("close_timeout", STEP)
        return websockets.connect(self.uri(), compression=compression, **kwargs)

    async def echo(self, ws, message):
        await asyncio.wait_for(ws.send(message), STEP)
        return await asyncio.wait_for(ws.recv(), STEP)

    def assert_deflate(self, ws, expected):
        names = [e.name for e in ws.extensions]
        if expected:
            self.assertEqual(names, ["permessage-deflate"])
        else:
            self.assertEqual(names, [])


class Echo(ClientMixin, AsyncServerTestCase):
    SERVER_FLAGS = ("--max-message", "2097152", "--close-timeout-ms", "3000")

    async def size_matrix(self, compression):
        async with self.connect(compression=compression) as ws:
            self.assert_deflate(ws, compression is not None)
            for size in SIZES:
                with self.subTest(kind="text", size=size):
                    message = text_of(size)
                    self.assertEqual(await self.echo(ws, message), message)
                with self.subTest(kind="binary", size=size):
                    message = binary_of(size)
                    self.assertEqual(await self.echo(ws, message), message)
            # Compressible payloads: the server sends these compressed.
            for size in (1023, 1024, 1025, 1 << 20):
                with self.subTest(kind="compressible binary", size=size):
                    message = bytes(size)
                    self.assertEqual(await self.echo(ws, message), message)
                with self.subTest(kind="repetitive text", size=size):
                    message = ("abcdefgh" * (size // 8 + 1))[:size]
                    self.assertEqual(await self.echo(ws, message), message)

    async def test_sizes_compression_off(self):
        await self.size_matrix(None)

    async def test_sizes_compression_on(self):
        await self.size_matrix("deflate")

    async def test_a_strict_client_offering_a_server_window(self):
        # websockets fails the handshake when a server_max_window_bits it
        # offered is missing from the response (RFC 7692 7.1.2.1).
        from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
        for bits, deflated in ((15, True), (10, False)):
            with self.subTest(server_max_window_bits=bits):
                factory = ClientPerMessageDeflateFactory(server_max_window_bits=bits)
                async with self.connect(compression=None, extensions=[factory]) as ws:
                    self.assert_deflate(ws, deflated)
                    message = "compressible " * 1000
                    self.assertEqual(await self.echo(ws, message), message)

    async def test_multibyte_text(self):
        message = "price \u20ac 231,40 \u00e9t\u00e9 \u6f22\u5b57 \U0001F600 " * 3000
        for compression in (None, "deflate"):
            with self.subTest(compression=compression):
                async with self.connect(compression=compression) as ws:
                    self.assertEqual(await self.echo(ws, message), message)

    async def test_many_messages_in_order(self):
        for compression in (None, "deflate"):
            with self.subTest(compression=compression):
                async with self.connect(compression=compression) as ws:
                    messages = ["m%d %s" % (i, "x" * (i * 37 % 3000)) for i in range(300)]
                    for m in messages:
                        await asyncio.wait_for(ws.send(m), STEP)
                    for m in messages:
                        self.assertEqual(await asyncio.wait_for(ws.recv(), STEP), m)

    async def test_fragmented_sends(self):
        for compression in (None, "deflate"):
            with self.subTest(compression=compression):
                async with self.connect(compression=compression) as ws:
                    text_parts = ["frag-one ", "", "\u20ac two ", "x" * 70000, " three"]
                    await asyncio.wait_for(ws.send(text_parts), STEP)
                    self.assertEqual(await asyncio.wait_for(ws.recv(), STEP), "".join(text_parts))

                    binary_parts = [b"\x00\x01", os.urandom(65536), bytes(200000), b"end"]
                    await asyncio.wait_for(ws.send(binary_parts), STEP)
                    self.assertEqual(await asyncio.wait_for(ws.recv(), STEP),
                                     b"".join(binary_parts))

                    async def parts():
                        for i in range(50):
                            yield "async-%d;" % i

                    await asyncio.wait_for(ws.send(parts()), STEP)
                    self.assertEqual(await asyncio.wait_for(ws.recv(), STEP),
                                     "".join("async-%d;" % i for i in range(50)))

    async def test_client_ping_is_answered(self):
        async with self.connect() as ws:
            for payload in (b"", b"hello", os.urandom(125)):
                waiter = await asyncio.wait_for(ws.ping(payload), STEP)
                # websockets resolves the waiter only on a pong with this payload.
                await asyncio.wait_for(waiter, STEP)
            self.assertEqual(await self.echo(ws, "after pings"), "after pings")

    async def test_client_close_codes_are_echoed(self):
        for code, reason in ((1000, ""), (1000, "done"), (4000, "going")):
            with self.subTest(code=code, reason=reason):
                ws = await self.connect()
                try:
                    self.assertEqual(await self.echo(ws, "hi"), "hi")
                    start = time.monotonic()
                    await asyncio.wait_for(ws.close(code, reason), STEP)
                    # The server answers and closes TCP: no waiting for timeouts.
                    self.assertLess(time.monotonic() - start, 1.5)
                    self.assertEqual(ws.close_code, code)
                finally:
                    await ws.close()

    async def test_server_initiated_close(self):
        ws = await self.connect()
        try:
            await asyncio.wait_for(ws.send("!close 4000 bye"), STEP)
            with self.assertRaises(ConnectionClosed) as caught:
                await asyncio.wait_for(ws.recv(), STEP)
            self.assertIsNotNone(caught.exception.rcvd)
            self.assertEqual(caught.exception.rcvd.code, 4000)
            self.assertEqual(caught.exception.rcvd.reason, "bye")
            start = time.monotonic()
            await asyncio.wait_for(ws.wait_closed(), STEP)
            # The library answered: the server drops TCP at once, well before
            # its 3 s close timeout.
            self.assertLess(time.monotonic() - start, 1.5)
            self.assertEqual(ws.close_code, 4000)
            self.assertEqual(ws.close_reason, "bye")
        finally:
            await ws.close()

    async def test_server_close_drops_pending_messages(self):
        ws = await self.connect(compression=None)
        try:
            await asyncio.wait_for(ws.send("!close 1000 now"), STEP)
            with self.assertRaises(ConnectionClosed) as caught:
                await asyncio.wait_for(ws.recv(), STEP)
            self.assertEqual(caught.exception.rcvd.code, 1000)
            self.assertEqual(caught.exception.rcvd.reason, "now")
        finally:
            await ws.close()

    async def test_protocol_error_path(self):
        ws = await self.connect(compression=None)
        try:
            self.assertEqual(await self.echo(ws, "before"), "before")
            ws.transport.write(b"\x81\x05hello")  # unmasked: a protocol error
            with self.assertRaises(ConnectionClosed) as caught:
                await asyncio.wait_for(ws.recv(), STEP)
            self.assertEqual(caught.exception.rcvd.code, 1002)
            await asyncio.wait_for(ws.wait_closed(), STEP)
        finally:
            await ws.close()
        async with self.connect() as fresh:
            self.assertEqual(await self.echo(fresh, "after"), "after")


class ServerPings(ClientMixin, AsyncServerTestCase):
    SERVER_FLAGS = ("--ping-interval-ms", "100", "--pong-timeout-ms", "150")

    async def test_library_answers_server_pings(self):
        pings = []

        class Counter(logging.Handler):
            def emit(self, record):
                if record.msg == "< %s" and record.args and \
                        getattr(record.args[0], "opcode", None) is Opcode.PING:
                    pings.append(time.monotonic())

        logger = logging.getLogger("wsr-e2e.server-pings")
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        handler = Counter()
        logger.addHandler(handler)
        try:
            async with self.connect(logger=logger) as ws:
                # Nothing sent by the client for 8 ping intervals: only its
                # automatic pongs keep it alive (pong timeout 150 ms).
                deadline = time.monotonic() + 5
                while len(pings) < 6 and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                self.assertGreaterEqual(len(pings), 6)
                self.assertTrue(ws.open)
                self.assertEqual(await self.echo(ws, "still here"), "still here")
                # Every 100 ms, not in a burst: 5 intervals span at least ~0.5 s
                # (less the delivery delay of the first).
                self.assertGreater(pings[5] - pings[0], 0.3, pings)
        finally:
            logger.removeHandler(handler)


class RawServerPings(ServerTestCase):
    SERVER_FLAGS = ("--ping-interval-ms", "100", "--pong-timeout-ms", "150")

    def test_raw_client_that_answers_stays_open(self):
        with open_client(self.port) as client:
            pings = 0
            deadline = time.monotonic() + 5
            while pings < 5 and time.monotonic() < deadline:
                frame = client.read_frame(timeout=2)
                self.assertEqual(frame.opcode, OP_PING, frame)
                self.assertEqual(frame.payload, b"")
                self.assertFalse(frame.masked)
                client.send_frame(OP_PONG, frame.payload)
                pings += 1
            self.assertEqual(pings, 5)
            self.assertEqual(client.echo("alive"), (OP_TEXT, b"alive"))


class HeartbeatTimeout(ServerTestCase):
    SERVER_FLAGS = ("--ping-interval-ms", "200", "--pong-timeout-ms", "200")

    def test_no_answer_drops_tcp(self):
        with open_client(self.port) as client:
            start = time.monotonic()
            frames = []
            try:
                while True:
                    frames.append(client.read_frame(timeout=5))
            except EOFError:
                pass
            except ConnectionResetError:
                pass
            elapsed = time.monotonic() - start
            self.assertGreaterEqual(len(frames), 1)
            self.assertTrue(all(f.opcode == OP_PING for f in frames), frames)  # no close frame
            self.assertGreaterEqual(elapsed, 0.3)  # ping at 200 ms, then 200 ms of silence
            self.assertLess(elapsed, 3)
        assert_still_serving(self, self.port)

    def test_any_traffic_counts_as_alive(self):
        # Data instead of pongs also proves the peer alive.
        with open_client(self.port) as client:
            start = time.monotonic()
            seen_pings = 0
            while time.monotonic() - start < 1.0:
                client.send_text("tick")
                while True:  # never answers a ping: the data keeps it alive
                    frame = client.read_frame()
                    if frame.opcode == OP_PING:
                        seen_pings += 1
                        continue
                    self.assertEqual((frame.opcode, frame.payload), (OP_TEXT, b"tick"))
                    break
                time.sleep(0.05)  # pacing, well under the pong timeout
            self.assertGreaterEqual(seen_pings, 1)
            self.assertEqual(client.echo("alive"), (OP_TEXT, b"alive"))


class HeartbeatTimeoutLongerThanTheInterval(ServerTestCase):
    # A pong timeout past the ping interval: the next ping waits for the
    # pong (or the timeout); sending it would restart the timeout for ever.
    SERVER_FLAGS = ("--ping-interval-ms", "100", "--pong-timeout-ms", "300")

    def test_no_answer_drops_tcp_after_one_ping(self):
        with open_client(self.port) as client:
            start = time.monotonic()
            frames = []
            try:
                while True:
                    frames.append(client.read_frame(timeout=5))
            except (EOFError, ConnectionResetError):
                pass
            elapsed = time.monotonic() - start
            self.assertEqual([f.opcode for f in frames], [OP_PING])
            self.assertGreaterEqual(elapsed, 0.35)  # ping at 100 ms, then 300 ms of silence
            self.assertLess(elapsed, 3)
        assert_still_serving(self, self.port)


class IdleTimeout(ClientMixin, AsyncServerTestCase):
    SERVER_FLAGS = ("--idle-timeout-ms", "500")

    async def test_idle_close_1000(self):
        ws = await self.connect()
        try:
            start = time.monotonic()
            await asyncio.wait_for(ws.wait_closed(), 5)
            self.assertGreaterEqual(time.monotonic() - start, 0.4)
            self.assertEqual(ws.close_code, 1000)
            self.assertEqual(ws.close_reason, "idle timeout")
        finally:
            await ws.close()

    async def test_activity_keeps_connection(self):
        async with self.connect() as ws:
            start = time.monotonic()
            while time.monotonic() - start < 1.2:  # more than two idle timeouts
                self.assertEqual(await self.echo(ws, "busy"), "busy")
                await asyncio.sleep(0.1)  # pacing, under the idle timeout
            self.assertTrue(ws.open)

    def test_raw_idle_close_frame(self):
        with open_client(self.port) as client:
            frame = client.expect_close(timeout=3, skip_data=False)
            self.assertEqual((frame.close_code, frame.close_reason), (1000, "idle timeout"))
            client.send_close(1000)
            client.wait_eof(timeout=3)


class IdleEqualToPingInterval(ServerTestCase):
    # The default settings ping every 30 s and close after 30 s of silence:
    # the ping must go out first, and a client answering it is not idle.
    SERVER_FLAGS = ("--ping-interval-ms", "200", "--pong-timeout-ms", "2000",
                    "--idle-timeout-ms", "200")

    def test_client_answering_pings_stays_open(self):
        with open_client(self.port) as client:
            pings = 0
            while pings < 5:  # five intervals, each also an idle deadline
                frame = client.read_frame(timeout=3)
                self.assertEqual(frame.opcode, OP_PING,
                                 "closed while answering every ping")
                pings += 1
                client.send_frame(OP_PONG, frame.payload)
            self.assertEqual(client.echo("alive"), (OP_TEXT, b"alive"))


class FlushInterval(ServerTestCase):
    # A batching window holds data frames for up to the interval, then writes
    # each connection's together; control frames never wait for it.
    SERVER_FLAGS = ("--flush-interval-ms", "400")

    def test_data_waits_for_the_window_and_goes_out_together(self):
        with open_client(self.port) as client:
            sent = time.monotonic()
            for i in range(5):
                client.send_text("m%d" % i)
            frames = [client.read_frame(timeout=5) for _ in range(5)]
            waited = time.monotonic() - sent
            self.assertEqual([f.payload for f in frames], [b"m%d" % i for i in range(5)])
            # Lower bound only: a slow machine can delay, never hasten.
            self.assertGreaterEqual(waited, 0.3, "echoes left before the batching window")


class FlushIntervalControlFrames(ServerTestCase):
    # A long window, so that "did not wait for it" has a wide margin.
    SERVER_FLAGS = ("--flush-interval-ms", "2000")

    def test_pong_does_not_wait_for_the_window(self):
        with open_client(self.port) as client:
            client.send_text("held")  # starts a window
            sent = time.monotonic()
            client.send_frame(OP_PING, b"now")
            frame = client.read_frame(timeout=5)
            self.assertEqual((frame.opcode, frame.payload), (OP_PONG, b"now"))
            self.assertLess(time.monotonic() - sent, 1.5, "the pong waited for the window")
            frame = client.read_frame(timeout=5)
            self.assertEqual((frame.opcode, frame.payload), (OP_TEXT, b"held"))


class CloseTimeout(ServerTestCase):
    SERVER_FLAGS = ("--close-timeout-ms", "1000")

    def test_unanswered_close_drops_tcp(self):
        with open_client(self.port) as client:
            client.send_text("!close 4000 bye")
            frame = client.expect_close(skip_data=False)
            self.assertEqual((frame.close_code, frame.close_reason), (4000, "bye"))
            took = client.wait_eof(timeout=5)
            self.assertGreaterEqual(took, 0.8)  # waited for our answer first
            self.assertLess(took, 3)
        assert_still_serving(self, self.port)

    def test_answered_close_drops_tcp_at_once(self):
        with open_client(self.port) as client:
            client.send_text("!close 4000 bye")
            frame = client.expect_close(skip_data=False)
            self.assertEqual(frame.close_code, 4000)
            client.send_close(4000)
            self.assertLess(client.wait_eof(timeout=5), 0.7)  # not the 1 s timeout

    def test_data_after_close_is_ignored(self):
        with open_client(self.port) as client:
            client.send_text("!close 4001 x")
            frame = client.expect_close(skip_data=False)
            self.assertEqual(frame.close_code, 4001)
            client.send_text("not echoed")
            client.send_close(4001)
            client.wait_eof(timeout=3)  # fails on any byte, e.g. an echo


class Abort(ClientMixin, AsyncServerTestCase):
    SERVER_FLAGS = ("--workers", "1", "--close-timeout-ms", "500")

    async def open_count(self, ws):
        return stats_of(await self.echo(ws, "!stats"))["open"]

    async def wait_open_count(self, ws, expected):
        deadline = time.monotonic() + 3
        count = await self.open_count(ws)
        while count != expected and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            count = await self.open_count(ws)
        self.assertEqual(count, expected)

    async def test_client_tcp_abort(self):
        async with self.connect() as watcher:
            await self.wait_open_count(watcher, 1)
            victim = await self.connect()
            await self.wait_open_count(watcher, 2)
            victim.transport.abort()
            await self.wait_open_count(watcher, 1)
            await victim.close()

            # Raw: RST in the middle of a frame, and in the middle of a burst.
            raw = open_client(self.port)
            raw.send(build_frame(OP_TEXT, b"x" * 1000)[:500])
            await self.wait_open_count(watcher, 2)
            raw.abort()
            await self.wait_open_count(watcher, 1)

            raw = open_client(self.port)
            raw.send_text("!burst 100 65536")
            raw.read_frame()  # the burst has started
            raw.abort()
            await self.wait_open_count(watcher, 1)
            self.assertEqual(await self.echo(watcher, "served"), "served")

    async def test_client_fin_without_close(self):
        async with self.connect() as watcher:
            raw = open_client(self.port)
            await self.wait_open_count(watcher, 2)
            raw.close()  # FIN, no close frame
            await self.wait_open_count(watcher, 1)


    async def test_connections_are_released_when_the_peer_lingers(self):
        # Each client below keeps its TCP socket open and silent after the
        # close handshake went wrong; the server must still let go of it.
        async with self.connect() as watcher:
            await self.wait_open_count(watcher, 1)
            lingering = []
            try:
                bad = open_client(self.port)  # protocol error, then silence
                bad.send(build_frame(OP_TEXT, b"x", mask=False))
                self.assertEqual(bad.expect_close(skip_data=False).close_code, 1002)
                lingering.append(bad)

                mute = open_client(self.port)  # never answers the server's close
                mute.send_text("!close 4000 bye")
                self.assertEqual(mute.expect_close(skip_data=False).close_code, 4000)
                lingering.append(mute)

                closer = open_client(self.port)  # closes, then never sends FIN
                closer.send_close(1000)
                self.assertEqual(closer.expect_close(skip_data=False).close_code, 1000)
                lingering.append(closer)

                refused = RawClient(self.port)  # refused, then never sends FIN
                refused.send(handshake_request(version="8"))
                self.assertEqual(refused.read_http_response().status, 426)
                lingering.append(refused)

                # All gone after the 500 ms close timeout (the refused one was never open).
                await self.wait_open_count(watcher, 1)
                for client in lingering:
                    took = client.wait_eof(timeout=3)
                    self.assertLess(took, 3)
                self.assertEqual(await self.echo(watcher, "served"), "served")
            finally:
                for client in lingering:
                    client.close()


class PongBeforeBurst(ServerTestCase):
    COUNT = 400
    SIZE = 65536

    def read_burst(self, client, ping_payload):
        """Reads the whole burst; returns the index of the pong among it."""
        binaries, pong_at = 0, None
        while binaries < self.COUNT:
            frame = client.read_frame(timeout=10)
            if frame.opcode == OP_PONG:
                self.assertIsNone(pong_at, "two pongs")
                self.assertEqual(frame.payload, ping_payload)
                pong_at = binaries
                continue
            self.assertEqual(frame.opcode, OP_BINARY, frame)
            self.assertTrue(frame.fin)
            self.assertEqual(len(frame.payload), self.SIZE)
            self.assertEqual(frame.payload.count(b"b"), self.SIZE)
            binaries += 1
        if pong_at is None:
            frame = client.read_frame(timeout=5)
            self.assertEqual(frame.opcode, OP_PONG, "no pong at all")
            self.fail("the pong came after all %d burst messages" % self.COUNT)
        return pong_at

    def test_pong_in_same_packet(self):
        with open_client(self.port) as client:
            client.send(build_frame(OP_TEXT, b"!burst %d %d" % (self.COUNT, self.SIZE)) +
                        build_frame(OP_PING, b"urgent"))
            pong_at = self.read_burst(client, b"urgent")
            self.assertLess(pong_at, self.COUNT - 1)
            self.assertEqual(client.echo("done"), (OP_TEXT, b"done"))

    def test_pong_after_burst_started(self):
        with open_client(self.port) as client:
            client.send_text("!burst %d %d" % (self.COUNT, self.SIZE))
            # Wait until the burst is on the wire (without reading), then ping.
            ready, _, _ = select.select([client.sock], [], [], 5)
            self.assertTrue(ready)
            client.send_frame(OP_PING, b"late")
            pong_at = self.read_burst(client, b"late")
            self.assertLess(pong_at, self.COUNT - 1)
            self.assertEqual(client.echo("done"), (OP_TEXT, b"done"))


class Broadcast(ClientMixin, AsyncServerTestCase):
    SERVER_FLAGS = ("--workers", "2", "--compress-threshold", "1024")

    async def test_broadcast_to_20_clients(self):
        text = "".join("{\"seq\":%d,\"price\":%d.%02d}" % (i, 200 + i % 7, i % 100)
                       for i in range(200))[:4096]
        self.assertEqual(len(text), 4096)
        libs = []
        raw_deflate = raw_plain = None
        try:
            for i in range(18):
                libs.append(await self.connect(compression="deflate" if i % 2 else None))
            raw_deflate = open_client(self.port, extensions=DEFLATE_OFFER)
            raw_plain = open_client(self.port)
            self.assertTrue(raw_deflate.deflate)
            self.assertFalse(raw_plain.deflate)
            for i, ws in enumerate(libs):
                self.assert_deflate(ws, bool(i % 2))

            # Both workers hold some of the 20 (SO_REUSEPORT spreads them).
            counts = set()
            for ws in libs:
                counts.add(stats_of(await self.echo(ws, "!stats"))["open"])
            self.assertLess(max(counts), 20, "all 20 connections landed on one worker")

            await asyncio.wait_for(libs[0].send("!broadcast " + text), STEP)
            for i, ws in enumerate(libs):
                with self.subTest(client=i):
                    self.assertEqual(await asyncio.wait_for(ws.recv(), STEP), text)

            loop = asyncio.get_running_loop()
            deflated = await loop.run_in_executor(None, raw_deflate.read_frame)
            self.assertEqual(deflated.opcode, OP_TEXT)
            self.assertTrue(deflated.fin)
            self.assertTrue(deflated.rsv1, "deflate client got an uncompressed broadcast")
            self.assertLess(len(deflated.payload), len(text))
            self.assertEqual(inflate_message(deflated.payload).decode(), text)

            plain = await loop.run_in_executor(None, raw_plain.read_frame)
            self.assertEqual(plain.opcode, OP_TEXT)
            self.assertFalse(plain.rsv1, "plain client got RSV1")
            self.assertEqual(plain.payload.decode(), text)

            # Small broadcasts go out uncompressed, to everyone.
            await asyncio.wait_for(libs[1].send("!broadcast small"), STEP)
            for ws in libs:
                self.assertEqual(await asyncio.wait_for(ws.recv(), STEP), "small")
            small = await loop.run_in_executor(None, raw_deflate.read_frame)
            self.assertEqual((small.rsv1, small.payload), (False, b"small"))
            small = await loop.run_in_executor(None, raw_plain.read_frame)
            self.assertEqual((small.rsv1, small.payload), (False, b"small"))
        finally:
            for ws in libs:
                await ws.close()
            for raw in (raw_deflate, raw_plain):
                if raw:
                    raw.close()

    async def test_deflate_echo_is_compressed_on_the_wire(self):
        with open_client(self.port, extensions=DEFLATE_OFFER) as client:
            text = "abc" * 1000
            client.send_text(text)
            frame = client.read_frame()
            self.assertTrue(frame.rsv1)
            self.assertEqual(inflate_message(frame.payload).decode(), text)
            client.send_text("short")
            frame = client.read_frame()
            self.assertEqual((frame.rsv1, frame.payload), (False, b"short"))
            # The client may compress too, even messages below the threshold.
            client.send_text("tiny", compress=True)
            self.assertEqual(client.read_message(), (OP_TEXT, b"tiny"))


if __name__ == "__main__":
    unittest.main()
