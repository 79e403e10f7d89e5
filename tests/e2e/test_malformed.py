"""Malformed handshakes and frames against the echo server: each must get
its exact HTTP refusal or close code, and the server must go on serving."""

import random
import select
import socket
import threading
import time
import unittest
import zlib

from harness import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT,
                     RawClient, ServerTestCase, assert_still_serving, build_frame, close_payload,
                     accept_for, deflate_message, handshake_request, inflate_message, make_key,
                     open_client)

DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"


class HandshakeRefusals(ServerTestCase):
    SERVER_FLAGS = ("--max-header", "2048", "--handshake-timeout-ms", "400",
                    "--close-timeout-ms", "1000")

    def refused(self, request, status):
        """Sends `request` raw; asserts the status, the JSON error body and
        that the server then closes the connection."""
        with RawClient(self.port) as client:
            client.send(request)
            response = client.read_http_response()
            self.assertEqual(response.status, status, response.raw_head)
            self.assertEqual((response.header("content-type") or "").split(";")[0],
                             "application/json")
            body = response.json()
            self.assertEqual(body["error"]["code"], "BAD_HANDSHAKE", body)
            self.assertIsInstance(body["error"]["message"], str)
            self.assertTrue(body["error"]["message"])
            self.assertIsNone(response.header("sec-websocket-accept"))
            client.wait_eof()
            assert_still_serving(self, self.port)
            return response

    @staticmethod
    def request(lines):
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def base_lines(self, key=None):
        return ["GET / HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade",
                "Sec-WebSocket-Key: %s" % (key or make_key()), "Sec-WebSocket-Version: 13"]

    def without(self, prefix):
        return [l for l in self.base_lines() if not l.startswith(prefix)]

    def replaced(self, prefix, line):
        return [line if l.startswith(prefix) else l for l in self.base_lines()]

    def test_valid_request_is_accepted(self):
        # The baseline the refusals below each break in one place.
        with RawClient(self.port) as client:
            key = make_key()
            client.send(self.request(self.base_lines(key)))
            response = client.read_http_response()
            self.assertEqual(response.status, 101)

    def test_not_get(self):
        self.refused(self.request(self.replaced("GET", "POST / HTTP/1.1")), 400)

    def test_not_http_1_1(self):
        self.refused(self.request(self.replaced("GET", "GET / HTTP/1.0")), 400)

    def test_missing_host(self):
        self.refused(self.request(self.without("Host:")), 400)

    def test_upgrade_not_websocket(self):
        self.refused(self.request(self.replaced("Upgrade:", "Upgrade: h2c")), 400)

    def test_missing_upgrade(self):
        self.refused(self.request(self.without("Upgrade:")), 400)

    def test_connection_without_upgrade_token(self):
        self.refused(self.request(self.replaced("Connection:", "Connection: keep-alive")), 400)

    def test_missing_key(self):
        self.refused(self.request(self.without("Sec-WebSocket-Key:")), 400)

    def test_bad_keys(self):
        import base64
        bad = ["not base64 at all!!!", "",
               base64.b64encode(b"x" * 15).decode(),  # 15 bytes
               base64.b64encode(b"x" * 17).decode(),  # 17 bytes
               base64.b64encode(b"x" * 16).decode()[:-2] + "%%"]
        for key in bad:
            with self.subTest(key=key):
                self.refused(self.request(self.replaced("Sec-WebSocket-Key:",
                                                        "Sec-WebSocket-Key: " + key)), 400)

    def test_missing_version(self):
        response = self.refused(self.request(self.without("Sec-WebSocket-Version:")), 426)
        self.assertEqual(response.header("sec-websocket-version"), "13")

    def test_other_version(self):
        for version in ("8", "12", "14"):
            with self.subTest(version=version):
                response = self.refused(self.request(self.replaced(
                    "Sec-WebSocket-Version:", "Sec-WebSocket-Version: " + version)), 426)
                self.assertEqual(response.header("sec-websocket-version"), "13")

    def test_header_too_large(self):
        lines = self.base_lines() + ["X-Padding: " + "p" * 3000]
        self.refused(self.request(lines), 431)

    def test_header_limit_boundary(self):
        for size, status in ((2047, 101), (2048, 101), (2049, 431)):
            with self.subTest(size=size):
                pad = size - len(handshake_request(extra=["X-Pad: "]))
                request = handshake_request(extra=["X-Pad: " + "p" * pad])
                self.assertEqual(len(request), size)
                with RawClient(self.port) as client:
                    client.send(request)
                    self.assertEqual(client.read_http_response().status, status)

    def test_header_too_large_before_head_ends(self):
        # Never-ending head: refused as soon as it passes the limit.
        head = ("\r\n".join(self.base_lines()) + "\r\nX-Padding: " + "p" * 3000).encode()
        self.refused(head, 431)

    def test_handshake_timeout_drops_connection(self):
        with RawClient(self.port) as client:
            client.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            start = time.monotonic()
            took = client.wait_eof(timeout=5)
            elapsed = time.monotonic() - start
            self.assertLess(took, 5)
            # --handshake-timeout-ms 400: not before (some slack for the clock).
            self.assertGreaterEqual(elapsed, 0.3)
        assert_still_serving(self, self.port)


