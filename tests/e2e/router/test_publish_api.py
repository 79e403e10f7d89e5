"""The publish API on the admin port: every error PROTOCOL.md and
docs/admin-api.md list, batches, and data delivered byte for byte."""

import json

from router_harness import Admin, RouterTestCase, base_config

MAX_PUBLISH = 2048
MAX_BATCH = 6


class PublishApi(RouterTestCase):
    CONFIG = base_config(admin={"max_publish_bytes": MAX_PUBLISH,
                                "max_batch_messages": MAX_BATCH})

    def assert_error(self, response, status, code):
        self.assertEqual(response.status, status, response)
        body = response.json()
        self.assertEqual(set(body), {"error"}, body)
        self.assertEqual(body["error"]["code"], code, body)
        self.assertIsInstance(body["error"]["message"], str)
        self.assertTrue(body["error"]["message"], body)
        return body["error"]["message"]

    def post(self, body, path="/api/v1/publish", **kwargs):
        return self.pub.request("POST", path, body, **kwargs)

    def test_ok_answers_channel_and_seq(self):
        first = self.post({"channel": "stock:OK1", "data": {"x": 1}})
        self.assertEqual(first.status, 200, first)
        self.assertEqual(first.json(), {"channel": "stock:OK1", "seq": 1})
        second = self.post({"channel": "stock:OK1", "type": "price_update", "key": "k",
                            "data": 2, "unknown_field": True})
        self.assertEqual(second.json(), {"channel": "stock:OK1", "seq": 2})

    def test_not_json(self):
        for body in (b"not json", b"", b"{", b'{"channel":"stock:A","data":}', b"[1,2]", b"42"):
            with self.subTest(body=body):
                self.assert_error(self.post(body), 400, "BAD_REQUEST")

    def test_missing_and_wrong_fields(self):
        cases = [
            ({"data": {}}, "channel"),
            ({"channel": 5, "data": {}}, "channel"),
            ({"channel": "stock:A"}, "data"),
            ({"channel": "stock:A", "type": "has space", "data": 1}, "type"),
            ({"channel": "stock:A", "type": "", "data": 1}, "type"),
            ({"channel": "stock:A", "key": 7, "data": 1}, "key"),
            ({"channel": "stock:A", "key": "k" * 257, "data": 1}, "key"),
        ]
        for body, field in cases:
            with self.subTest(body=body):
                message = self.assert_error(self.post(body), 400, "BAD_REQUEST")
                self.assertIn(field, message)
        message = self.assert_error(
            self.post('{"channel":"stock:A","data":1,"data":2}'), 400, "BAD_REQUEST")
        self.assertIn("data", message)

    def test_invalid_channel(self):
        for channel in ("no spaces", "", "x" * 129, "stock/AAPL", "caf\u00e9"):
            with self.subTest(channel=channel):
                self.assert_error(self.post({"channel": channel, "data": {}}), 404,
                                  "INVALID_CHANNEL")
        # The longest valid name is fine.
        self.assertEqual(self.post({"channel": "x" * 128, "data": {}}).status, 200)

    def test_too_large(self):
        big = {"channel": "stock:BIG", "data": "x" * (MAX_PUBLISH + 100)}
        self.assert_error(self.post(big), 413, "TOO_LARGE")
        self.assert_error(self.post({"messages": [big]}, "/api/v1/publish/batch"), 413,
                          "TOO_LARGE")
        # The keep-alive connection is still usable after the refusal.
        self.assertEqual(self.post({"channel": "stock:BIG", "data": 1}).status, 200)

    def test_unauthorized(self):
        body = {"channel": "stock:A", "data": {}}
        for headers, auth in (({}, False), ({"Authorization": "Bearer wrong-token"}, False),
                              ({"Authorization": "Basic " + self.router.token}, False),
                              ({"Authorization": "Bearer"}, False)):
            with self.subTest(headers=headers):
                for path in ("/api/v1/publish", "/api/v1/publish/batch"):
                    r = self.post(body, path, headers=headers, auth=auth)
                    message = self.assert_error(r, 401, "UNAUTHORIZED")
                    self.assertEqual(r.header("WWW-Authenticate"), "Bearer")
                    self.assertNotIn(self.router.token, message)
        # Without a token, even a too large body answers 401.
        r = self.post({"channel": "stock:A", "data": "x" * (MAX_PUBLISH * 2)}, auth=False)
        self.assert_error(r, 401, "UNAUTHORIZED")
        # The scheme is case-insensitive.
        r = self.post(body, headers={"Authorization": "bearer " + self.router.token}, auth=False)
        self.assertEqual(r.status, 200, r)

    def test_batch_whole_request_errors(self):
        for body in (b"nope", {"messages": {}}, {"nothing": []}, [1]):
            with self.subTest(body=body):
                self.assert_error(self.post(body, "/api/v1/publish/batch"), 400, "BAD_REQUEST")

    def test_batch_over_the_message_cap_is_413_and_publishes_nothing(self):
        c = self.subscribed_client(["stock:CAP"])
        messages = [{"channel": "stock:CAP", "data": i} for i in range(MAX_BATCH + 1)]
        message = self.assert_error(self.post({"messages": messages}, "/api/v1/publish/batch"),
                                    413, "TOO_LARGE")
        self.assertIn("admin.max_batch_messages (%d)" % MAX_BATCH, message)
        # At the cap it is published; the refused batch left no message behind.
        results = self.pub.publish_batch(messages[:MAX_BATCH])
        self.assertEqual([r["seq"] for r in results], list(range(1, MAX_BATCH + 1)))
        self.assertEqual(c.recv_json()["data"], 0)

    def test_batch_mixed_results_in_order(self):
        c = self.subscribed_client(["stock:BATCH"])
        results = self.pub.publish_batch([
            {"channel": "stock:BATCH", "type": "price_update", "data": {"n": 1}},
            {"channel": "bad channel", "data": {}},
            {"channel": "stock:BATCH"},
            "not an object",
            {"channel": "stock:BATCH", "data": {"n": 2}},
            {"data": 3},
        ])
        self.assertEqual(len(results), 6, results)
        self.assertEqual(results[0], {"channel": "stock:BATCH", "seq": 1})
        self.assertEqual(results[1]["error"]["code"], "INVALID_CHANNEL")
        self.assertEqual(results[2]["error"]["code"], "BAD_REQUEST")
        self.assertEqual(results[3]["error"]["code"], "BAD_REQUEST")
        self.assertEqual(results[4], {"channel": "stock:BATCH", "seq": 2})
        self.assertEqual(results[5]["error"]["code"], "BAD_REQUEST")
        first, second = c.recv_json(), c.recv_json()
        self.assertEqual((first["type"], first["seq"], first["data"]), ("price_update", 1, {"n": 1}))
        self.assertEqual((second["type"], second["seq"], second["data"]), ("message", 2, {"n": 2}))

    def test_data_byte_for_byte(self):
        c = self.subscribed_client(["stock:RAW"])
        payloads = ['{"a": 1.50}', '[1.0, 2e3,\t"x"]', '"caf\\u00e9 \u00e9"', "-0.000",
                    '{"nested": {"deep": [true, false, null]},  "z" : 1e-7}', "null"]
        for i, raw in enumerate(payloads, 1):
            self.assertEqual(self.pub.publish("stock:RAW", None, type="raw", raw_data=raw), i)
        for i, raw in enumerate(payloads, 1):
            frame = c.recv_raw().decode("utf-8")
            with self.subTest(raw=raw):
                self.assertTrue(frame.endswith(',"data":%s}' % raw), frame)
                self.assertTrue(frame.startswith('{"type":"raw","channel":"stock:RAW","seq":%d,'
                                                 % i), frame)
                msg = json.loads(frame)
                self.assertEqual(msg["data"], json.loads(raw))
                self.assertIsInstance(msg["ts"], int)

    def test_get_routes(self):
        stats = self.pub.stats()
        self.assertIn("namespaces", stats["hub"])
        self.assertIn("channels", self.pub.get_json("/api/v1/channels"))
        self.assertIn("connections", self.pub.get_json("/api/v1/connections"))
        for path in ("/healthz", "/readyz"):
            r = self.pub.get(path)
            self.assertEqual((r.status, r.json()), (200, {"status": "ok"}))
        r = self.pub.get("/api/v1/publish")
        self.assert_error(r, 405, "METHOD_NOT_ALLOWED")
        self.assertEqual(r.header("Allow"), "POST")
        self.assert_error(self.pub.get("/api/v1/nope"), 404, "NOT_FOUND")


class NoTokenFile(RouterTestCase):
    """admin.publisher_token_file empty: every POST answers 401."""

    @classmethod
    def setUpClass(cls):
        import unittest
        unittest.TestCase.setUpClass()
        from router_harness import Router
        cls.router = Router(base_config(), with_token=False).start()
        cls.addClassCleanup(cls.router.stop)
        cls.pub = Admin(cls.router.admin_port, token="anything")
        cls.addClassCleanup(cls.pub.close)

    def test_every_post_refused(self):
        r = self.pub.request("POST", "/api/v1/publish", {"channel": "stock:A", "data": 1})
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json()["error"]["code"], "UNAUTHORIZED")
        self.assertIn("publisher_token_file", r.json()["error"]["message"])
