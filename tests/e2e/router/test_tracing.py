"""OpenTelemetry traces end to end: the real router exports OTLP/HTTP JSON to
a small collector in this file, which checks every request strictly against
the OTLP JSON mapping (content type, structure, field names, hex ids,
decimal-string times and integers, enums as integers, attribute value shapes)
and records the spans.

- a publish request with a traceparent: its SERVER span continues that trace,
  and the broker and fan-out spans are its descendants;
- OTEL_SERVICE_NAME and OTEL_EXPORTER_OTLP_HEADERS arrive;
- a handshake refused for a bad token has a span with the failure, and no
  token appears anywhere in what is exported;
- OTEL_TRACES_SAMPLER=always_off exports nothing while publishing works;
- a collector that never answers does not slow publishing; the spans it
  costs are counted as dropped.
"""

import http.server
import json
import os
import re
import secrets
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from router_harness import (STEP, Router, RouterClient, RouterTestCase, base_config,  # noqa: E402
                            is_data, upgrade_response, wait_until)
from redis_tools import REDIS_SERVER, RedisServer  # noqa: E402
from secrets_tools import SecretDir  # noqa: E402
from test_metrics import Scrape  # noqa: E402

SERVICE = "wsrouter-e2e"
EXPORT_INTERVAL_MS = 50

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
DECIMAL = re.compile(r"^-?[0-9]+$")
UNSIGNED = re.compile(r"^[0-9]+$")

# The fields of the OTLP messages, as the JSON mapping names them (lowerCamelCase).
REQUEST_FIELDS = {"resourceSpans"}
RESOURCE_SPANS_FIELDS = {"resource", "scopeSpans", "schemaUrl"}
RESOURCE_FIELDS = {"attributes", "droppedAttributesCount"}
SCOPE_SPANS_FIELDS = {"scope", "spans", "schemaUrl"}
SCOPE_FIELDS = {"name", "version", "attributes", "droppedAttributesCount"}
SPAN_FIELDS = {"traceId", "spanId", "traceState", "parentSpanId", "flags", "name", "kind",
               "startTimeUnixNano", "endTimeUnixNano", "attributes", "droppedAttributesCount",
               "events", "droppedEventsCount", "links", "droppedLinksCount", "status"}
STATUS_FIELDS = {"code", "message"}
SPAN_KINDS = range(0, 6)  # UNSPECIFIED, INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER
SPAN_KIND_INTERNAL, SPAN_KIND_SERVER = 1, 2
STATUS_ERROR = 2
FLAGS_HAS_IS_REMOTE, FLAGS_IS_REMOTE = 0x100, 0x200


# ---- the OTLP JSON mapping -----------------------------------------------------


class Invalid(Exception):
    pass


def check(condition, what, value):
    if not condition:
        raise Invalid("%s: %r" % (what, value))


def check_fields(obj, allowed, where):
    check(isinstance(obj, dict), where + " must be an object", obj)
    unknown = set(obj) - allowed
    check(not unknown, where + " has fields outside the OTLP mapping", sorted(unknown))


def check_any_value(value, where):
    check_fields(value, {"stringValue", "boolValue", "intValue", "doubleValue", "arrayValue",
                         "kvlistValue", "bytesValue"}, where)
    check(len(value) == 1, where + " must hold exactly one value", value)
    kind, v = next(iter(value.items()))
    if kind == "stringValue":
        check(isinstance(v, str), where + ".stringValue must be a string", v)
    elif kind == "boolValue":
        check(isinstance(v, bool), where + ".boolValue must be a boolean", v)
    elif kind == "intValue":
        # int64: a decimal string in the protobuf JSON mapping.
        check(isinstance(v, str) and DECIMAL.match(v), where + ".intValue must be a decimal string",
              v)
    elif kind == "doubleValue":
        check(isinstance(v, (int, float)) and not isinstance(v, bool),
              where + ".doubleValue must be a number", v)
    else:
        raise Invalid("%s: wsrouter exports no %s" % (where, kind))