class SlowLoris(ServerTestCase):
    SERVER_FLAGS = ("--handshake-timeout-ms", "2000")

    def test_200_half_open_sockets(self):
        sockets = []
        try:
            for i in range(200):
                s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                # Half of them send a partial head, half send nothing at all.
                if i % 2 == 0:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: web")
                sockets.append(s)
            assert_still_serving(self, self.port)
            # ...served while every loris socket is still waiting (not yet timed out).
            readable, _, _ = select.select(sockets, [], [], 0)
            self.assertEqual(readable, [], "loris sockets were dropped before the client was served")
            # Then every loris socket is dropped, with no byte sent to it.
            deadline = time.monotonic() + 6
            for s in sockets:
                s.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    data = s.recv(100)
                except ConnectionResetError:
                    data = b""
                self.assertEqual(data, b"")
        finally:
            for s in sockets:
                s.close()
        assert_still_serving(self, self.port)


class FrameRules(ServerTestCase):
    SERVER_FLAGS = ("--max-message", "1048576", "--close-timeout-ms", "1000")

    def expect_failure(self, client, code, timeout=5):
        frame = client.expect_close(timeout=timeout, skip_data=False)
        self.assertEqual(frame.close_code, code, frame)
        self.assertFalse(frame.masked)
        self.assertTrue(frame.fin)
        # Our close frame was the last word: half-close, then drop.
        client.wait_eof(timeout=timeout)

    def check(self, frames, code, extensions=None):
        """Opens a connection, sends `frames` (bytes), expects close `code`
        then EOF, and a fresh client still served."""
        with open_client(self.port, extensions=extensions) as client:
            if extensions:
                self.assertTrue(client.deflate, client.extensions_header)
            client.send(frames)
            self.expect_failure(client, code)
        assert_still_serving(self, self.port)

    # -- 1002

    def test_unmasked_frame(self):
        self.check(build_frame(OP_TEXT, b"hello", mask=False), 1002)

    def test_unmasked_close_frame(self):
        self.check(build_frame(OP_CLOSE, close_payload(1000), mask=False), 1002)

    def test_rsv1_without_negotiated_deflate(self):
        self.check(build_frame(OP_TEXT, deflate_message(b"hello"), rsv1=True), 1002)

    def test_rsv1_on_control_frame_with_deflate(self):
        self.check(build_frame(OP_PING, b"x", rsv1=True), 1002, extensions=DEFLATE_OFFER)

    def test_rsv1_on_continuation_with_deflate(self):
        frames = build_frame(OP_TEXT, b"a", fin=False) + build_frame(OP_CONT, b"b", rsv1=True)
        self.check(frames, 1002, extensions=DEFLATE_OFFER)

    def test_rsv2(self):
        self.check(build_frame(OP_TEXT, b"hello", rsv2=True), 1002)

    def test_rsv3(self):
        self.check(build_frame(OP_TEXT, b"hello", rsv3=True), 1002)

    def test_reserved_opcodes(self):
        for opcode in list(range(3, 8)) + list(range(0xB, 0x10)):
            with self.subTest(opcode=opcode):
                self.check(build_frame(opcode, b"x"), 1002)

    def test_control_frame_payload_over_125(self):
        for opcode in (OP_PING, OP_PONG, OP_CLOSE):
            with self.subTest(opcode=opcode):
                payload = close_payload(1000, "r" * 124) if opcode == OP_CLOSE else b"p" * 126
                self.assertEqual(len(payload), 126)
                self.check(build_frame(opcode, payload), 1002)

    def test_fragmented_control_frame(self):
        self.check(build_frame(OP_PING, b"a", fin=False) + build_frame(OP_CONT, b"b"), 1002)

    def test_continuation_without_message(self):
        self.check(build_frame(OP_CONT, b"orphan"), 1002)

    def test_new_data_frame_inside_fragmented_message(self):
        for second in (OP_TEXT, OP_BINARY):
            with self.subTest(second=second):
                frames = build_frame(OP_TEXT, b"first", fin=False) + build_frame(second, b"x")
                self.check(frames, 1002)

    def test_non_minimal_16_bit_length(self):
        self.check(build_frame(OP_BINARY, b"x" * 5, length_form=16), 1002)

    def test_non_minimal_16_bit_length_125(self):
        self.check(build_frame(OP_BINARY, b"x" * 125, length_form=16), 1002)

    def test_non_minimal_64_bit_length(self):
        self.check(build_frame(OP_BINARY, b"x" * 200, length_form=64), 1002)

    def test_64_bit_length_with_top_bit(self):
        frame = build_frame(OP_BINARY, b"", length_form=64, declared_length=(1 << 63) | 10)
        self.check(frame, 1002)

    def test_close_with_one_byte_body(self):
        self.check(build_frame(OP_CLOSE, b"\x03"), 1002)

    def test_close_with_invalid_codes(self):
        for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535):
            with self.subTest(code=code):
                self.check(build_frame(OP_CLOSE, close_payload(code)), 1002)

    def test_close_with_valid_codes_is_echoed(self):
        for code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4000, 4999):
            with self.subTest(code=code):
                with open_client(self.port) as client:
                    client.send_close(code, "bye")
                    frame = client.expect_close(skip_data=False)
                    self.assertEqual(frame.close_code, code)
                    client.wait_eof()

    def test_empty_close_is_answered(self):
        with open_client(self.port) as client:
            client.send_close()
            frame = client.expect_close(skip_data=False)
            # 1005 must never go on the wire: an empty close, or 1000.
            self.assertIn(frame.close_code, (None, 1000), frame)
            client.wait_eof()

    # -- 1007

    def test_invalid_utf8_text(self):
        self.check(build_frame(OP_TEXT, b"ok \xc3\x28 bad"), 1007)

    def test_overlong_and_surrogate_utf8(self):
        for bad in (b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xff"):
            with self.subTest(bad=bad):
                self.check(build_frame(OP_TEXT, b"a" + bad + b"z"), 1007)

    def test_text_ending_inside_utf8_sequence(self):
        self.check(build_frame(OP_TEXT, b"abc\xe2\x82"), 1007)

    def test_invalid_utf8_fails_fast_on_first_fragment(self):
        # FIN=0 and nothing after it: the close must come without the rest.
        with open_client(self.port) as client:
            client.send(build_frame(OP_TEXT, b"abc\xff", fin=False))
            self.expect_failure(client, 1007, timeout=3)
        assert_still_serving(self, self.port)

    def test_utf8_split_across_fragments_is_valid(self):
        euro = "\u20ac".encode()
        with open_client(self.port) as client:
            client.send(build_frame(OP_TEXT, b"x" + euro[:1], fin=False) +
                        build_frame(OP_CONT, euro[1:2], fin=False) +
                        build_frame(OP_CONT, euro[2:] + b"y"))
            self.assertEqual(client.read_message(), (OP_TEXT, b"x" + euro + b"y"))

    def test_utf8_validation_matches_python(self):
        # Random short byte strings from the bytes that matter to UTF-8,
        # whole or split across two fragments: echoed exactly when Python
        # calls them valid, closed with 1007 otherwise.
        rng = random.Random(20240607)
        pool = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        client = None
        try:
            for _ in range(1000):
                data = bytes(rng.choice(pool) for _ in range(rng.randint(1, 8)))
                try:
                    data.decode("utf-8")
                    valid = True
                except UnicodeDecodeError:
                    valid = False
                cut = rng.randint(0, len(data))
                if rng.random() < 0.5:
                    frames = build_frame(OP_TEXT, data[:cut], fin=False) + \
                        build_frame(OP_CONT, data[cut:])
                else:
                    frames = build_frame(OP_TEXT, data)
                if client is None:
                    client = open_client(self.port)
                client.send(frames)
                frame = client.read_frame()
                if valid:
                    self.assertEqual((frame.opcode, frame.payload), (OP_TEXT, data),
                                     "valid %r (cut %d)" % (data, cut))
                else:
                    self.assertEqual((frame.opcode, frame.close_code), (OP_CLOSE, 1007),
                                     "invalid %r (cut %d): %r" % (data, cut, frame))
                    client.close()
                    client = None
        finally:
            if client:
                client.close()

    def test_invalid_utf8_close_reason(self):
        self.check(build_frame(OP_CLOSE, close_payload(1000) + b"\xff\xfe"), 1007)

    def test_compressed_payload_that_does_not_inflate(self):
        # 0x07: BFINAL=1, BTYPE=11 (reserved): zlib refuses the block.
        self.check(build_frame(OP_BINARY, b"\x07\x00\x00\x00garbage", rsv1=True), 1007,
                   extensions=DEFLATE_OFFER)

    def test_compressed_invalid_utf8_text(self):
        self.check(build_frame(OP_TEXT, deflate_message(b"abc\xff" * 100), rsv1=True), 1007,
                   extensions=DEFLATE_OFFER)

    # -- 1009

    def test_declared_length_over_max_message(self):
        # Only the header: the close must come before any payload.
        frame = build_frame(OP_BINARY, b"", declared_length=(1 << 20) + 1)
        self.check(frame, 1009)

    def test_huge_declared_length(self):
        self.check(build_frame(OP_BINARY, b"", declared_length=1 << 40), 1009)

    def test_max_message_exactly_is_accepted(self):
        data = bytes(range(256)) * 4096  # 1 MiB
        self.assertEqual(len(data), 1 << 20)
        with open_client(self.port, timeout=10) as client:
            client.send_binary(data)
            self.assertEqual(client.read_message(), (OP_BINARY, data))

    def test_compressed_max_message_boundary(self):
        with open_client(self.port, extensions=DEFLATE_OFFER, timeout=10) as client:
            client.send_frame(OP_BINARY, deflate_message(bytes(1 << 20)), rsv1=True)
            self.assertEqual(client.read_message(), (OP_BINARY, bytes(1 << 20)))
        self.check(build_frame(OP_BINARY, deflate_message(bytes((1 << 20) + 1)), rsv1=True), 1009,
                   extensions=DEFLATE_OFFER)

    def test_empty_compressed_messages(self):
        with open_client(self.port, extensions=DEFLATE_OFFER) as client:
            for payload in (b"", b"\x00", deflate_message(b"")):
                client.send_frame(OP_TEXT, payload, rsv1=True)
                self.assertEqual(client.read_message(), (OP_TEXT, b""))

    def test_compressed_fragments_with_empty_fragment(self):
        text = b"hello world " * 100
        payload = deflate_message(text)
        with open_client(self.port, extensions=DEFLATE_OFFER) as client:
            client.send(build_frame(OP_TEXT, payload[:5], rsv1=True, fin=False) +
                        build_frame(OP_CONT, b"", fin=False) + build_frame(OP_CONT, payload[5:]))
            self.assertEqual(client.read_message(), (OP_TEXT, text))

    def test_accumulated_fragments_over_max_message(self):
        piece = b"f" * (400 * 1024)  # each fragment is under the limit, the sum is not
        frames = (build_frame(OP_BINARY, piece, fin=False) +
                  build_frame(OP_CONT, piece, fin=False) + build_frame(OP_CONT, piece))
        self.check(frames, 1009)

    def test_decompression_bomb(self):
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        chunk = bytes(1 << 20)
        parts = [compressor.compress(chunk) for _ in range(50)]  # 50 MiB of zeros
        parts.append(compressor.flush(zlib.Z_SYNC_FLUSH))
        payload = b"".join(parts)
        self.assertTrue(payload.endswith(b"\x00\x00\xff\xff"))
        payload = payload[:-4]
        self.assertLess(len(payload), 1 << 20)  # the wire size is under the limit
        self.check(build_frame(OP_BINARY, payload, rsv1=True), 1009, extensions=DEFLATE_OFFER)

    def test_decompression_bomb_in_fragments(self):
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        chunk = bytes(1 << 20)
        fragments = [compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH)
                     for _ in range(4)]
        frames = build_frame(OP_BINARY, fragments[0], rsv1=True, fin=False)
        frames += b"".join(build_frame(OP_CONT, f, fin=False) for f in fragments[1:])
        frames += build_frame(OP_CONT, b"")
        self.check(frames, 1009, extensions=DEFLATE_OFFER)

    # -- stats

    def test_protocol_errors_are_counted(self):
        # One worker's counter: read it, fail a connection on the same worker, read again.
        with open_client(self.port) as watcher:
            _, before = watcher.echo("!stats")
            before = dict(kv.split("=") for kv in before.decode().split())
            self.assertGreaterEqual(int(before["open"]), 1)
            # Fail connections until one lands on the watcher's worker (2 workers).
            for _ in range(40):
                with open_client(self.port) as bad:
                    bad.send(build_frame(OP_TEXT, b"x", mask=False))
                    self.expect_failure(bad, 1002)
                _, after = watcher.echo("!stats")
                after = dict(kv.split("=") for kv in after.decode().split())
                if int(after["protocol_errors"]) > int(before["protocol_errors"]):
                    break
            self.assertEqual(int(after["protocol_errors"]), int(before["protocol_errors"]) + 1)


