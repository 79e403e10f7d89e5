"""Slow consumers: a client whose socket is blocked gets its messages held
back in a bounded queue (drop_oldest, conflate or disconnect), is told about
every hole with a `gap`, and never slows the other clients down."""

import threading

from router_harness import (STEP, Closed, HarnessError, RouterTestCase, base_config,
                            is_data)

PAYLOAD = "x" * 2000
BATCH = 50
MAX_MESSAGES = 6000  # the bound of the publishing loops
TINY_RCVBUF = 4096
EXTRA_AFTER_BLOCKED = 200


class Reader(threading.Thread):
    """Reads one client's messages on its own thread until `done(msg)`."""

    def __init__(self, client, done):
        super().__init__(daemon=True)
        self.client, self.done = client, done
        self.messages, self.error = [], None

    def run(self):
        try:
            while True:
                msg = self.client.recv_json(timeout=STEP)
                self.messages.append(msg)
                if self.done(msg):
                    return
        except BaseException as e:  # reported by finish()
            self.error = e

    def finish(self, test):
        self.join(timeout=60)
        test.assertFalse(self.is_alive(), "reader still running")
        test.assertIsNone(self.error, "reader failed: %r after %d messages"
                          % (self.error, len(self.messages)))
        return self.messages


def is_end(msg):
    return is_data(msg) and msg["data"].get("end") is True


