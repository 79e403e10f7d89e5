"""Retained last value and `since` replay from history."""

from router_harness import RouterTestCase, base_config, is_data

SHORT_HISTORY = 5


class RetainedAndHistory(RouterTestCase):
    CONFIG = base_config(namespaces={
        "market": {"retain_last": True, "dedicated_endpoint": True},
        "short": {"history_size": SHORT_HISTORY},
        "nohist": {"history_size": 0},
    })

    def test_retained_value_right_after_subscribed(self):
        for i in range(1, 4):
            self.pub.publish("market", {"snapshot": i}, type="market_snapshot")
        c = self.client()
        c.expect_type("welcome")
        c.subscribe(["market"], id=3)
        self.assertEqual(c.recv_json(), {"type": "subscribed", "id": 3, "channel": "market",
                                         "seq": 3})
        retained = c.recv_json()
        self.assertEqual((retained["type"], retained["channel"], retained["seq"],
                          retained["data"]), ("market_snapshot", "market", 3, {"snapshot": 3}))
        seq = self.pub.publish("market", {"snapshot": 4}, type="market_snapshot")
        live = c.recv_json()
        self.assertEqual((live["seq"], live["data"]), (seq, {"snapshot": 4}))

        # The dedicated endpoint: welcome, subscribed (no id), the retained value.
        d = self.client("/ws/market")
        d.expect_type("welcome")
        sub = d.expect_type("subscribed")
        self.assertEqual((sub["channel"], sub["seq"]), ("market", 4))
        self.assertNotIn("recovered", sub)
        retained = d.recv_json()
        self.assertEqual((retained["seq"], retained["data"]), (4, {"snapshot": 4}))

    def test_no_retained_value_without_retain_last(self):
        self.pub.publish("stock:NORET", {"old": True})
        c = self.client()
        c.expect_type("welcome")
        c.subscribe(["stock:NORET"], id=1)
        sub = c.recv_json()
        self.assertEqual(sub, {"type": "subscribed", "id": 1, "channel": "stock:NORET", "seq": 1})
        seq = self.pub.publish("stock:NORET", {"new": True})
        msg = c.recv_json()
        self.assertEqual((msg["seq"], msg["data"]), (seq, {"new": True}))

    def test_since_replays_then_live(self):
        for i in range(1, 11):
            self.pub.publish("stock:HIST", {"i": i})
        c = self.client()
        c.expect_type("welcome")
        c.subscribe(["stock:HIST"], id=9, since={"stock:HIST": 5})
        self.assertEqual(c.recv_json(), {"type": "subscribed", "id": 9, "channel": "stock:HIST",
                                         "seq": 10, "recovered": True})
        for i in range(6, 11):
            msg = c.recv_json()
            self.assertEqual((msg["type"], msg["seq"], msg["data"]), ("message", i, {"i": i}))
        self.assertEqual(self.pub.publish("stock:HIST", {"i": 11}), 11)
        msg = c.recv_json()
        self.assertEqual((msg["seq"], msg["data"]), (11, {"i": 11}))

    def test_since_up_to_date_is_recovered(self):
        for i in range(1, 4):
            self.pub.publish("stock:CUR", {"i": i})
        c = self.client()
        c.expect_type("welcome")
        c.subscribe(["stock:CUR"], id=1, since={"stock:CUR": 3})
        self.assertEqual(c.recv_json(), {"type": "subscribed", "id": 1, "channel": "stock:CUR",
                                         "seq": 3, "recovered": True})
        self.pub.publish("stock:CUR", {"i": 4})
        self.assertEqual(c.recv_json()["seq"], 4)

    def test_since_older_than_history(self):
        for i in range(1, 11):
            self.pub.publish("short:X", {"i": i})
        c = self.client()
        c.expect_type("welcome")
        c.subscribe(["short:X"], id=2, since={"short:X": 2})
        self.assertEqual(c.recv_json(), {"type": "subscribed", "id": 2, "channel": "short:X",
                                         "seq": 10, "recovered": False})
        held_from = 10 - SHORT_HISTORY + 1
        self.assertEqual(c.recv_json(), {"type": "gap", "channel": "short:X", "from": 3,
                                         "to": held_from - 1, "reason": "not_in_history"})
        for i in range(held_from, 11):
            msg = c.recv_json()
            self.assertEqual((msg["seq"], msg["data"]), (i, {"i": i}))
        self.pub.publish("short:X", {"i": 11})
        self.assertEqual(c.recv_json()["seq"], 11)

    def test_since_without_history(self):
        for i in range(1, 4):
            self.pub.publish("nohist:Y", {"i": i})
        c = self.client()
        c.expect_type("welcome")
        c.subscribe(["nohist:Y"], id=4, since={"nohist:Y": 1})
        self.assertEqual(c.recv_json(), {"type": "subscribed", "id": 4, "channel": "nohist:Y",
                                         "seq": 3, "recovered": False})
        self.assertEqual(c.recv_json(), {"type": "gap", "channel": "nohist:Y", "from": 2,
                                         "to": 3, "reason": "not_in_history"})
        self.pub.publish("nohist:Y", {"i": 4})
        msg = c.recv_json()
        self.assertTrue(is_data(msg, "nohist:Y"), msg)
        self.assertEqual(msg["seq"], 4)