class Robustness(ServerTestCase):
    """Valid but awkward input: split anywhere, pipelined, interleaved."""
    SERVER_FLAGS = ("--handshake-timeout-ms", "400", "--close-timeout-ms", "1000")

    def test_byte_at_a_time(self):
        with RawClient(self.port) as client:
            request = handshake_request()
            frames = (build_frame(OP_TEXT, b"split ", fin=False) + build_frame(OP_PING, b"p") +
                      build_frame(OP_CONT, "\u20ac".encode()) +
                      build_frame(OP_BINARY, b"x" * 300))
            for i in range(len(request)):
                client.send(request[i:i + 1])
            self.assertEqual(client.read_http_response().status, 101)
            for i in range(len(frames)):
                client.send(frames[i:i + 1])
            frame = client.read_frame()
            self.assertEqual((frame.opcode, frame.payload), (OP_PONG, b"p"))
            self.assertEqual(client.read_message(), (OP_TEXT, "split \u20ac".encode()))
            self.assertEqual(client.read_message(), (OP_BINARY, b"x" * 300))

    def test_frames_pipelined_behind_the_request(self):
        with RawClient(self.port) as client:
            client.send(handshake_request() + build_frame(OP_TEXT, b"early") +
                        build_frame(OP_TEXT, b"bird"))
            self.assertEqual(client.read_http_response().status, 101)
            self.assertEqual(client.read_message(), (OP_TEXT, b"early"))
            self.assertEqual(client.read_message(), (OP_TEXT, b"bird"))

    def test_close_pipelined_behind_the_request(self):
        # The 101 must come first even when the frames behind the request
        # close the connection in the same read.
        cases = [("protocol error", build_frame(OP_TEXT, b"x", mask=False), 1002, None),
                 ("peer close", build_frame(OP_CLOSE, close_payload(1000)), 1000, ""),
                 ("server close", build_frame(OP_TEXT, b"!close 4000 bye"), 4000, "bye")]
        for name, frames, code, reason in cases:
            with self.subTest(name):
                with RawClient(self.port) as client:
                    client.send(handshake_request() + frames)
                    try:
                        response = client.read_http_response()
                    except EOFError:
                        response = None
                    if response is None:
                        self.fail("no HTTP response before EOF; got only %r" % bytes(client.buf))
                    self.assertEqual(response.status, 101)
                    frame = client.expect_close(skip_data=False)
                    self.assertEqual(frame.close_code, code)
                    if reason is not None:
                        self.assertEqual(frame.close_reason, reason)
                    if code == 4000:
                        client.send_close(4000)
                    client.wait_eof()
                assert_still_serving(self, self.port)

    def test_control_frames_inside_fragmented_message(self):
        with open_client(self.port) as client:
            client.send(build_frame(OP_BINARY, b"a", fin=False) + build_frame(OP_PING, b"1") +
                        build_frame(OP_CONT, b"b", fin=False) + build_frame(OP_PONG, b"") +
                        build_frame(OP_PING, b"2") + build_frame(OP_CONT, b"c"))
            # RFC 6455 5.5.3: a pong not yet sent may answer only the newest
            # ping, so "1" is answered only if its pong left before "2" came.
            pong = client.read_frame()
            self.assertEqual(pong.opcode, OP_PONG)
            if pong.payload == b"1":
                pong = client.read_frame()
            self.assertEqual(pong.payload, b"2")
            self.assertEqual(client.read_message(), (OP_BINARY, b"abc"))

    def test_close_inside_fragmented_message(self):
        with open_client(self.port) as client:
            client.send(build_frame(OP_TEXT, b"half", fin=False) +
                        build_frame(OP_CLOSE, close_payload(1001)))
            frame = client.expect_close(skip_data=False)
            self.assertEqual(frame.close_code, 1001)
            client.wait_eof()

    def test_ping_with_125_bytes(self):
        with open_client(self.port) as client:
            payload = bytes(range(125))
            client.send_frame(OP_PING, payload)
            frame = client.read_frame()
            self.assertEqual((frame.opcode, frame.payload, frame.masked), (OP_PONG, payload, False))

    def test_invalid_utf8_in_later_fragment(self):
        with open_client(self.port) as client:
            client.send(build_frame(OP_TEXT, b"fine", fin=False) +
                        build_frame(OP_CONT, b"\xc3", fin=False))
            client.send(build_frame(OP_CONT, b"\x28"))
            frame = client.expect_close(skip_data=False)
            self.assertEqual(frame.close_code, 1007)
            client.wait_eof()

    def test_header_names_and_tokens_case_insensitive(self):
        key = make_key()
        request = ("GET /ws?x=1 HTTP/1.1\r\nhost: a\r\nupgrade: WebSocket\r\n"
                   "connection: keep-alive, Upgrade\r\nsec-websocket-key: %s\r\n"
                   "sec-websocket-version: 13\r\n\r\n" % key).encode()
        with RawClient(self.port) as client:
            client.send(request)
            response = client.read_http_response()
            self.assertEqual(response.status, 101)
            self.assertEqual(response.header("sec-websocket-accept"), accept_for(key))
            self.assertEqual(client.echo("ok"), (OP_TEXT, b"ok"))

    def test_deflate_offers(self):
        accepted = ["permessage-deflate", "permessage-deflate; client_max_window_bits",
                    "permessage-deflate; client_max_window_bits=10",
                    "permessage-deflate; server_max_window_bits=15",
                    "permessage-deflate; server_max_window_bits=10, "
                    "permessage-deflate; server_max_window_bits=15",
                    "permessage-deflate; server_no_context_takeover",
                    "x-unknown, permessage-deflate",
                    "permessage-deflate; server_max_window_bits=10, permessage-deflate"]
        declined = ["permessage-deflate; unknown_param", "permessage-deflate; server_max_window_bits",
                    "permessage-deflate; server_max_window_bits=10",
                    "permessage-deflate; client_max_window_bits=16",
                    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                    "x-unknown"]
        for offer in accepted + declined:
            with self.subTest(offer=offer):
                with open_client(self.port, extensions=offer) as client:
                    header = client.extensions_header
                    if offer in accepted:
                        self.assertIsNotNone(header)
                        params = [p.strip() for p in header.split(";")]
                        self.assertEqual(params[0], "permessage-deflate")
                        self.assertIn("server_no_context_takeover", params)
                        allowed = {"server_no_context_takeover", "client_no_context_takeover"}
                        # RFC 7692 7.1.2.1: the accepted offer's server window, answered.
                        accepted_offer = [o for o in offer.split(",") if "x-unknown" not in o and
                                          "server_max_window_bits=10" not in o][0]
                        if "server_max_window_bits" in accepted_offer:
                            self.assertIn("server_max_window_bits=15", params)
                            allowed.add("server_max_window_bits=15")
                        self.assertLessEqual(set(params[1:]), allowed)
                        text = "deflated " * 300
                        client.send_text(text, compress=True)
                        frame = client.read_frame()
                        self.assertTrue(frame.rsv1)
                        self.assertEqual(inflate_message(frame.payload).decode(), text)
                    else:
                        self.assertIsNone(header)
                        self.assertEqual(client.echo("x" * 2000), (OP_TEXT, b"x" * 2000))

    def test_handshake_timeout_does_not_apply_once_open(self):
        with open_client(self.port) as client:
            client.sock.settimeout(0.8)  # twice the handshake timeout
            with self.assertRaises(socket.timeout):
                client.sock.recv(1)
            self.assertEqual(client.echo("still open"), (OP_TEXT, b"still open"))

    def test_refused_request_with_trailing_bytes(self):
        # Bytes after a refused head are read and ignored until EOF.
        with RawClient(self.port) as client:
            client.send(handshake_request(version="7") + b"\x81\x85garbage-after-head" * 100)
            response = client.read_http_response()
            self.assertEqual(response.status, 426)
            client.wait_eof()
        assert_still_serving(self, self.port)


    def test_pipelined_large_echoes_while_output_blocks(self):
        # The client sends 7.5 MB of messages before reading any echo: the
        # server's writes block, it queues, and every byte must come back in order.
        messages = [bytes([i]) * (256 * 1024) for i in range(30)]
        frames = b"".join(build_frame(OP_BINARY, m) for m in messages)
        with open_client(self.port, timeout=20) as client:
            error = []

            def send_all():
                try:
                    client.sock.sendall(frames)
                except OSError as e:  # reported below; the reads would time out
                    error.append(e)

            sender = threading.Thread(target=send_all)
            sender.start()
            try:
                for m in messages:
                    self.assertEqual(client.read_message(timeout=20), (OP_BINARY, m))
            finally:
                sender.join(20)
            self.assertEqual(error, [])