class SlowConsumer(RouterTestCase):
    CONFIG = base_config(
        server={"workers": 2, "permessage_deflate": False},
        heartbeat={"interval_ms": 0, "pong_timeout_ms": 0, "idle_timeout_ms": 0,
                   "close_timeout_ms": 1000},
        admin={"max_publish_bytes": 4 << 20},
        namespaces={
            "stock": {"policy": "drop_oldest", "queue_max_messages": 50},
            "book": {"policy": "conflate", "queue_max_messages": 50},
            "strict": {"policy": "disconnect", "queue_max_messages": 10},
        })

    def ns_stats(self, ns):
        return self.pub.stats()["hub"]["namespaces"][ns]

    def slow_client(self, channel):
        """Subscribed, with a tiny receive buffer; the test stops reading it."""
        c = self.router.client(rcvbuf=TINY_RCVBUF)
        self._clients.append(c)
        c.expect_type("welcome")
        c.subscribe([channel], id=1)
        self.assertEqual(c.expect_type("subscribed")["seq"], 0)
        return c

    def fast_readers(self, channel, n=2):
        readers = []
        for _ in range(n):
            c = self.subscribed_client([channel])
            r = Reader(c, is_end)
            r.start()
            readers.append(r)
        return readers

    def publish_until(self, channel, blocked, key_of=lambda i: None):
        """Publishes batches until blocked() (an outside view: the stats),
        then EXTRA_AFTER_BLOCKED more; returns the seq of the last one."""
        sent, extra = 0, None
        while extra is None or sent < extra:
            if sent >= MAX_MESSAGES:
                raise HarnessError("%d messages published and the slow client never blocked"
                                   % sent)
            batch = []
            for i in range(sent, sent + BATCH):
                m = {"channel": channel, "data": {"i": i, "pad": PAYLOAD}}
                key = key_of(i)
                if key is not None:
                    m["key"] = key
                    m["data"]["key"] = key
                batch.append(m)
            results = self.pub.publish_batch(batch)
            self.assertEqual([r.get("seq") for r in results],
                             list(range(sent + 1, sent + BATCH + 1)))
            sent += BATCH
            if extra is None and blocked():
                extra = sent + EXTRA_AFTER_BLOCKED
        return sent

    def assert_complete(self, messages, last):
        seqs = [m["seq"] for m in messages if is_data(m)]
        self.assertEqual(seqs, list(range(1, last + 1)))
        self.assertEqual([m for m in messages if not is_data(m)], [])

    def assert_holes_announced(self, messages, reasons):
        """Seqs increase; each hole is announced right before the message
        after it by a gap covering exactly the hole; no other gaps."""
        prev, pending_gap, holes = 0, None, []
        for m in messages:
            if m["type"] == "gap":
                self.assertIsNone(pending_gap, "two gaps in a row: %r" % m)
                pending_gap = m
                continue
            self.assertTrue(is_data(m), m)
            seq = m["seq"]
            self.assertGreater(seq, prev, "seq went back: %r" % m)
            if seq > prev + 1:
                self.assertIsNotNone(pending_gap, "hole %d..%d without a gap" % (prev + 1, seq - 1))
                self.assertEqual((pending_gap["from"], pending_gap["to"]), (prev + 1, seq - 1),
                                 pending_gap)
                self.assertIn(pending_gap["reason"], reasons, pending_gap)
                holes.append((prev + 1, seq - 1))
            else:
                self.assertIsNone(pending_gap, "gap %r without a hole before seq %d"
                                  % (pending_gap, seq))
            pending_gap = None
            prev = seq
        self.assertIsNone(pending_gap, "gap at the end")
        return holes

    def read_until_seq(self, client, last):
        out = []
        while True:
            m = client.recv_json(timeout=STEP)
            out.append(m)
            if is_data(m) and m["seq"] >= last:
                return out

    def test_drop_oldest(self):
        channel = "stock:SLOW"
        slow = self.slow_client(channel)
        readers = self.fast_readers(channel)
        last = self.publish_until(
            channel, lambda: self.ns_stats("stock")["dropped"]["slow_consumer"] > 0)
        last = self.pub.publish(channel, {"end": True})
        for r in readers:
            self.assert_complete(r.finish(self), last)
        messages = self.read_until_seq(slow, last)
        holes = self.assert_holes_announced(messages, {"slow_consumer"})
        self.assertTrue(holes, "no hole at all")
        missing = sum(b - a + 1 for a, b in holes)
        stats = self.ns_stats("stock")
        self.assertEqual(stats["dropped"]["slow_consumer"], missing)
        self.assertGreaterEqual(stats["gaps_sent"], len(holes))
        self.assertEqual(stats["published"], last)
        self.assertEqual(stats["dropped"]["conflated"], 0)
        # Still subscribed and served normally once it reads again.
        seq = self.pub.publish(channel, {"after": True})
        m = slow.recv_json()
        self.assertEqual((m["seq"], m["data"]), (seq, {"after": True}))

    def test_conflate(self):
        channel = "book:SLOW"
        keys = ["K%d" % k for k in range(5)]
        slow = self.slow_client(channel)
        readers = self.fast_readers(channel)
        self.publish_until(channel, lambda: self.ns_stats("book")["dropped"]["conflated"] > 0,
                           key_of=lambda i: keys[i % len(keys)])
        finals = {}
        for k in keys:
            finals[k] = self.pub.publish(channel, {"key": k, "final": True}, key=k)
        last = self.pub.publish(channel, {"end": True})
        for r in readers:
            self.assert_complete(r.finish(self), last)
        messages = self.read_until_seq(slow, last)
        holes = self.assert_holes_announced(messages, {"conflated"})
        self.assertTrue(holes, "no hole at all")
        got = {m["seq"]: m for m in messages if is_data(m)}
        # The latest value of every key arrives.
        for k, seq in finals.items():
            self.assertIn(seq, got, "final value of %s (seq %d) lost" % (k, seq))
        # Each missing message was replaced by a later one of its key.
        delivered_by_key = {}
        for seq, m in got.items():
            delivered_by_key.setdefault(m["data"].get("key"), []).append(seq)
        for a, b in holes:
            for seq in range(a, b + 1):
                key = keys[(seq - 1) % len(keys)] if seq <= last - len(keys) - 1 else None
                self.assertIsNotNone(key, "a final value (seq %d) was dropped" % seq)
                self.assertTrue(any(s > seq for s in delivered_by_key.get(key, [])),
                                "seq %d (key %s) dropped without a newer value" % (seq, key))
        stats = self.ns_stats("book")
        self.assertEqual(stats["dropped"]["slow_consumer"], 0)
        self.assertEqual(stats["dropped"]["conflated"], sum(b - a + 1 for a, b in holes))

    def test_disconnect(self):
        channel = "strict:SLOW"
        slow = self.slow_client(channel)
        readers = self.fast_readers(channel)
        self.publish_until(channel,
                           lambda: self.ns_stats("strict")["disconnected_slow_consumer"] > 0)
        last = self.pub.publish(channel, {"end": True})
        for r in readers:
            self.assert_complete(r.finish(self), last)
        prev = 0
        with self.assertRaises(Closed) as closed:
            while True:
                m = slow.recv_json(timeout=STEP)
                self.assertTrue(is_data(m), m)
                self.assertEqual(m["seq"], prev + 1, "hole before a disconnect: %r" % m)
                prev = m["seq"]
        self.assertEqual(closed.exception.code, 4008)
        self.assertLess(prev, last)
        slow.send_close(4008)
        slow.wait_eof()
        self.assertEqual(self.ns_stats("strict")["disconnected_slow_consumer"], 1)
