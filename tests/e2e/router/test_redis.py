"""broker.type redis against a real redis-server: several wsrouter
processes on one Redis act as one router (one seq per channel on every
instance, history and retained values from any), and Redis going away is
survived: readiness flips and recovers, publications answer 503 with
Retry-After meanwhile, clients keep their connections, and afterwards every
subscriber gets what it missed from the stream, a `gap` for what the stream
no longer holds, or a `gap` with reason `epoch` when Redis came back empty.

    WSROUTER=build/wsrouter /usr/bin/python3 -m unittest tests/e2e/router/test_redis.py
"""

import os
import re
import shutil
import tempfile
import threading
import time
import unittest

from redis_tools import REDIS_SERVER, CuttableProxy, RedisServer, redis_call, redis_command
from router_harness import STEP, Router, base_config, wait_until

LINGER_MS = 300


def redis_config(address, **namespaces):
    config = base_config(broker={"type": "redis", "redis": {
        "addresses": [address], "unsubscribe_linger_ms": LINGER_MS,
        "connect_timeout_ms": 500, "command_timeout_ms": 1000}})
    if namespaces:
        merged = dict(config.get("namespaces", {}))
        merged.update(namespaces)
        config["namespaces"] = merged
    return config


def broker_counters(admin):
    """The wsrouter_broker_<name>_total counters of one instance, by name."""
    out = {}
    for line in admin.get("/metrics").body.decode().splitlines():
        m = re.match(r'^wsrouter_broker_(\w+)_total\{broker="redis"\} (\S+)$', line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def data_messages(client, count, channel=None):
    """The next `count` data messages (gaps too are returned, as they come)."""
    out = []
    while len(out) < count:
        msg = client.recv_json()
        if msg.get("type") == "pong":
            continue
        if channel is not None and msg.get("channel") != channel:
            continue
        out.append(msg)
    return out


@unittest.skipUnless(os.access(REDIS_SERVER, os.X_OK), "redis-server is not installed")
class RedisTestCase(unittest.TestCase):
    def setUp(self):
        super().setUp()
        self.routers = []
        self.clients = []
        self.admins = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        for a in self.admins:
            a.close()
        for r in self.routers:
            r.check()
            r.stop()
        super().tearDown()

    def redis(self, persistent=False, password=None):
        server = RedisServer(persistent=persistent, password=password).start()
        self.addCleanup(server.stop)
        return server

    def router(self, address, password_file=None, expect_ready=True, **namespaces):
        config = redis_config(address, **namespaces)
        if password_file is not None:
            config["broker"]["redis"]["password_file"] = password_file
        r = Router(config).start()
        self.routers.append(r)
        # A reachable Redis is connected before the router says it serves.
        self.assertEqual(self.ready(r), expect_ready)
        return r

    def admin(self, router):
        a = router.admin()
        self.admins.append(a)
        return a

    def subscribed(self, router, channels, since=None):
        c = router.client()
        self.clients.append(c)
        c.expect_type("welcome")
        c.subscribe(channels, id=1, since=since)
        answers = []
        for _ in channels:
            answers.append(c.expect_type("subscribed"))
        return c, answers

    def ready(self, router):
        return self.admin(router).get("/readyz").status == 200

    def wait_ready(self, router, ready=True):
        a = self.admin(router)
        wait_until(lambda: (a.get("/readyz").status == 200) == ready, timeout=STEP,
                   what="/readyz %s" % ("200" if ready else "503"), interval=0.05)


class ScaleOut(RedisTestCase):
    def test_three_instances_publish_through_any_receive_on_all_with_one_seq(self):
        redis = self.redis()
        routers = [self.router(redis.address()) for _ in range(3)]
        clients = [self.subscribed(r, ["stock:ONE"])[0] for r in routers]
        for c in clients:
            pass
        admins = [self.admin(r) for r in routers]
        seqs = []
        for i in range(9):
            seqs.append(admins[i % 3].publish("stock:ONE", {"i": i}, type="price_update"))
        self.assertEqual(seqs, list(range(1, 10)))
        frames = []
        for c in clients:
            got = data_messages(c, 9, "stock:ONE")
            self.assertEqual([m["seq"] for m in got], list(range(1, 10)))
            self.assertEqual([m["data"] for m in got], [{"i": i} for i in range(9)])
            self.assertTrue(all(m["type"] == "price_update" for m in got))
            frames.append([(m["seq"], m["ts"]) for m in got])
        # The same publication is the same message on every instance.
        self.assertEqual(frames[0], frames[1])
        self.assertEqual(frames[0], frames[2])

    def test_history_and_retained_values_from_any_instance(self):
        redis = self.redis()
        a = self.router(redis.address())
        b = self.router(redis.address())
        pa = self.admin(a)
        for i in range(1, 11):
            pa.publish("stock:HIST", {"i": i})
        for i in range(1, 4):
            pa.publish("market", {"snapshot": i}, type="market_snapshot")
        # b has never seen either channel: both come from Redis.
        c, answers = self.subscribed(b, ["stock:HIST"], since={"stock:HIST": 5})
        self.assertEqual(answers[0]["seq"], 10)
        self.assertTrue(answers[0]["recovered"])
        got = data_messages(c, 5)
        self.assertEqual([(m["seq"], m["data"]) for m in got], [(i, {"i": i}) for i in range(6, 11)])
        d, answers = self.subscribed(b, ["market"])
        self.assertEqual(answers[0]["seq"], 3)
        retained = d.recv_json()
        self.assertEqual((retained["type"], retained["seq"], retained["data"]),
                         ("market_snapshot", 3, {"snapshot": 3}))
        # And live from then on, published through the other instance.
        pa.publish("stock:HIST", {"i": 11})
        self.assertEqual(data_messages(c, 1)[0]["seq"], 11)

    def test_answers_keep_the_order_of_the_requests_while_channels_are_read_from_redis(self):
        redis = self.redis()
        a = self.router(redis.address())
        self.admin(a).publish("market", {"snapshot": 1}, type="market_snapshot")
        c = a.client()
        self.clients.append(c)
        c.expect_type("welcome")
        # Each new channel waits for its state from Redis; the answers, and
        # the ping after them, still come in the order asked.
        c.subscribe(["stock:O1", "bad name", "market", "stock:O2"], id=4)
        c.send_json({"op": "ping", "id": 5})
        got = [c.recv_json() for _ in range(6)]
        self.assertEqual([(m["type"], m.get("channel"), m.get("id")) for m in got],
                         [("subscribed", "stock:O1", 4), ("error", None, 4),
                          ("subscribed", "market", 4), ("market_snapshot", "market", None),
                          ("subscribed", "stock:O2", 4), ("pong", None, 5)])

    def test_keys_share_a_hash_tag_and_instances_unsubscribe_after_the_linger(self):
        redis = self.redis()
        a = self.router(redis.address())
        c, _ = self.subscribed(a, ["stock:KEYS"])
        wait_until(lambda: b":1\r\n" in redis_command(
            redis.port, "PUBSUB", "NUMSUB", "wsr:{stock:KEYS}:msg"), what="subscribed in Redis")
        self.admin(a).publish("stock:KEYS", {"x": 1})
        keys = redis_command(redis.port, "KEYS", "wsr:{stock:KEYS}:*")
        self.assertIn(b"wsr:{stock:KEYS}:seq", keys)
        self.assertIn(b"wsr:{stock:KEYS}:stream", keys)
        c.unsubscribe(["stock:KEYS"], id=2)
        wait_until(lambda: b":0\r\n" in redis_command(
            redis.port, "PUBSUB", "NUMSUB", "wsr:{stock:KEYS}:msg"), what="unsubscribed in Redis")


    def test_concurrent_publishers_through_two_instances_get_one_gapless_sequence(self):
        redis = self.redis()
        a = self.router(redis.address())
        b = self.router(redis.address())
        clients = [self.subscribed(r, ["stock:MANY"])[0] for r in (a, b)]
        per_thread, threads = 50, 8
        seqs = []
        lock = threading.Lock()

        def publish(router, n):
            admin = router.admin()
            try:
                for i in range(per_thread):
                    seq = admin.publish("stock:MANY", {"t": n, "i": i})
                    with lock:
                        seqs.append(seq)
            finally:
                admin.close()

        workers = [threading.Thread(target=publish, args=((a, b)[n % 2], n))
                   for n in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=60)
        total = per_thread * threads
        self.assertEqual(sorted(seqs), list(range(1, total + 1)))
        for c in clients:
            got = data_messages(c, total)
            self.assertEqual([m["seq"] for m in got], list(range(1, total + 1)))
            # Each publisher's own messages arrive in the order it sent them.
            for n in range(threads):
                mine = [m["data"]["i"] for m in got if m["data"]["t"] == n]
                self.assertEqual(mine, list(range(per_thread)))

    def test_a_batch_goes_as_one_script_call_per_run_of_a_channel(self):
        redis = self.redis()
        runs = {"history_size": 100, "retain_last": True}
        a = self.router(redis.address(), runs=runs)
        b = self.router(redis.address(), runs=runs)
        clients = [self.subscribed(r, ["runs:ONE", "runs:TWO"])[0] for r in (a, b)]
        self.assertIn(b"+OK", redis_command(redis.port, "CONFIG", "RESETSTAT"))
        batch = [{"channel": "runs:ONE", "type": "t%d" % i, "key": "k %d" % i, "data": {"i": i}}
                 for i in range(3)]
        batch += [{"channel": "runs:TWO", "data": {"i": i}} for i in (3, 4)]
        batch += [{"channel": "runs:ONE", "data": {"i": 5}},
                  {"channel": "no good", "data": {"i": 6}},  # refused: no break in the run
                  {"channel": "runs:ONE", "data": {"i": 7}},
                  {"channel": "runs:ONE", "data": {"i": 8}}]
        results = self.admin(a).publish_batch(batch)
        self.assertEqual([r.get("seq") for r in results], [1, 2, 3, 1, 2, 4, None, 5, 6])
        self.assertIn("error", results[6])
        # Three runs (ONE, TWO, ONE again): three script calls, each
        # published as one pub/sub message.
        stats = redis_command(redis.port, "INFO", "commandstats").decode()
        self.assertRegex(stats, r"cmdstat_evalsha:calls=3,")
        self.assertRegex(stats, r"cmdstat_publish:calls=3,")
        self.assertRegex(stats, r"cmdstat_xadd:calls=8,")
        for c in clients:
            got = data_messages(c, 8)
            one = [(m["seq"], m["data"]["i"]) for m in got if m["channel"] == "runs:ONE"]
            two = [(m["seq"], m["data"]["i"]) for m in got if m["channel"] == "runs:TWO"]
            self.assertEqual(one, [(1, 0), (2, 1), (3, 2), (4, 5), (5, 7), (6, 8)])
            self.assertEqual(two, [(1, 3), (2, 4)])
            self.assertEqual([m["type"] for m in got if m["channel"] == "runs:ONE"][:3],
                             ["t0", "t1", "t2"])
        # The stream holds one entry per publication and the retained value
        # is the run's last: a third instance reads them as ever.
        third = self.router(redis.address(), runs=runs)
        d, answers = self.subscribed(third, ["runs:ONE"], since={"runs:ONE": 0})
        self.assertEqual(answers[0]["seq"], 6)
        got = data_messages(d, 6)
        self.assertEqual([(m["seq"], m["data"]["i"]) for m in got],
                         [(1, 0), (2, 1), (3, 2), (4, 5), (5, 7), (6, 8)])
        e, answers = self.subscribed(third, ["runs:TWO"])
        retained = data_messages(e, 1)[0]
        self.assertEqual((retained["seq"], retained["data"]), (2, {"i": 4}))

    def test_the_script_is_loaded_again_after_script_flush(self):
        redis = self.redis()
        a = self.router(redis.address())
        c, _ = self.subscribed(a, ["stock:FLUSH"])
        pa = self.admin(a)
        self.assertEqual(pa.publish("stock:FLUSH", {"i": 1}), 1)
        self.assertIn(b"+OK", redis_command(redis.port, "SCRIPT", "FLUSH"))
        self.assertEqual(pa.publish("stock:FLUSH", {"i": 2}), 2)
        self.assertEqual([m["seq"] for m in data_messages(c, 2)], [1, 2])

    def test_broker_metrics(self):
        redis = self.redis()
        a = self.router(redis.address())
        pa = self.admin(a)
        pa.publish("stock:MET", {"i": 1})

        def scrape():
            text = pa.get("/metrics").body.decode()
            values = {}
            for line in text.splitlines():
                m = re.match(r'^(wsrouter_broker_\w+)\{broker="redis"(?:,le="\+Inf")?\} (\S+)$',
                             line)
                if m and (m.group(1) != "wsrouter_broker_command_duration_seconds_bucket"):
                    values[m.group(1)] = float(m.group(2))
            return values

        first = scrape()
        self.assertEqual(first["wsrouter_broker_up"], 1)
        self.assertGreaterEqual(first["wsrouter_broker_command_duration_seconds_count"], 1)
        self.assertEqual(first["wsrouter_broker_reconnects_total"], 0)
        self.assertEqual(first["wsrouter_broker_publish_failures_total"], 0)
        redis.kill()
        self.wait_ready(a, False)
        self.assertEqual(pa.publish_response("stock:MET", {"i": 2}).status, 503)
        down = scrape()
        self.assertEqual(down["wsrouter_broker_up"], 0)
        self.assertGreaterEqual(down["wsrouter_broker_publish_failures_total"], 1)
        self.assertGreater(down["wsrouter_broker_errors_total"], 0)
        redis.start()
        self.wait_ready(a, True)
        up = scrape()
        self.assertEqual(up["wsrouter_broker_up"], 1)
        self.assertGreaterEqual(up["wsrouter_broker_reconnects_total"], 2)  # both connections


    def test_password_file_is_used_and_a_wrong_one_keeps_the_instance_unready(self):
        redis = self.redis(password="s3cret-redis")
        directory = tempfile.mkdtemp(prefix="wsrouter-redis-pw-")
        self.addCleanup(shutil.rmtree, directory, True)
        good = os.path.join(directory, "good")
        bad = os.path.join(directory, "bad")
        with open(good, "w") as f:
            f.write("s3cret-redis\n")
        with open(bad, "w") as f:
            f.write("wrong\n")
        a = self.router(redis.address(), password_file=good)
        c, _ = self.subscribed(a, ["stock:PW"])
        self.assertEqual(self.admin(a).publish("stock:PW", {"i": 1}), 1)
        self.assertEqual(data_messages(c, 1)[0]["seq"], 1)
        b = self.router(redis.address(), password_file=bad, expect_ready=False)
        r = self.admin(b).get("/readyz")
        self.assertEqual(r.status, 503)
        self.assertEqual(self.admin(b).publish_response("stock:PW", {"i": 2}).status, 503)
        # The password never appears in the logs.
        for router in (a, b):
            self.assertFalse(any("s3cret" in line for line in router.stdout_lines))

    def test_an_acl_user_authenticates_with_the_password_file(self):
        redis = self.redis()
        directory = tempfile.mkdtemp(prefix="wsrouter-redis-acl-")
        self.addCleanup(shutil.rmtree, directory, True)
        password = os.path.join(directory, "password")
        with open(password, "w") as f:
            f.write("acl-pass-1\n")
        # A user that may do what the router does, and nothing as `default`.
        self.assertEqual(redis_command(redis.port, "ACL", "SETUSER", "wsrouter", "on",
                                       ">acl-pass-1", "~wsr:*", "&wsr:*", "+@all"), b"+OK\r\n")
        self.assertEqual(redis_command(redis.port, "ACL", "SETUSER", "default", "off"), b"+OK\r\n")
        config = redis_config(redis.address())
        config["broker"]["redis"].update({"username": "wsrouter", "password_file": password})
        a = Router(config).start()
        self.routers.append(a)
        self.assertTrue(self.ready(a))
        c, _ = self.subscribed(a, ["stock:ACL"])
        self.assertEqual(self.admin(a).publish("stock:ACL", {"i": 1}), 1)
        self.assertEqual(data_messages(c, 1)[0]["seq"], 1)
        # Another user name with the same password is refused: unready.
        config["broker"]["redis"]["username"] = "someone-else"
        b = Router(config).start()
        self.routers.append(b)
        self.assertFalse(self.ready(b))


class Audience(RedisTestCase):
    """hasSubscribers across instances: Redis's PUBLISH answers how many
    instances were subscribed; a channel nobody listened to is not
    published again for the recheck interval (1 s)."""

    RECHECK_S = 1.0

    def seq(self, redis, channel):
        value = redis_call(redis.port, "HGET", "wsr:{%s}:seq" % channel, "seq")
        return int(value) if value is not None else 0

    def test_the_feed_skips_a_channel_no_instance_listens_to_until_one_subscribes(self):
        redis = self.redis()
        config = redis_config(redis.address())
        config["feed"] = {"enabled": True, "tick_interval_ms": 20, "snapshot_interval_ms": 20}
        a = Router(config).start()
        self.routers.append(a)
        b = self.router(redis.address())
        # The first snapshot is published (nobody known yet), and Redis
        # answers that no instance received it.
        wait_until(lambda: self.seq(redis, "market") >= 1, what="the first market snapshot")
        start, began = self.seq(redis, "market"), time.monotonic()
        time.sleep(3 * self.RECHECK_S)  # a window to count publications in, not a wait
        published = self.seq(redis, "market") - start
        elapsed = time.monotonic() - began
        # One a recheck interval at most (a snapshot every 20 ms would be
        # some 150): the channel is asked about again, not fed.
        self.assertLessEqual(published, int(elapsed / self.RECHECK_S) + 1)
        self.assertGreaterEqual(published, 1)  # it is asked again, though
        # A subscriber on the other instance gets the feed within the
        # recheck interval (plus a snapshot period).
        c, answers = self.subscribed(b, ["market"])
        subscribed_at = time.monotonic()
        first = answers[0]["seq"]
        while True:
            msg = data_messages(c, 1, "market")[0]
            if msg["seq"] > first:
                break
        self.assertLess(time.monotonic() - subscribed_at, self.RECHECK_S + 1.0)
        # From then on every snapshot is published.
        got = data_messages(c, 10, "market")
        self.assertEqual([m["seq"] for m in got], list(range(msg["seq"] + 1, msg["seq"] + 11)))


class Outages(RedisTestCase):
    def test_an_instance_cut_from_redis_catches_up_from_the_stream(self):
        redis = self.redis()
        proxy = CuttableProxy(redis.port)
        self.addCleanup(proxy.close)
        a = self.router(redis.address())
        b = self.router(proxy.address(), short={"history_size": 2})
        pa, pb = self.admin(a), self.admin(b)
        cb, _ = self.subscribed(b, ["stock:CUT", "short:CUT"])
        pa.publish("stock:CUT", {"i": 1})
        pa.publish("short:CUT", {"i": 1})
        self.assertEqual(len(data_messages(cb, 2)), 2)

        proxy.cut()
        self.wait_ready(b, False)
        self.assertTrue(self.ready(a))
        r = pb.publish_response("stock:CUT", {"i": "refused"})
        self.assertEqual(r.status, 503)
        self.assertEqual(r.json()["error"]["code"], "UNAVAILABLE")
        self.assertIsNotNone(r.header("retry-after"))
        for i in range(2, 7):
            pa.publish("stock:CUT", {"i": i})
            pa.publish("short:CUT", {"i": i})
        # b's client keeps its connection meanwhile.
        cb.send_json({"op": "ping", "id": 7})
        self.assertEqual(cb.expect_type("pong")["id"], 7)
        # A client subscribing to a channel b has not read yet is answered
        # once Redis is back (its state comes from Redis).
        late = b.client()
        self.clients.append(late)
        late.expect_type("welcome")
        late.subscribe(["stock:LATE"], id=8)
        pa.publish("stock:LATE", {"i": 1})

        proxy.restore()
        answer = late.expect_type("subscribed")
        self.assertEqual((answer["channel"], answer["seq"], answer["id"]), ("stock:LATE", 1, 8))
        self.wait_ready(b, True)
        both = data_messages(cb, 8)
        got = [m for m in both if m["channel"] == "stock:CUT"]
        self.assertEqual([(m["type"], m["seq"]) for m in got],
                         [("message", i) for i in range(2, 7)])
        # The short stream kept 2: the rest is a gap, then those 2.
        got = [m for m in both if m["channel"] == "short:CUT"]
        self.assertEqual(got[0]["type"], "gap")
        self.assertEqual((got[0]["from"], got[0]["to"], got[0]["reason"]),
                         (2, 4, "not_in_history"))
        self.assertEqual([m["seq"] for m in got[1:]], [5, 6])
        pb.publish("stock:CUT", {"i": 7})
        self.assertEqual(data_messages(cb, 1, "stock:CUT")[0]["seq"], 7)
        # Counted: 5 + 2 replayed from the streams, 3 seqs lost (the gap).
        counts = broker_counters(pb)
        self.assertEqual((counts["replayed"], counts["lost"]), (7, 3))

    def test_a_seq_numbered_twice_restarts_the_numbering_and_nobody_gets_it_twice(self):
        # What a failover to a replica that missed writes does: Redis hands
        # out seqs again that subscribers already had, as other publications.
        redis = self.redis()
        a = self.router(redis.address())
        b = self.router(redis.address())
        pa, pb = self.admin(a), self.admin(b)
        clients = [self.subscribed(r, ["stock:TWICE"])[0] for r in (a, b)]
        for i in range(1, 6):
            pa.publish("stock:TWICE", {"i": i})
        for c in clients:
            self.assertEqual([m["seq"] for m in data_messages(c, 5)], [1, 2, 3, 4, 5])
        # The replica knew up to 3 only: its seq, and its stream.
        redis_command(redis.port, "HSET", "wsr:{stock:TWICE}:seq", "seq", "3")
        redis_command(redis.port, "XDEL", "wsr:{stock:TWICE}:stream", "0-4", "0-5")
        redis_command(redis.port, "XSETID", "wsr:{stock:TWICE}:stream", "0-3")
        self.assertEqual(pb.publish("stock:TWICE", {"i": "4 again"}), 4)
        # The instances saw another publication under a seq they had: the
        # numbering restarts, so the next publication comes as seq 1 of a new
        # epoch, announced, and seq 4 never reaches anyone twice.
        wait_until(lambda: all(broker_counters(p)["numbering_conflicts"] >= 1 for p in (pa, pb)),
                   STEP, "the conflict seen by both instances")
        self.assertEqual(pa.publish("stock:TWICE", {"i": "new"}), 1)
        for c in clients:
            gap, first = data_messages(c, 2)
            self.assertEqual((gap["type"], gap["reason"]), ("gap", "epoch"), gap)
            self.assertEqual((first["type"], first["seq"], first["data"]),
                             ("message", 1, {"i": "new"}))
        for p in (pa, pb):
            self.assertEqual(broker_counters(p)["epoch_changes"], 1)

    def test_an_instance_back_to_a_redis_whose_seq_went_back_restarts_the_numbering(self):
        redis = self.redis()
        proxy = CuttableProxy(redis.port)
        self.addCleanup(proxy.close)
        a = self.router(redis.address())
        b = self.router(proxy.address())
        pa, pb = self.admin(a), self.admin(b)
        cb, _ = self.subscribed(b, ["stock:BACK"])
        for i in range(1, 6):
            pa.publish("stock:BACK", {"i": i})
        self.assertEqual([m["seq"] for m in data_messages(cb, 5)], [1, 2, 3, 4, 5])
        proxy.cut()
        self.wait_ready(b, False)
        # Meanwhile Redis failed over to a replica that knew up to 3.
        redis_command(redis.port, "HSET", "wsr:{stock:BACK}:seq", "seq", "3")
        redis_command(redis.port, "XDEL", "wsr:{stock:BACK}:stream", "0-4", "0-5")
        redis_command(redis.port, "XSETID", "wsr:{stock:BACK}:stream", "0-3")
        proxy.restore()
        self.wait_ready(b, True)
        self.assertEqual(broker_counters(pb)["numbering_conflicts"], 1)
        self.assertEqual(pa.publish("stock:BACK", {"i": "new"}), 1)
        gap, first = data_messages(cb, 2)
        self.assertEqual((gap["type"], gap["reason"]), ("gap", "epoch"), gap)
        self.assertEqual((first["seq"], first["data"]), (1, {"i": "new"}))

    def test_redis_killed_and_restarted_with_its_data_streams_continue(self):
        redis = self.redis(persistent=True)
        a = self.router(redis.address())
        b = self.router(redis.address())
        clients = [self.subscribed(r, ["stock:KILL"])[0] for r in (a, b)]
        pa = self.admin(a)
        for i in range(1, 4):
            pa.publish("stock:KILL", {"i": i})
        for c in clients:
            self.assertEqual([m["seq"] for m in data_messages(c, 3)], [1, 2, 3])

        redis.kill()
        for r in (a, b):
            self.wait_ready(r, False)
        r = pa.publish_response("stock:KILL", {"i": "refused"})
        self.assertEqual(r.status, 503)
        self.assertEqual(r.header("retry-after"), "1")
        for c in clients:
            c.send_json({"op": "ping", "id": 3})
            self.assertEqual(c.expect_type("pong")["id"], 3)

        redis.start()
        for r in (a, b):
            self.wait_ready(r, True)
        for i in range(4, 7):
            self.admin(b).publish("stock:KILL", {"i": i})
        for c in clients:
            got = data_messages(c, 3)
            self.assertEqual([(m["type"], m["seq"]) for m in got],
                             [("message", 4), ("message", 5), ("message", 6)])

    def test_redis_restarted_empty_every_subscriber_sees_an_epoch_gap(self):
        redis = self.redis()
        a = self.router(redis.address())
        b = self.router(redis.address())
        clients = [self.subscribed(r, ["stock:EPOCH"])[0] for r in (a, b)]
        watcher, _ = self.subscribed(b, ["market"])
        pa = self.admin(a)
        for i in range(1, 6):
            pa.publish("stock:EPOCH", {"i": i})
        pa.publish("market", {"snapshot": "old"}, type="market_snapshot")
        for c in clients:
            self.assertEqual([m["seq"] for m in data_messages(c, 5)], [1, 2, 3, 4, 5])
        self.assertEqual(data_messages(watcher, 1)[0]["data"], {"snapshot": "old"})

        redis.kill()
        for r in (a, b):
            self.wait_ready(r, False)
        redis.start()  # empty: --save '' and no append-only file
        for r in (a, b):
            self.wait_ready(r, True)
        # Redis lost the retained value: the instance does not serve its old copy.
        late, answers = self.subscribed(b, ["market"])
        late.send_json({"op": "ping", "id": 9})
        self.assertEqual(late.recv_json()["type"], "pong")
        self.assertEqual(pa.publish("stock:EPOCH", {"i": "new"}), 1)
        for c in clients:
            gap, first = data_messages(c, 2)
            self.assertEqual((gap["type"], gap["reason"], gap["channel"]),
                             ("gap", "epoch", "stock:EPOCH"))
            self.assertEqual((gap["from"], gap["to"]), (1, 0))
            self.assertEqual((first["type"], first["seq"], first["data"]),
                             ("message", 1, {"i": "new"}))
        self.assertEqual(self.admin(b).publish("stock:EPOCH", {"i": "next"}), 2)
        for c in clients:
            self.assertEqual(data_messages(c, 1)[0]["seq"], 2)


if __name__ == "__main__":
    unittest.main()
