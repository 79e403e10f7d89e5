"""Fan-out: a subscriber gets what it subscribed to and nothing else; per
channel seq from 1 without holes, in order, under concurrent publishers."""

import threading

from router_harness import STEP, HarnessError, RouterTestCase, base_config, is_data

WORKERS = 2


class Isolation(RouterTestCase):
    CONFIG = base_config(server={"workers": WORKERS})

    def test_each_client_gets_exactly_its_channels(self):
        a = self.subscribed_client(["stock:A"])
        b = self.subscribed_client(["stock:B"])
        c = self.subscribed_client(["stock:A", "stock:B"])
        # A channel nobody subscribed to must not leak either.
        published = {"stock:A": [], "stock:B": []}
        for i in range(20):
            for ch in ("stock:A", "stock:B", "stock:NOBODY"):
                seq = self.pub.publish(ch, {"ch": ch, "i": i})
                if ch in published:
                    published[ch].append((seq, {"ch": ch, "i": i}))
        # Sentinels end each client's wait: on every channel it subscribed
        # to, a last publication after everything else.
        sentinels = {ch: self.pub.publish(ch, {"sentinel": True}) for ch in published}

        def drain(client, channels):
            got = {ch: [] for ch in channels}
            waiting = set(channels)
            while waiting:
                msg = client.recv_json()
                self.assertTrue(is_data(msg), msg)
                self.assertIn(msg["channel"], channels, msg)
                if msg["data"] == {"sentinel": True}:
                    self.assertEqual(msg["seq"], sentinels[msg["channel"]])
                    waiting.discard(msg["channel"])
                else:
                    got[msg["channel"]].append((msg["seq"], msg["data"]))
            return got

        self.assertEqual(drain(a, ["stock:A"]), {"stock:A": published["stock:A"]})
        self.assertEqual(drain(b, ["stock:B"]), {"stock:B": published["stock:B"]})
        self.assertEqual(drain(c, ["stock:A", "stock:B"]), published)

        # After unsubscribing, C gets B only (a ping answered after the
        # sentinel proves nothing else was queued for it).
        c.unsubscribe(["stock:A"], id=7)
        self.assertEqual(c.recv_json(), {"type": "unsubscribed", "id": 7, "channel": "stock:A"})
        self.pub.publish("stock:A", {"after": True})
        last = self.pub.publish("stock:B", {"after": True})
        msg = c.recv_json()
        self.assertEqual((msg["channel"], msg["seq"]), ("stock:B", last), msg)
        pong = c.request({"op": "ping", "id": 8})
        self.assertEqual((pong["type"], pong["id"]), ("pong", 8), pong)
        msg = a.recv_json()
        self.assertEqual((msg["channel"], msg["data"]), ("stock:A", {"after": True}))


class ConcurrentPublishers(RouterTestCase):
    CONFIG = base_config(server={"workers": WORKERS},
                         namespaces={"stock": {"queue_max_messages": 100000,
                                               "queue_max_bytes": 1 << 28}})
    PUBLISHERS = 4
    PER_PUBLISHER = 500
    CHANNEL = "stock:ORDER"

    def subscribers_on_every_worker(self, want=3, max_clients=16):
        """Connects until `want` subscribers span every worker (told apart
        by the worker index in the top bits of the connection id)."""
        clients, workers = [], set()
        while len(clients) < want or len(workers) < WORKERS:
            if len(clients) >= max_clients:
                raise HarnessError("%d connections all landed on workers %r"
                                   % (len(clients), workers))
            c = self.subscribed_client([self.CHANNEL])
            entry = self.pub.connection_of(c)
            self.assertIsNotNone(entry, "connection not listed in /api/v1/connections")
            self.assertEqual(entry["subscriptions"], [self.CHANNEL])
            workers.add(entry["id"] >> 48)
            clients.append(c)
        return clients

    def test_gapless_in_order(self):
        subscribers = self.subscribers_on_every_worker()
        total = self.PUBLISHERS * self.PER_PUBLISHER
        errors = []
        received = {id(c): [] for c in subscribers}

        def read(client):
            try:
                out = received[id(client)]
                while len(out) < total:
                    msg = client.recv_json(timeout=STEP)
                    out.append(msg)
            except Exception as e:  # reported by the main thread
                errors.append("reader: %r" % e)

        def publish(n):
            admin = self.router.admin()
            try:
                for i in range(self.PER_PUBLISHER):
                    admin.publish(self.CHANNEL, {"p": n, "i": i})
            except Exception as e:
                errors.append("publisher %d: %r" % (n, e))
            finally:
                admin.close()

        readers = [threading.Thread(target=read, args=(c,)) for c in subscribers]
        publishers = [threading.Thread(target=publish, args=(n,)) for n in range(self.PUBLISHERS)]
        for t in readers + publishers:
            t.start()
        for t in publishers + readers:
            t.join(timeout=60)
        self.assertFalse(errors, errors)
        reference = None
        for c in subscribers:
            msgs = received[id(c)]
            self.assertEqual([m["type"] for m in msgs if m["type"] != "message"], [])
            self.assertEqual([m["seq"] for m in msgs], list(range(1, total + 1)))
            by_publisher = {}
            for m in msgs:
                by_publisher.setdefault(m["data"]["p"], []).append(m["data"]["i"])
            self.assertEqual(by_publisher,
                             {n: list(range(self.PER_PUBLISHER)) for n in range(self.PUBLISHERS)})
            # Every subscriber sees the same interleaving (one seq per publication).
            order = [(m["seq"], m["data"]["p"], m["data"]["i"]) for m in msgs]
            if reference is None:
                reference = order
            self.assertEqual(order, reference)
        stats = self.pub.stats()["hub"]["namespaces"]["stock"]
        self.assertEqual(stats["dropped"], {"slow_consumer": 0, "conflated": 0, "overload": 0})
        self.assertEqual(stats["published"], total)