def check_attributes(attributes, where):
    check(isinstance(attributes, list), where + " must be a list", attributes)
    keys = set()
    for i, kv in enumerate(attributes):
        check_fields(kv, {"key", "value"}, "%s[%d]" % (where, i))
        check(isinstance(kv.get("key"), str) and kv["key"], "%s[%d].key" % (where, i), kv)
        check(kv["key"] not in keys, "%s: duplicate key" % where, kv["key"])
        keys.add(kv["key"])
        check("value" in kv, "%s[%d].value is missing" % (where, i), kv)
        check_any_value(kv["value"], "%s[%d].value" % (where, i))


def check_span(span, where):
    check_fields(span, SPAN_FIELDS, where)
    # Ids: lowercase hex (the OTLP exception to base64), never all zero.
    check(isinstance(span.get("traceId"), str) and HEX32.match(span["traceId"])
          and span["traceId"] != "0" * 32, where + ".traceId must be 32 lowercase hex", span)
    check(isinstance(span.get("spanId"), str) and HEX16.match(span["spanId"])
          and span["spanId"] != "0" * 16, where + ".spanId must be 16 lowercase hex", span)
    if "parentSpanId" in span:
        check(isinstance(span["parentSpanId"], str) and HEX16.match(span["parentSpanId"])
              and span["parentSpanId"] != "0" * 16,
              where + ".parentSpanId must be 16 lowercase hex", span)
    check(isinstance(span.get("name"), str) and span["name"], where + ".name", span)
    # Enums are integers, not names.
    check(type(span.get("kind")) is int and span["kind"] in SPAN_KINDS, where + ".kind", span)
    # fixed64 times: decimal strings.
    for field in ("startTimeUnixNano", "endTimeUnixNano"):
        check(isinstance(span.get(field), str) and UNSIGNED.match(span[field]),
              "%s.%s must be a decimal string" % (where, field), span.get(field))
    check(int(span["endTimeUnixNano"]) >= int(span["startTimeUnixNano"]) > 0,
          where + ": end before start", span)
    if "flags" in span:
        check(type(span["flags"]) is int and 0 <= span["flags"] < 2 ** 32, where + ".flags",
              span["flags"])
    if "attributes" in span:
        check_attributes(span["attributes"], where + ".attributes")
    if "droppedAttributesCount" in span:
        check(type(span["droppedAttributesCount"]) is int, where + ".droppedAttributesCount",
              span)
    if "status" in span:
        check_fields(span["status"], STATUS_FIELDS, where + ".status")
        check(type(span["status"].get("code", 0)) is int and span["status"].get("code", 0) in
              (0, 1, 2), where + ".status.code", span["status"])
        check(isinstance(span["status"].get("message", ""), str), where + ".status.message",
              span["status"])


def check_export_request(body):
    """Validates an ExportTraceServiceRequest; returns its resourceSpans."""
    check_fields(body, REQUEST_FIELDS, "request")
    check(isinstance(body.get("resourceSpans"), list) and body["resourceSpans"],
          "request.resourceSpans must be a non-empty list", body)
    for r, rs in enumerate(body["resourceSpans"]):
        where = "resourceSpans[%d]" % r
        check_fields(rs, RESOURCE_SPANS_FIELDS, where)
        check_fields(rs.get("resource"), RESOURCE_FIELDS, where + ".resource")
        check_attributes(rs["resource"].get("attributes", []), where + ".resource.attributes")
        check(isinstance(rs.get("scopeSpans"), list), where + ".scopeSpans", rs)
        for s, ss in enumerate(rs["scopeSpans"]):
            w = "%s.scopeSpans[%d]" % (where, s)
            check_fields(ss, SCOPE_SPANS_FIELDS, w)
            check_fields(ss.get("scope"), SCOPE_FIELDS, w + ".scope")
            check(isinstance(ss["scope"].get("name"), str) and ss["scope"]["name"],
                  w + ".scope.name", ss["scope"])
            check(isinstance(ss.get("spans"), list), w + ".spans", ss)
            for i, span in enumerate(ss["spans"]):
                check_span(span, "%s.spans[%d]" % (w, i))
    return body["resourceSpans"]