class QueueOverflow(ServerTestCase):
    SERVER_FLAGS = ("--max-queued", "1048576")

    def test_overflow_closes_1008(self):
        with open_client(self.port, timeout=10) as client:
            client.send_text("!burst 100 65536")  # 6.4 MB queued in one pass
            frame = client.expect_close(skip_data=True)
            self.assertEqual((frame.close_code, frame.close_reason),
                             (1008, "send queue overflow"))
            client.send_close(1008)
            client.wait_eof()
        assert_still_serving(self, self.port)

    def test_under_limit_is_delivered(self):
        with open_client(self.port, timeout=10) as client:
            client.send_text("!burst 10 65536")
            for _ in range(10):
                self.assertEqual(client.read_message(), (OP_BINARY, b"b" * 65536))


class CloseWithoutDeflateServer(ServerTestCase):
    """--no-deflate: an offer is ignored and RSV1 is a protocol error."""
    SERVER_FLAGS = ("--no-deflate",)

    def test_offer_ignored_and_rsv1_refused(self):
        with open_client(self.port, extensions=DEFLATE_OFFER) as client:
            self.assertIsNone(client.extensions_header)
            client.send(build_frame(OP_TEXT, deflate_message(b"hello"), rsv1=True))
            frame = client.expect_close(skip_data=False)
            self.assertEqual(frame.close_code, 1002)
            client.wait_eof()
        assert_still_serving(self, self.port)


if __name__ == "__main__":
    unittest.main()
