"""GET /metrics against the real binary: every series a dashboard needs exists
from the start, the values follow what clients and publishers do (exact
deltas where the router's behaviour fixes them), no label ever names a
dynamic channel, and `promtool check metrics` finds nothing to say about the
text. Every wait polls the scrape for the expected value, with a deadline."""

import json
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from router_harness import (Closed, HarnessError, RouterTestCase, STEP, base_config,  # noqa: E402
                            upgrade_response, wait_until)
from harness import OP_BINARY, RawClient, handshake_request, inflate_message, make_key  # noqa: E402
from secrets_tools import SecretDir  # noqa: E402

PROMTOOL = "/usr/bin/promtool"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

REFUSAL_REASONS = ["bad_handshake", "header_too_large", "handshake_timeout", "draining",
                   "not_found", "not_ready", "connection_cap", "too_many_connections",
                   "too_many_attempts", "address_table_full", "origin_not_allowed",
                   "unauthorized", "forbidden"]
AUTH_REASONS = ["missing", "not_ready", "unknown_token", "malformed", "algorithm_not_allowed",
                "bad_signature", "expired", "not_yet_valid", "wrong_issuer", "wrong_audience",
                "invalid_subject", "too_long"]
CLOSE_CODES = ["1000", "1001", "1002", "1006", "1007", "1008", "1009", "1011", "4001", "4008",
               "4029", "other"]
CLIENT_OPS = ["subscribe", "unsubscribe", "ping", "auth", "resume", "invalid"]
SECRETS = ["client_tokens", "publisher_tokens", "jwt_hs256", "jwt_rs256", "jwt_es256"]
PUBLISH_CODES = ["BAD_REQUEST", "UNAUTHORIZED", "INVALID_CHANNEL", "TOO_LARGE", "UNAVAILABLE",
                 "CHANNEL_LIMIT", "OVERLOADED"]
ENDPOINTS = ["/ws", "/ws/market", "/ws/foreign", "/ws/index"]
FIXED_CHANNELS = ["market", "foreign", "index"]
HISTOGRAMS = ["wsrouter_broadcast_duration_seconds", "wsrouter_publish_to_write_seconds"]


class Scrape:
    """One answer of GET /metrics, parsed: (name, labels) -> value."""

    def __init__(self, text):
        self.text = text
        self.samples = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            m = SAMPLE.match(line)
            if not m:
                raise HarnessError("unparsable metrics line %r" % line)
            labels = frozenset(LABEL.findall(m.group(2) or ""))
            self.samples[(m.group(1), labels)] = float(m.group(3))

    def get(self, name, **labels):
        return self.samples.get((name, frozenset(labels.items())))

    def value(self, name, **labels):
        value = self.get(name, **labels)
        if value is None:
            raise HarnessError("no series %s%r in the scrape" % (name, labels))
        return value

    def label_values(self):
        return {v for (_, labels) in self.samples for (_, v) in labels}


class MetricsMixin:
    def scrape(self):
        r = self.pub.get("/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), CONTENT_TYPE)
        return Scrape(r.body.decode("utf-8"))

    def wait_metric(self, name, expected, **labels):
        """Polls the scrape until name{labels} == expected; returns the scrape."""
        last = []

        def reached():
            s = self.scrape()
            last[:] = [s.get(name, **labels)]
            return s if last[0] == expected else None
        try:
            return wait_until(reached, STEP, "%s%r == %s" % (name, labels, expected), 0.02)
        except HarnessError as e:
            raise HarnessError("%s (last value: %s)" % (e, last[0] if last else None))

    def assert_promtool_clean(self, text):
        result = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode("utf-8"),
                                capture_output=True, timeout=STEP)
        self.assertEqual((result.returncode, result.stdout + result.stderr), (0, b""),
                         "promtool check metrics on:\n" + text[:3000])


# ---- the series that exist before anything happens ---------------------------