def attributes_of(obj):
    """{key: python value} of an attributes list (intValue as int)."""
    out = {}
    for kv in obj.get("attributes", []):
        (kind, value), = kv["value"].items()
        out[kv["key"]] = int(value) if kind == "intValue" else value
    return out


# ---- collectors ----------------------------------------------------------------


class OtlpCollector:
    """An OTLP/HTTP collector on a free loopback port: POST /v1/traces only,
    every request validated; a request that breaks the mapping is answered
    400 and recorded in `errors`, which the tests require to stay empty."""

    def __init__(self):
        self.cond = threading.Condition()
        self.requests = []  # {"headers": {lowercase: value}, "body": bytes}
        self.spans = []     # (resource attributes, scope, span)
        self.errors = []
        collector = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the exporter asks

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                error = collector._receive(self.path, self.headers, body)
                answer = (json.dumps({"error": error}) if error else "{}").encode()
                self.send_response(400 if error else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        self.thread.start()
        return self

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def _receive(self, path, headers, body):
        error = None
        resource_spans = []
        try:
            check(path == "/v1/traces", "path", path)
            check(headers.get("Content-Type") == "application/json", "Content-Type",
                  headers.get("Content-Type"))
            resource_spans = check_export_request(json.loads(body.decode("utf-8")))
        except (Invalid, ValueError, UnicodeDecodeError) as e:
            error = str(e)
        with self.cond:
            self.requests.append({"headers": {k.lower(): v for k, v in headers.items()},
                                  "body": body})
            if error:
                self.errors.append(error)
            for rs in resource_spans:
                resource = attributes_of(rs["resource"])
                for ss in rs["scopeSpans"]:
                    for span in ss["spans"]:
                        self.spans.append((resource, ss["scope"], span))
            self.cond.notify_all()
        return error

    def wait_for_spans(self, predicate, what, timeout=STEP):
        """Waits until predicate(list of spans) is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = predicate([span for _, _, span in self.spans])
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no %s within %.0f s; spans: %s"
                                         % (what, timeout, [s["name"] for _, _, s in self.spans]))
                self.cond.wait(left)

    def spans_of_trace(self, trace_id):
        with self.cond:
            return [span for _, _, span in self.spans if span["traceId"] == trace_id]

    def raw_bodies(self):
        with self.cond:
            return b"".join(r["body"] for r in self.requests)


class SilentCollector:
    """A collector that never answers: it listens, and never accepts."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def close(self):
        self.sock.close()


# ---- helpers -------------------------------------------------------------------


def otel_env(**values):
    """The router's OTEL_* environment: every OTEL_* variable this process
    has is cleared (empty is unset, by the spec), then `values` are set."""
    env = {name: "" for name in os.environ if name.startswith("OTEL_")}
    env.update(values)
    return env


def new_traceparent(sampled=True):
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, parent_id, "00-%s-%s-%s" % (trace_id, parent_id, "01" if sampled else "00")


def one(spans, name):
    found = [s for s in spans if s["name"] == name]
    if len(found) != 1:
        raise AssertionError("expected one %r span, got %d: %r" % (name, len(found), spans))
    return found[0]


class TracedRouterTestCase(RouterTestCase):
    """A router exporting to COLLECTOR (started per class) with ENV."""

    CONFIG = None
    ENV = {}
    COLLECTOR = OtlpCollector

    @classmethod
    def setUpClass(cls):
        super(RouterTestCase, cls).setUpClass()
        cls.collector = cls.COLLECTOR()
        if hasattr(cls.collector, "start"):
            cls.collector.start()
        cls.addClassCleanup(cls.collector.close)
        env = otel_env(OTEL_EXPORTER_OTLP_ENDPOINT=cls.collector.url, **cls.ENV)
        cls.router = Router(cls.CONFIG, env=env).start()
        cls.addClassCleanup(cls.router.stop)
        cls.pub = cls.router.admin()
        cls.addClassCleanup(cls.pub.close)

    def publish_with(self, channel, data, traceparent=None, path="/api/v1/publish", body=None):
        headers = {"traceparent": traceparent} if traceparent else {}
        return self.pub.request("POST", path, body or {"channel": channel, "data": data},
                                headers=headers)

    def tearDown(self):
        super().tearDown()
        self.assertEqual(self.collector.errors, [], "requests that break the OTLP JSON mapping")


# ---- publications --------------------------------------------------------------


class PublicationTraces(TracedRouterTestCase):
    # tracing.enabled stays false: the OTEL endpoint alone turns tracing on.
    CONFIG = base_config(tracing={"export_interval_ms": EXPORT_INTERVAL_MS})
    ENV = {"OTEL_SERVICE_NAME": SERVICE,
           "OTEL_EXPORTER_OTLP_HEADERS": "x-collector-key=e2e%20key%3D1,x-tenant=market-data",
           "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=e2e"}

    def trace_of(self, trace_id, names):
        return self.collector.wait_for_spans(
            lambda spans: (lambda mine: mine if sorted(s["name"] for s in mine) == sorted(names)
                           else None)([s for s in spans if s["traceId"] == trace_id]),
            "trace %s with spans %s" % (trace_id, names))

    def test_publish_continues_the_callers_trace_down_to_the_fan_out(self):
        channel = "stock:TRACED"
        client = self.subscribed_client([channel])
        trace_id, parent_id, traceparent = new_traceparent()
        r = self.publish_with(channel, {"p": 1}, traceparent)
        self.assertEqual(r.status, 200, r)
        seq = r.json()["seq"]
        self.assertEqual(client.read_until(lambda m: is_data(m, channel))[-1]["seq"], seq)

        spans = self.trace_of(trace_id, ["POST /api/v1/publish", "broker.publish", "fanout"])
        request = one(spans, "POST /api/v1/publish")
        broker = one(spans, "broker.publish")
        fanout = one(spans, "fanout")

        self.assertEqual(request["kind"], SPAN_KIND_SERVER)
        self.assertEqual(request["parentSpanId"], parent_id)
        self.assertEqual(request["flags"] & 0xff, 1)  # sampled
        self.assertEqual(request["flags"] & (FLAGS_HAS_IS_REMOTE | FLAGS_IS_REMOTE),
                         FLAGS_HAS_IS_REMOTE | FLAGS_IS_REMOTE)
        a = attributes_of(request)
        self.assertEqual(a["messaging.destination.name"], channel)
        self.assertEqual(a["wsrouter.seq"], seq)
        self.assertEqual(a["http.response.status_code"], 200)
        self.assertEqual(a["http.request.method"], "POST")
        self.assertNotIn("status", request)

        self.assertEqual(broker["kind"], SPAN_KIND_INTERNAL)
        self.assertEqual(broker["parentSpanId"], request["spanId"])
        b = attributes_of(broker)
        self.assertEqual(b["messaging.destination.name"], channel)
        self.assertEqual(b["wsrouter.seq"], seq)
        self.assertEqual(b["wsrouter.namespace"], "stock")
        self.assertEqual(b["wsrouter.workers"], 1)  # the subscriber's worker

        self.assertEqual(fanout["kind"], SPAN_KIND_INTERNAL)
        self.assertEqual(fanout["parentSpanId"], broker["spanId"])
        f = attributes_of(fanout)
        self.assertIn(f["wsrouter.worker"], (0, 1))
        self.assertEqual(f["wsrouter.delivered"], 1)
        self.assertEqual(f["wsrouter.held_back"], 0)
        # The request span encloses its children.
        self.assertLessEqual(int(request["startTimeUnixNano"]), int(broker["startTimeUnixNano"]))
        self.assertGreaterEqual(int(request["endTimeUnixNano"]), int(broker["endTimeUnixNano"]))

    def test_resource_scope_and_headers_arrive(self):
        trace_id, _, traceparent = new_traceparent()
        self.assertEqual(self.publish_with("stock:RES", 1, traceparent).status, 200)
        self.trace_of(trace_id, ["POST /api/v1/publish", "broker.publish"])  # no subscriber
        with self.collector.cond:
            resource, scope, _ = next(t for t in self.collector.spans if t[2]["traceId"] == trace_id)
            headers = self.collector.requests[-1]["headers"]
        self.assertEqual(resource["service.name"], SERVICE)
        self.assertEqual(resource["deployment.environment"], "e2e")
        self.assertEqual(resource["telemetry.sdk.language"], "cpp")
        self.assertEqual(resource["telemetry.sdk.name"], "wsrouter")
        self.assertIn("service.version", resource)
        self.assertEqual(scope["name"], "wsrouter")
        self.assertEqual(headers.get("x-collector-key"), "e2e key=1")  # percent-decoded
        self.assertEqual(headers.get("x-tenant"), "market-data")
        self.assertEqual(headers.get("content-type"), "application/json")

    def test_batch_publications_are_children_of_the_request(self):
        trace_id, parent_id, traceparent = new_traceparent()
        body = {"messages": [{"channel": "stock:B1", "data": 1}, {"channel": "stock:B2", "data": 2},
                             {"channel": "bad channel", "data": 3}]}
        r = self.publish_with(None, None, traceparent, "/api/v1/publish/batch", body)
        self.assertEqual(r.status, 200, r)
        spans = self.trace_of(trace_id, ["POST /api/v1/publish/batch"] + ["broker.publish"] * 2)
        request = one(spans, "POST /api/v1/publish/batch")
        self.assertEqual(request["parentSpanId"], parent_id)
        self.assertEqual(attributes_of(request)["wsrouter.batch.messages"], 3)
        self.assertEqual(attributes_of(request)["wsrouter.batch.accepted"], 2)
        brokers = [s for s in spans if s["name"] == "broker.publish"]
        self.assertEqual({attributes_of(s)["messaging.destination.name"] for s in brokers},
                         {"stock:B1", "stock:B2"})
        for s in brokers:
            self.assertEqual(s["parentSpanId"], request["spanId"])

    def test_an_unsampled_traceparent_is_honoured(self):
        channel = "stock:UNSAMPLED"
        client = self.subscribed_client([channel])
        unsampled_trace, _, unsampled = new_traceparent(sampled=False)
        self.assertEqual(self.publish_with(channel, 1, unsampled).status, 200)
        client.read_until(lambda m: is_data(m, channel))
        # A sampled one afterwards: once its fan-out span is in, anything of
        # the first (ended earlier on the same threads) would be too.
        sampled_trace, _, sampled = new_traceparent()
        self.assertEqual(self.publish_with(channel, 2, sampled).status, 200)
        client.read_until(lambda m: is_data(m, channel))
        self.trace_of(sampled_trace, ["POST /api/v1/publish", "broker.publish", "fanout"])
        self.assertEqual(self.collector.spans_of_trace(unsampled_trace), [])

    def test_an_invalid_traceparent_starts_a_new_trace(self):
        channel = "stock:NEWTRACE"
        bad = "00-%s-%s-01" % ("0" * 32, secrets.token_hex(8))
        self.assertEqual(self.publish_with(channel, 1, bad).status, 200)
        request = self.collector.wait_for_spans(
            lambda spans: next((s for s in spans if s["name"] == "POST /api/v1/publish" and
                                attributes_of(s).get("messaging.destination.name") == channel),
                               None), "the publish span of " + channel)
        self.assertNotIn("parentSpanId", request)
        self.assertNotEqual(request["traceId"], "0" * 32)
        self.assertEqual(request["flags"] & FLAGS_IS_REMOTE, 0)

    def test_a_refused_publication_has_an_error_status(self):
        trace_id, _, traceparent = new_traceparent()
        r = self.publish_with("not a channel", 1, traceparent)
        self.assertEqual(r.status, 404, r)
        # Refused while reading the request: it never reaches the broker.
        request, = self.trace_of(trace_id, ["POST /api/v1/publish"])
        self.assertEqual(attributes_of(request)["http.response.status_code"], 404)
        self.assertEqual(attributes_of(request)["error.type"], "INVALID_CHANNEL")
        self.assertEqual(request["status"]["code"], STATUS_ERROR)
        self.assertIn("channel", request["status"]["message"])

    def test_stats_count_exported_spans(self):
        trace_id, _, traceparent = new_traceparent()
        self.assertEqual(self.publish_with("stock:STATS", 1, traceparent).status, 200)
        self.trace_of(trace_id, ["POST /api/v1/publish", "broker.publish"])
        tracing = wait_until(lambda: (lambda t: t if t["exported"] >= 2 else None)(
            self.pub.stats()["tracing"]), what="exported spans in /api/v1/stats")
        self.assertEqual(tracing["enabled"], True)
        self.assertEqual(tracing["sampler"], "parentbased_always_on")
        self.assertEqual(tracing["dropped"], {"queue_full": 0, "export_failed": 0})
        # The same counters as metrics (later spans may have been exported since).
        metrics = Scrape(self.pub.get("/metrics").body.decode("utf-8"))
        self.assertGreaterEqual(metrics.value("wsrouter_spans_exported_total"), tracing["exported"])
        self.assertEqual(metrics.value("wsrouter_spans_dropped_total", reason="queue_full"), 0)
        self.assertEqual(metrics.value("wsrouter_spans_dropped_total", reason="export_failed"), 0)


# ---- handshakes ----------------------------------------------------------------


GOOD_TOKEN = "good-client-token-7f3a9c"
BAD_TOKEN = "bad-client-token-e41d0b"


class HandshakeTraces(TracedRouterTestCase):
    @classmethod
    def setUpClass(cls):
        cls.secret = SecretDir()
        cls.secret.rotate({"tokens": GOOD_TOKEN + "\n"})
        cls.addClassCleanup(cls.secret.close)
        cls.CONFIG = base_config(auth={"mode": "token", "token_file": cls.secret.path("tokens")},
                                 tracing={"export_interval_ms": EXPORT_INTERVAL_MS})
        super().setUpClass()

    def handshake_spans(self, count, since_ns):
        """The handshake spans started since `since_ns` (this test's), once
        there are `count` of them."""
        return self.collector.wait_for_spans(
            lambda spans: (lambda mine: mine if len(mine) >= count else None)(
                [s for s in spans if s["name"] == "websocket.handshake"
                 and int(s["startTimeUnixNano"]) >= since_ns]),
            "%d websocket.handshake spans" % count)

    def test_a_refused_token_is_traced_without_the_token(self):
        since = time.time_ns()
        in_query = upgrade_response(self.router.port, "/ws?token=" + BAD_TOKEN)
        in_header = upgrade_response(self.router.port, "/ws",
                                     extra=("Authorization: Bearer " + BAD_TOKEN,))
        self.assertEqual((in_query.status, in_header.status), (401, 401))
        good = RouterClient.connect(self.router.port, "/ws?token=" + GOOD_TOKEN)
        self._clients.append(good)
        good.expect_type("welcome")

        spans = self.handshake_spans(3, since)
        refused = [s for s in spans if attributes_of(s)["wsrouter.auth.outcome"] != "ok"]
        accepted = [s for s in spans if attributes_of(s)["wsrouter.auth.outcome"] == "ok"]
        self.assertEqual(len(refused), 2, spans)
        self.assertEqual(len(accepted), 1, spans)
        for span in refused:
            a = attributes_of(span)
            self.assertEqual(span["kind"], SPAN_KIND_SERVER)
            self.assertNotIn("parentSpanId", span)  # a root
            self.assertEqual(a["wsrouter.auth.outcome"], "unknown_token")
            self.assertEqual(a["http.response.status_code"], 401)
            self.assertEqual(a["url.path"], "/ws")  # never the query
            self.assertEqual(a["client.address"], "127.0.0.1")
            self.assertEqual(span["status"]["code"], STATUS_ERROR)
        self.assertEqual(attributes_of(accepted[0])["http.response.status_code"], 101)
        self.assertEqual(attributes_of(accepted[0])["url.path"], "/ws")
        # No token, good or bad, anywhere in what was exported.
        exported = self.collector.raw_bodies()
        self.assertNotIn(BAD_TOKEN.encode(), exported)
        self.assertNotIn(GOOD_TOKEN.encode(), exported)
        self.assertNotIn(b"token=", exported)

    def test_a_missing_token_and_an_unknown_path_have_their_reasons(self):
        self.assertEqual(upgrade_response(self.router.port, "/ws").status, 401)
        self.assertEqual(upgrade_response(self.router.port, "/nowhere?token=" + GOOD_TOKEN).status,
                         404)
        spans = self.collector.wait_for_spans(
            lambda spans: (lambda outcomes: outcomes if {"missing", "not_found"} <= outcomes
                           else None)({attributes_of(s)["wsrouter.auth.outcome"] for s in spans
                                       if s["name"] == "websocket.handshake"}),
            "handshake spans for a missing token and an unknown path")
        self.assertTrue(spans)
        self.assertNotIn(GOOD_TOKEN.encode(), self.collector.raw_bodies())


# ---- sampling off --------------------------------------------------------------


@unittest.skipUnless(os.access(REDIS_SERVER, os.X_OK), "redis-server is not installed")
class RedisTraces(unittest.TestCase):
    """broker.type redis, two instances: the broker.publish span's context
    travels in the message through Redis, and the fan-out spans of both
    instances are its children."""

    def setUp(self):
        self.collector = OtlpCollector().start()
        self.addCleanup(self.collector.close)
        redis = RedisServer().start()
        self.addCleanup(redis.stop)
        config = base_config(tracing={"export_interval_ms": EXPORT_INTERVAL_MS},
                             broker={"type": "redis", "redis": {"addresses": [redis.address()]}})
        self.routers = {}
        for name in ("a", "b"):
            env = otel_env(OTEL_EXPORTER_OTLP_ENDPOINT=self.collector.url,
                           OTEL_SERVICE_NAME="wsrouter-" + name)
            router = Router(config, env=env).start()
            self.addCleanup(router.stop)
            self.routers[name] = router
        self.assertEqual(self.collector.errors, [])

    def test_fan_outs_on_every_instance_are_children_of_the_broker_span(self):
        channel = "stock:ACROSS"
        clients = {}
        for name, router in self.routers.items():
            c = router.client()
            self.addCleanup(c.close)
            c.expect_type("welcome")
            c.subscribe([channel], id=1)
            c.expect_type("subscribed")
            clients[name] = c
        pub = self.routers["a"].admin()
        self.addCleanup(pub.close)
        trace_id, parent_id, traceparent = new_traceparent()
        r = pub.request("POST", "/api/v1/publish", {"channel": channel, "data": {"p": 1}},
                        headers={"traceparent": traceparent})
        self.assertEqual(r.status, 200, r)
        seq = r.json()["seq"]
        for c in clients.values():
            self.assertEqual(c.read_until(lambda m: is_data(m, channel))[-1]["seq"], seq)

        def spans_of_trace(_):
            with self.collector.cond:
                mine = [(resource["service.name"], span)
                        for resource, _, span in self.collector.spans
                        if span["traceId"] == trace_id]
            return mine if len(mine) >= 4 else None

        spans = self.collector.wait_for_spans(spans_of_trace, "4 spans of trace " + trace_id)
        # The collector has them all once the fan-outs are there; a late one
        # more would be a span too many.
        names = sorted((service, span["name"]) for service, span in spans)
        self.assertEqual(names, [("wsrouter-a", "POST /api/v1/publish"),
                                 ("wsrouter-a", "broker.publish"), ("wsrouter-a", "fanout"),
                                 ("wsrouter-b", "fanout")])
        request = next(s for _, s in spans if s["name"] == "POST /api/v1/publish")
        broker = next(s for _, s in spans if s["name"] == "broker.publish")
        self.assertEqual(request["parentSpanId"], parent_id)
        self.assertEqual(broker["parentSpanId"], request["spanId"])
        b = attributes_of(broker)
        self.assertEqual(b["messaging.system"], "redis")
        self.assertEqual(b["wsrouter.seq"], seq)
        for service, span in spans:
            if span["name"] != "fanout":
                continue
            self.assertEqual(span["parentSpanId"], broker["spanId"], service)
            self.assertEqual(attributes_of(span)["wsrouter.delivered"], 1, service)
        self.assertEqual(self.collector.errors, [])


class AlwaysOffSampler(unittest.TestCase):
    def test_always_off_exports_nothing_and_publishing_works(self):
        collector = OtlpCollector().start()
        self.addCleanup(collector.close)
        router = Router(base_config(tracing={"export_interval_ms": EXPORT_INTERVAL_MS}),
                        env=otel_env(OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
                                     OTEL_TRACES_SAMPLER="always_off")).start()
        try:
            pub = router.admin()
            client = router.client()
            client.expect_type("welcome")
            client.subscribe(["stock:OFF"], id=1)
            client.expect_type("subscribed")
            for i in range(20):
                _, _, traceparent = new_traceparent()  # sampled: always_off ignores it
                r = pub.request("POST", "/api/v1/publish", {"channel": "stock:OFF", "data": i},
                                headers={"traceparent": traceparent})
                self.assertEqual(r.status, 200, r)
                self.assertEqual(client.read_until(lambda m: is_data(m, "stock:OFF"))[-1]["data"],
                                 i)
            tracing = pub.stats()["tracing"]
            self.assertEqual(tracing["enabled"], True)
            self.assertEqual(tracing["sampler"], "always_off")
            self.assertEqual(tracing["exported"], 0)
            client.close()
            pub.close()
        finally:
            # Shutdown flushes whatever is queued: once the router has
            # exited, the collector has all it will ever get.
            router.stop()
        self.assertEqual(collector.requests, [])
        self.assertEqual(collector.errors, [])


# ---- a collector that never answers --------------------------------------------


class SilentCollectorTraces(TracedRouterTestCase):
    COLLECTOR = SilentCollector
    # A small queue, and a timeout far above what a publish may take.
    CONFIG = base_config(tracing={"export_interval_ms": EXPORT_INTERVAL_MS, "queue_size": 8,
                                  "batch_size": 4, "export_timeout_ms": 3000})

    def tearDown(self):
        RouterTestCase.tearDown(self)  # nothing reaches this collector to check

    def test_publishing_stays_prompt_and_drops_are_counted(self):
        channel = "stock:SILENT"
        client = self.subscribed_client([channel])
        slowest = 0.0
        for i in range(150):
            _, _, traceparent = new_traceparent()
            start = time.monotonic()
            r = self.publish_with(channel, i, traceparent)
            slowest = max(slowest, time.monotonic() - start)
            self.assertEqual(r.status, 200, r)
        # Every publication reached the client, in order.
        seen = [m["data"] for m in client.read_until(lambda m: is_data(m) and m["data"] == 149)
                if is_data(m)]
        self.assertEqual(seen, list(range(150)))
        # An exporter in the way would hold publishes for its 3 s timeout.
        self.assertLess(slowest, 1.0, "a publish waited for the exporter")

        tracing = wait_until(lambda: (lambda t: t if t["dropped"]["queue_full"] > 0 and
                                      t["dropped"]["export_failed"] > 0 else None)(
            self.pub.stats()["tracing"]), what="spans dropped and counted", timeout=2 * STEP)
        self.assertEqual(tracing["exported"], 0)
        metrics = Scrape(self.pub.get("/metrics").body.decode("utf-8"))
        self.assertEqual(metrics.value("wsrouter_spans_exported_total"), 0)
        for reason in ("queue_full", "export_failed"):
            self.assertGreaterEqual(metrics.value("wsrouter_spans_dropped_total", reason=reason),
                                    tracing["dropped"][reason])
        self.router.wait_stdout(lambda line: '"event":"trace_export_failed"' in line, STEP,
                                "the trace_export_failed log line")


if __name__ == "__main__":
    unittest.main()
