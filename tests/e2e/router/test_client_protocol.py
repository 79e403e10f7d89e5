"""Client-side protocol: welcome, per-request errors (the connection stays
open), ids echoed, endpoints that do not exist."""

from router_harness import RouterTestCase, base_config, upgrade_response

LIMIT = 50  # subscriptions per connection, and channels per request


class ClientProtocol(RouterTestCase):
    CONFIG = base_config(heartbeat={"interval_ms": 25000, "close_timeout_ms": 1000})

    def setUp(self):
        super().setUp()
        self.c = self.client()
        welcome = self.c.expect_type("welcome")
        self.assertEqual(welcome["heartbeat_ms"], 25000)
        self.assertTrue(welcome["session"].startswith("s-"), welcome)
        self.assertTrue(welcome["resume"].startswith("r-"), welcome)
        self.assertIsInstance(welcome["server_time"], int)

    def assert_error(self, msg, code, id=None):
        self.assertEqual(msg["type"], "error", msg)
        self.assertEqual(msg["code"], code, msg)
        self.assertTrue(msg["message"], msg)
        if id is None:
            self.assertNotIn("id", msg)
        else:
            self.assertEqual(msg["id"], id, msg)

    def assert_open(self, id=999):
        pong = self.c.request({"op": "ping", "id": id})
        self.assertEqual((pong["type"], pong["id"]), ("pong", id), pong)

    def test_ping(self):
        pong = self.c.request({"op": "ping", "id": 3})
        self.assertEqual(set(pong), {"type", "id", "server_time"})
        self.assertEqual((pong["type"], pong["id"]), ("pong", 3))
        self.assertIsInstance(pong["server_time"], int)
        pong = self.c.request({"op": "ping"})
        self.assertEqual(pong["type"], "pong")
        self.assertNotIn("id", pong)

    def test_invalid_json(self):
        for text in ("{", "not json", '{"op":"ping"', "\"\\x\""):
            with self.subTest(text=text):
                self.c.send_text(text)
                self.assert_error(self.c.recv_json(), "BAD_REQUEST")
        self.c.send_text("[1]")
        self.assert_error(self.c.recv_json(), "BAD_REQUEST")
        self.c.send_binary(b'{"op":"ping","id":1}')
        self.assert_error(self.c.recv_json(), "BAD_REQUEST")
        self.assert_open()

    def test_bad_fields_echo_id(self):
        cases = [
            ({"id": 5}, "BAD_REQUEST"),                                      # no op
            ({"id": 6, "op": 1}, "BAD_REQUEST"),
            ({"id": 7, "op": "subscribe"}, "BAD_REQUEST"),                   # no channels
            ({"id": 8, "op": "subscribe", "channels": []}, "BAD_REQUEST"),
            ({"id": 9, "op": "subscribe", "channels": [1]}, "BAD_REQUEST"),
            ({"id": 10, "op": "subscribe", "channels": ["stock:A"], "since": {"stock:A": -1}},
             "BAD_REQUEST"),
            ({"id": 11, "op": "unsubscribe"}, "BAD_REQUEST"),
        ]
        for msg, code in cases:
            with self.subTest(msg=msg):
                self.assert_error(self.c.request(msg), code, id=msg["id"])
        self.assert_open()

    def test_unknown_op(self):
        self.assert_error(self.c.request({"op": "dance", "id": 12}), "UNKNOWN_OP", id=12)
        answer = self.c.request({"op": "x" * 500, "id": 13})
        self.assert_error(answer, "UNKNOWN_OP", id=13)
        self.assertLess(len(answer["message"]), 300, answer)
        self.assert_open()

    def test_invalid_channel(self):
        for name in ("has space", "", "x" * 129, "a/b"):
            with self.subTest(name=name):
                self.assert_error(self.c.request({"op": "subscribe", "id": 14,
                                                  "channels": [name]}), "INVALID_CHANNEL", id=14)
        # A bad one among good ones: the good ones are subscribed, in order.
        self.c.subscribe(["stock:G1", "bad name", "stock:G2"], id=15)
        first, second, third = self.c.recv_json(), self.c.recv_json(), self.c.recv_json()
        self.assertEqual((first["type"], first["channel"], first["id"]), ("subscribed", "stock:G1", 15))
        self.assert_error(second, "INVALID_CHANNEL", id=15)
        self.assertEqual((third["type"], third["channel"], third["id"]), ("subscribed", "stock:G2", 15))
        self.assert_open()

    def test_subscription_limit(self):
        too_many = ["stock:T%d" % i for i in range(LIMIT + 1)]
        # More channels than one request may name: refused whole.
        self.assert_error(self.c.request({"op": "subscribe", "id": 16, "channels": too_many}),
                          "BAD_REQUEST", id=16)
        self.c.subscribe(too_many[:LIMIT], id=17)
        for name in too_many[:LIMIT]:
            msg = self.c.recv_json()
            self.assertEqual((msg["type"], msg["channel"], msg["id"]), ("subscribed", name, 17))
        self.assert_error(self.c.request({"op": "subscribe", "id": 18,
                                          "channels": [too_many[LIMIT]]}),
                          "SUBSCRIPTION_LIMIT", id=18)
        # Subscribing again to one it has is not a new subscription.
        again = self.c.request({"op": "subscribe", "id": 19, "channels": [too_many[0]]})
        self.assertEqual((again["type"], again["channel"]), ("subscribed", too_many[0]))
        # After an unsubscribe there is room for one more.
        self.assertEqual(self.c.request({"op": "unsubscribe", "id": 20, "channels": [too_many[0]]}),
                         {"type": "unsubscribed", "id": 20, "channel": too_many[0]})
        ok = self.c.request({"op": "subscribe", "id": 21, "channels": [too_many[LIMIT]]})
        self.assertEqual((ok["type"], ok["channel"], ok["id"]), ("subscribed", too_many[LIMIT], 21))
        self.assert_open()

    def test_unsubscribe_answers(self):
        self.c.subscribe(["stock:U"], id=22)
        self.c.expect_type("subscribed")
        self.assertEqual(self.c.request({"op": "unsubscribe", "id": 23, "channels": ["stock:U"]}),
                         {"type": "unsubscribed", "id": 23, "channel": "stock:U"})
        # Not subscribed: answered the same way.
        self.assertEqual(self.c.request({"op": "unsubscribe", "id": 24, "channels": ["stock:V"]}),
                         {"type": "unsubscribed", "id": 24, "channel": "stock:V"})
        # Nothing from stock:U any more: the next message is the pong.
        self.pub.publish("stock:U", {"late": True})
        self.assert_open(25)

    def test_auth_and_resume_answer_errors(self):
        self.assert_error(self.c.request({"op": "auth", "id": 26, "token": "t"}), "INVALID_TOKEN",
                          id=26)
        self.assert_error(self.c.request({"op": "resume", "id": 27, "session": "s", "resume": "r"}),
                          "RESUME_FAILED", id=27)
        self.assert_open()

    def test_endpoints(self):
        for path in ("/ws/stock:AAPL", "/nope", "/ws/", "/ws/bad%20name", "/ws/sector:tech"):
            with self.subTest(path=path):
                r = upgrade_response(self.router.port, path)
                self.assertEqual(r.status, 404, r.raw_head)
                self.assertEqual(r.json()["error"]["code"], "NOT_FOUND")
        for path in ("/ws/market", "/ws/index", "/ws/foreign"):
            with self.subTest(path=path):
                d = self.client(path)
                d.expect_type("welcome")
                sub = d.expect_type("subscribed")
                self.assertEqual(sub["channel"], path[4:])