class FreshRouter(MetricsMixin, RouterTestCase):
    CONFIG = base_config(limits={"connections_per_address": 0, "connection_attempts_per_minute": 0,
                                 "messages_per_minute": 0, "max_connections": 1234})

    def test_every_series_of_the_catalogue_exists(self):
        """docs/observability.md's metric tables name every series; each is
        in the scrape of a fresh router (a histogram by its _count)."""
        docs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                            "docs", "observability.md")
        with open(docs) as f:
            rows = re.findall(r"^\| `((?:wsrouter|process)_[a-z_]+)` \| (\w+) \|", f.read(),
                              re.MULTILINE)
        self.assertGreater(len(rows), 30)
        names = {name for (name, _) in self.scrape().samples}
        for name, kind in rows:
            wanted = name + "_count" if kind == "histogram" else name
            self.assertIn(wanted, names, "%s (%s) is documented but not exposed" % (name, kind))

    def test_every_known_series_exists_at_zero_and_promtool_is_silent(self):
        s = self.scrape()
        self.assert_promtool_clean(s.text)
        zero = {}
        for endpoint in ENDPOINTS:
            zero[("wsrouter_connections", (("endpoint", endpoint),))] = 0
            zero[("wsrouter_connections_opened_total", (("endpoint", endpoint),))] = 0
        for code in CLOSE_CODES:
            zero[("wsrouter_connections_closed_total", (("code", code),))] = 0
        for reason in REFUSAL_REASONS:
            zero[("wsrouter_connections_refused_total", (("reason", reason),))] = 0
        for reason in AUTH_REASONS:
            zero[("wsrouter_auth_failures_total", (("reason", reason),))] = 0
        for op in CLIENT_OPS:
            zero[("wsrouter_client_messages_total", (("op", op),))] = 0
        for code in PUBLISH_CODES:
            zero[("wsrouter_publish_rejected_total", (("code", code),))] = 0
        for secret in SECRETS:
            for result in ("success", "failure"):
                zero[("wsrouter_token_reloads_total",
                      (("secret", secret), ("result", result)))] = 0
        for channel in FIXED_CHANNELS:
            zero[("wsrouter_channel_subscribers", (("channel", channel),))] = 0
        for ns in ("default", "stock", "sector", "user", "orderbook", "market", "foreign",
                   "index"):
            for name in ("wsrouter_channels", "wsrouter_subscribers", "wsrouter_published_total",
                         "wsrouter_delivered_total", "wsrouter_slow_consumer_disconnects_total",
                         "wsrouter_gaps_sent_total"):
                zero[(name, (("namespace", ns),))] = 0
            for reason in ("slow_consumer", "conflated", "overload"):
                zero[("wsrouter_dropped_total", (("namespace", ns), ("reason", reason)))] = 0
        for name in ("wsrouter_worker_inbox_messages", "wsrouter_worker_inbox_shed_total"):
            zero[(name, (("worker", "0"),))] = 0
        for name in ("wsrouter_heartbeat_timeouts_total", "wsrouter_idle_timeouts_total",
                     "wsrouter_client_rate_limited_total", "wsrouter_client_queued_bytes",
                     "wsrouter_client_queue_depth_max", "wsrouter_clients_write_blocked",
                     "wsrouter_received_bytes_total", "wsrouter_sent_bytes_total",
                     "wsrouter_compression_input_bytes_total",
                     "wsrouter_compression_output_bytes_total",
                     "wsrouter_compressed_deliveries_total",
                     "wsrouter_log_lines_suppressed_total", "wsrouter_spans_exported_total",
                     "wsrouter_resume_sessions_kept_total", "wsrouter_resume_sessions_lost_total",
                     "wsrouter_resume_sessions"):
            zero[(name, ())] = 0
        for reason in ("queue_full", "export_failed"):
            zero[("wsrouter_spans_dropped_total", (("reason", reason),))] = 0
        for result in ("resumed", "failed"):
            zero[("wsrouter_resumes_total", (("result", result),))] = 0
        for histogram in HISTOGRAMS:
            zero[(histogram + "_count", ())] = 0
            zero[(histogram + "_bucket", (("le", "+Inf"),))] = 0
            zero[(histogram + "_bucket", (("le", "0.0001"),))] = 0
            zero[(histogram + "_bucket", (("le", "10"),))] = 0
        zero[("wsrouter_broker_errors_total", (("broker", "memory"),))] = 0
        zero[("wsrouter_broker_reconnects_total", (("broker", "memory"),))] = 0
        zero[("wsrouter_broker_publish_failures_total", (("broker", "memory"),))] = 0
        zero[("wsrouter_broker_command_duration_seconds_count", (("broker", "memory"),))] = 0
        for name in ("replayed", "lost", "epoch_changes", "numbering_conflicts"):
            zero[("wsrouter_broker_%s_total" % name, (("broker", "memory"),))] = 0
        for (name, labels), expected in zero.items():
            self.assertEqual(s.get(name, **dict(labels)), expected, (name, labels))

        self.assertEqual(s.value("wsrouter_connections_max"), 1234)
        self.assertEqual(s.value("wsrouter_ready"), 1)
        self.assertEqual(s.value("wsrouter_broker_up", broker="memory"), 1)
        workers = [v for (name, labels), v in s.samples.items()
                   if name == "wsrouter_event_loop_stall_seconds"]
        self.assertEqual(len(workers), 2)  # base_config: two workers
        self.assertTrue(all(0 <= v < 5 for v in workers), workers)
        build = [dict(labels) for (name, labels) in s.samples if name == "wsrouter_build_info"]
        self.assertEqual(len(build), 1)
        self.assertTrue(re.match(r"^\d+\.\d+\.\d+$", build[0]["version"]), build)
        self.assertTrue(build[0]["revision"] and build[0]["compiler"], build)
        self.assertEqual(s.value("wsrouter_build_info", **build[0]), 1)
        # The process, as every client library reports it.
        self.assertGreater(s.value("process_resident_memory_bytes"), 1 << 20)
        self.assertGreaterEqual(s.value("process_virtual_memory_bytes"),
                                s.value("process_resident_memory_bytes"))
        self.assertGreater(s.value("process_open_fds"), 3)
        self.assertGreaterEqual(s.value("process_max_fds"), s.value("process_open_fds"))
        self.assertGreaterEqual(s.value("process_cpu_seconds_total"), 0)
        started = s.value("process_start_time_seconds")
        self.assertLessEqual(started, time.time() + 1)
        self.assertGreater(started, time.time() - 600)  # this class started it

    def test_only_get_is_answered(self):
        r = self.pub.request("POST", "/metrics", "{}")
        self.assertEqual(r.status, 405, r)
        self.assertEqual(r.header("allow"), "GET")


# ---- values that follow the router ---------------------------------------------


class RouterMetrics(MetricsMixin, RouterTestCase):
    CONFIG = base_config(
        server={"max_header_bytes": 4096, "handshake_timeout_ms": 300},
        admin={"max_publish_bytes": 65536},
        heartbeat={"interval_ms": 0, "pong_timeout_ms": 0, "idle_timeout_ms": 0,
                   "close_timeout_ms": 1000},
        namespaces={"slowns": {"policy": "drop_oldest", "queue_max_messages": 3},
                    "zipped": {"compression_threshold_bytes": 200}})

    def setUp(self):
        super().setUp()
        # The connections of the test before are gone (their closes are
        # asynchronous), so deltas start from a quiet router.
        for endpoint in ENDPOINTS:
            self.wait_metric("wsrouter_connections", 0, endpoint=endpoint)

    def test_connections_subscriptions_and_publications(self):
        before = self.scrape()
        market = self.client("/ws/market")
        market.expect_type("welcome")
        market.expect_type("subscribed")
        ws = self.client("/ws")
        ws.expect_type("welcome")
        ws.subscribe(["stock:MAAPL", "sector:mtech"], id=1)
        ws.expect_type("subscribed")
        ws.expect_type("subscribed")

        def moved(name, n, **labels):
            return self.wait_metric(name, before.value(name, **labels) + n, **labels)
        moved("wsrouter_connections", 1, endpoint="/ws")
        moved("wsrouter_connections", 1, endpoint="/ws/market")
        moved("wsrouter_connections_opened_total", 1, endpoint="/ws")
        moved("wsrouter_connections_opened_total", 1, endpoint="/ws/market")
        moved("wsrouter_subscribers", 1, namespace="stock")
        moved("wsrouter_subscribers", 1, namespace="sector")
        moved("wsrouter_subscribers", 1, namespace="market")
        moved("wsrouter_channel_subscribers", 1, channel="market")
        moved("wsrouter_client_messages_total", 1, op="subscribe")

        for i in range(3):
            seq = self.pub.publish("stock:MAAPL", {"i": i})
            ws.read_until(lambda m, seq=seq: m.get("seq") == seq and "data" in m)
        self.pub.publish("market", {"snapshot": True})
        market.read_until(lambda m: m.get("data") == {"snapshot": True})
        moved("wsrouter_published_total", 3, namespace="stock")
        moved("wsrouter_delivered_total", 3, namespace="stock")
        moved("wsrouter_published_total", 1, namespace="market")
        moved("wsrouter_delivered_total", 1, namespace="market")
        moved("wsrouter_channels", 1, namespace="stock")
        # Once per publication on the one worker that has its subscriber.
        s = moved("wsrouter_broadcast_duration_seconds_count", 4)
        self.assertGreater(s.value("wsrouter_broadcast_duration_seconds_sum"),
                           before.value("wsrouter_broadcast_duration_seconds_sum"))
        # At least one write per publication's flush; writes may gather two.
        wait_until(lambda: self.scrape().value("wsrouter_publish_to_write_seconds_count")
                   >= before.value("wsrouter_publish_to_write_seconds_count") + 2,
                   what="publish-to-write samples")
        s = self.scrape()
        for h in HISTOGRAMS:
            # Cumulative buckets ending at +Inf == _count.
            self.assertEqual(s.value(h + "_bucket", le="+Inf"), s.value(h + "_count"))
            self.assertLessEqual(s.value(h + "_bucket", le="0.0001"), s.value(h + "_count"))
        self.assertGreater(s.value("wsrouter_sent_bytes_total"),
                           before.value("wsrouter_sent_bytes_total"))
        self.assertGreater(s.value("wsrouter_received_bytes_total"),
                           before.value("wsrouter_received_bytes_total"))
        # Bounded cardinality: no label names a dynamic channel.
        for value in s.label_values():
            self.assertNotIn(":", value, value)
            self.assertNotIn("MAAPL", value)
            self.assertNotIn("mtech", value)

        ws.send_close(1000)
        with self.assertRaises(Closed):
            ws.recv_json()
        ws.close()
        market.close()  # no close frame: 1006
        moved("wsrouter_connections_closed_total", 1, code="1000")
        moved("wsrouter_connections_closed_total", 1, code="1006")
        moved("wsrouter_connections", 0, endpoint="/ws")
        moved("wsrouter_connections", 0, endpoint="/ws/market")
        moved("wsrouter_subscribers", 0, namespace="stock")
        moved("wsrouter_channel_subscribers", 0, channel="market")
        self.assert_promtool_clean(self.scrape().text)

    def test_refused_upgrades_by_reason(self):
        before = self.scrape()

        def refused(reason, n):
            self.wait_metric("wsrouter_connections_refused_total",
                             before.value("wsrouter_connections_refused_total", reason=reason) + n,
                             reason=reason)
        self.assertEqual(upgrade_response(self.router.port, "/nope").status, 404)
        self.assertEqual(upgrade_response(self.router.port, "/ws/stock:X").status, 404)
        refused("not_found", 2)
        with RawClient(self.router.port) as raw:  # Sec-WebSocket-Version 12: 426
            raw.send(handshake_request(key=make_key(), path="/ws", version="12"))
            self.assertEqual(raw.read_http_response().status, 426)
        with RawClient(self.router.port) as raw:  # no Upgrade header: 400
            raw.send(b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(raw.read_http_response().status, 400)
        refused("bad_handshake", 2)
        response = upgrade_response(self.router.port, "/ws", extra=("X-Big: " + "b" * 5000,))
        self.assertEqual(response.status, 431)
        refused("header_too_large", 1)
        with RawClient(self.router.port) as raw:  # half a request head, then silence
            raw.send(b"GET /ws HTTP/1.1\r\n")
            raw.wait_eof(timeout=STEP)
        refused("handshake_timeout", 1)
        # None of this opened a connection.
        s = self.scrape()
        self.assertEqual(s.value("wsrouter_connections_opened_total", endpoint="/ws"),
                         before.value("wsrouter_connections_opened_total", endpoint="/ws"))

    def test_publish_rejections_by_code(self):
        before = self.scrape()
        self.assertEqual(self.pub.request("POST", "/api/v1/publish", "not json").status, 400)
        stranger = self.router.admin(token="wrong")
        self.addCleanup(stranger.close)
        self.assertEqual(stranger.publish_response("stock:A", {}).status, 401)
        self.assertEqual(self.pub.publish_response("bad channel", {}).status, 404)
        self.assertEqual(self.pub.publish_response("stock:A", {"pad": "x" * 70000}).status, 413)
        results = self.pub.publish_batch([{"channel": "stock:A", "data": 1},
                                          {"channel": "no good", "data": 1}])
        self.assertIn("error", results[1])
        s = self.scrape()  # counted by the admin thread before it answered
        for code, n in (("BAD_REQUEST", 1), ("UNAUTHORIZED", 1), ("INVALID_CHANNEL", 2),
                        ("TOO_LARGE", 1), ("UNAVAILABLE", 0)):
            self.assertEqual(s.value("wsrouter_publish_rejected_total", code=code)
                             - before.value("wsrouter_publish_rejected_total", code=code), n, code)

    def test_client_messages_by_op(self):
        before = self.scrape()
        c = self.subscribed_client(["stock:OPS"])
        self.assertEqual(c.request({"op": "ping", "id": 2})["type"], "pong")
        c.send_text("not json")
        self.assertEqual(c.recv_json()["type"], "error")
        c.send_frame(OP_BINARY, b"\x00")
        self.assertEqual(c.recv_json()["type"], "error")
        c.unsubscribe(["stock:OPS"], id=3)
        c.expect_type("unsubscribed")
        s = self.scrape()
        for op, n in (("subscribe", 1), ("ping", 1), ("invalid", 2), ("unsubscribe", 1),
                      ("auth", 0), ("resume", 0)):
            self.assertEqual(s.value("wsrouter_client_messages_total", op=op)
                             - before.value("wsrouter_client_messages_total", op=op), n, op)

    def test_compression_before_and_after(self):
        before = self.scrape()
        c = self.client("/ws", extra=("Sec-WebSocket-Extensions: permessage-deflate",))
        self.assertTrue(c.deflate, "permessage-deflate was not negotiated")
        c.read_message()  # welcome
        c.send_json({"op": "subscribe", "id": 1, "channels": ["zipped:Z"]})
        c.read_message()  # subscribed
        self.pub.publish("zipped:Z", {"text": "z" * 3000})
        opcode, data = c.read_message()
        self.assertIn(b'"text"', data)
        s = self.wait_metric("wsrouter_compressed_deliveries_total",
                             before.value("wsrouter_compressed_deliveries_total") + 1)
        grew_in = (s.value("wsrouter_compression_input_bytes_total")
                   - before.value("wsrouter_compression_input_bytes_total"))
        grew_out = (s.value("wsrouter_compression_output_bytes_total")
                    - before.value("wsrouter_compression_output_bytes_total"))
        self.assertGreater(grew_in, 3000)
        self.assertGreater(grew_out, 0)
        self.assertLess(grew_out, grew_in / 5)  # 3000 z's compress well

    def test_compressed_and_plain_subscribers_of_one_fan_out(self):
        # One batch: one fan-out pass of zipped:M. The client that negotiated
        # permessage-deflate gets the compressed twin of each large message
        # and the plain frame of each small one; the other gets every plain
        # frame; the counter grows by the compressed deliveries alone.
        before = self.scrape()
        zipped = self.client("/ws", extra=("Sec-WebSocket-Extensions: permessage-deflate",))
        self.assertTrue(zipped.deflate, "permessage-deflate was not negotiated")
        plain = self.client("/ws")
        for c in (zipped, plain):
            c.read_message()  # welcome
            c.send_json({"op": "subscribe", "id": 1, "channels": ["zipped:M"]})
            c.read_message()  # subscribed
        sizes = [3000, 10, 3000, 10, 3000]  # threshold 200 (envelope included)
        results = self.pub.publish_batch(
            [{"channel": "zipped:M", "data": {"n": i, "text": "z" * size}}
             for i, size in enumerate(sizes)])
        first = results[0]["seq"]
        for i, size in enumerate(sizes):
            frame = zipped.read_frame(5)
            self.assertEqual(frame.rsv1, size > 200, "message %d" % i)
            payload = inflate_message(frame.payload) if frame.rsv1 else frame.payload
            m = json.loads(payload)
            self.assertEqual((m["seq"], m["data"]["n"]), (first + i, i))
            m = plain.recv_json()  # asserts an uncompressed frame
            self.assertEqual((m["seq"], m["data"]["n"], len(m["data"]["text"])),
                             (first + i, i, size))
        self.wait_metric("wsrouter_compressed_deliveries_total",
                         before.value("wsrouter_compressed_deliveries_total") + 3)
        self.assertEqual(self.scrape().value("wsrouter_compressed_deliveries_total")
                         - before.value("wsrouter_compressed_deliveries_total"), 3)

    def test_slow_consumer_drops_and_queue_gauges(self):
        before = self.scrape()
        slow = self.router.client(rcvbuf=4096)
        self._clients.append(slow)
        slow.expect_type("welcome")
        slow.subscribe(["slowns:S"], id=1)
        slow.expect_type("subscribed")
        pad = "p" * 2000
        dropped = None
        for batch in range(100):
            self.pub.publish_batch([{"channel": "slowns:S", "data": {"pad": pad}}] * 20)
            s = self.scrape()
            if (s.value("wsrouter_dropped_total", namespace="slowns", reason="slow_consumer")
                    > before.value("wsrouter_dropped_total", namespace="slowns",
                                   reason="slow_consumer")):
                dropped = s
                break
        self.assertIsNotNone(dropped, "the slow client never had a message dropped")
        # The metric is the stats API's own counter, not a second count.
        stats = self.pub.stats()["hub"]["namespaces"]["slowns"]
        s = self.scrape()
        self.assertEqual(s.value("wsrouter_dropped_total", namespace="slowns",
                                 reason="slow_consumer"), stats["dropped"]["slow_consumer"])
        self.assertEqual(s.value("wsrouter_published_total", namespace="slowns"),
                         stats["published"])
        # Still blocked: its socket is full and its queue holds back 3 messages.
        self.assertGreaterEqual(s.value("wsrouter_clients_write_blocked"), 1)
        self.assertEqual(s.value("wsrouter_client_queue_depth_max"), 3)
        self.assertGreater(s.value("wsrouter_client_queued_bytes"), 0)
        self.assertEqual(s.value("wsrouter_dropped_total", namespace="slowns", reason="conflated"),
                         0)
        slow.close()
        self.wait_metric("wsrouter_clients_write_blocked", 0)
        self.wait_metric("wsrouter_client_queue_depth_max", 0)
        self.assert_promtool_clean(self.scrape().text)


# ---- liveness ----------------------------------------------------------------


class HeartbeatMetrics(MetricsMixin, RouterTestCase):
    CONFIG = base_config(heartbeat={"interval_ms": 200, "pong_timeout_ms": 200,
                                    "idle_timeout_ms": 0, "close_timeout_ms": 1000})

    def test_a_client_that_never_answers_pings_is_counted(self):
        c = self.client("/ws")
        c.expect_type("welcome")  # then nothing: no pong, no message
        # Read (pings included, unanswered) until the router drops it.
        c.sock.settimeout(STEP)
        try:
            while c.sock.recv(65536):
                pass
        except ConnectionResetError:
            pass
        self.wait_metric("wsrouter_heartbeat_timeouts_total", 1)
        self.wait_metric("wsrouter_connections_closed_total", 1, code="1006")
        self.assertEqual(self.scrape().value("wsrouter_idle_timeouts_total"), 0)


class IdleMetrics(MetricsMixin, RouterTestCase):
    CONFIG = base_config(heartbeat={"interval_ms": 0, "pong_timeout_ms": 0,
                                    "idle_timeout_ms": 300, "close_timeout_ms": 1000})

    def test_a_silent_client_is_closed_and_counted(self):
        c = self.client("/ws")
        c.expect_type("welcome")
        with self.assertRaises(Closed) as closed:
            c.recv_json()
        self.assertEqual(closed.exception.code, 1000)
        self.wait_metric("wsrouter_idle_timeouts_total", 1)
        self.assertEqual(self.scrape().value("wsrouter_heartbeat_timeouts_total"), 0)


# ---- auth.mode token: failures and secret reloads ----------------------------


class TokenModeMetrics(MetricsMixin, RouterTestCase):
    @classmethod
    def setUpClass(cls):
        cls.secret = SecretDir()
        cls.secret.rotate({"tokens": "token-A\n"})
        cls.addClassCleanup(cls.secret.close)
        cls.CONFIG = base_config(auth={"mode": "token", "token_file": cls.secret.path("tokens"),
                                       "secret_check_interval_ms": 200})
        super().setUpClass()

    def test_auth_failures_refusals_and_token_reloads(self):
        before = self.scrape()

        def delta(s, name, **labels):
            return s.value(name, **labels) - before.value(name, **labels)
        self.assertEqual(upgrade_response(self.router.port, "/ws",
                                          extra=("Authorization: Bearer token-B",)).status, 401)
        self.assertEqual(upgrade_response(self.router.port, "/ws").status, 401)
        self.assertEqual(upgrade_response(self.router.port, "/ws?token=nope").status, 401)
        self.assertEqual(upgrade_response(self.router.port, "/ws",
                                          extra=("Authorization: Bearer token-A",)).status, 101)
        s = self.wait_metric("wsrouter_connections_refused_total",
                             before.value("wsrouter_connections_refused_total",
                                          reason="unauthorized") + 3, reason="unauthorized")
        self.assertEqual(delta(s, "wsrouter_auth_failures_total", reason="unknown_token"), 2)
        self.assertEqual(delta(s, "wsrouter_auth_failures_total", reason="missing"), 1)
        self.assertEqual(delta(s, "wsrouter_connections_opened_total", endpoint="/ws"), 1)

        self.secret.rotate({"tokens": "token-A\ntoken-B\n"})
        self.wait_metric("wsrouter_token_reloads_total",
                         before.value("wsrouter_token_reloads_total", secret="client_tokens",
                                      result="success") + 1,
                         secret="client_tokens", result="success")
        self.secret.rotate({"tokens": "\n"})  # empty: refused, the old tokens stay
        s = self.wait_metric("wsrouter_token_reloads_total",
                             before.value("wsrouter_token_reloads_total", secret="client_tokens",
                                          result="failure") + 1,
                             secret="client_tokens", result="failure")
        self.assertEqual(delta(s, "wsrouter_token_reloads_total", secret="publisher_tokens",
                               result="success"), 0)
        self.assertEqual(s.value("wsrouter_ready"), 1)
        self.secret.rotate({"tokens": "token-A\n"})
        self.assert_promtool_clean(self.scrape().text)


if __name__ == "__main__":
    unittest.main()
