"""broker.redis.mode sharded against three real redis-server, mode cluster
against a three-master Redis Cluster, and the stall probe against a Redis
stopped with SIGSTOP.

Sharded: two wsrouter instances list the same three Redis in the same
order; each channel lives on exactly one of them (a consistent hash of its
name), both instances agree which, and together they still act as one
router: one seq per channel on both, history from either. A shard that goes
away makes the instances unready, naming it, while the channels of the
other shards keep being published.

Cluster: two instances given one seed find every master, each channel is
on its slot's master (sharded pub/sub there), one seq per channel on both;
a slot migrated while publications flow: publishing goes on at the new
owner, subscribers see every seq in order or an announced gap.

Stall probe: a Redis that keeps its sockets up but answers nothing (SIGSTOP)
is noticed within probe interval + command timeout, and the instance
recovers after SIGCONT.

    WSROUTER=build/wsrouter /usr/bin/python3 -m unittest test_redis_topologies
"""

import os
import re
import threading
import time
import unittest

from redis_tools import REDIS_CLI, REDIS_SERVER, RedisCluster, redis_call
from router_harness import STEP, Router, log_event, wait_until
from test_redis import RedisTestCase, data_messages, redis_config

CHANNELS = ["stock:S%d" % i for i in range(50)]


def sharded_config(addresses, **redis):
    config = redis_config(addresses[0])
    config["broker"]["redis"].update({"mode": "sharded", "addresses": list(addresses)})
    config["broker"]["redis"].update(redis)
    return config


def channels_in(server):
    """The router channels whose seq hash this Redis holds."""
    keys = redis_call(server.port, "KEYS", "wsr:{*}:seq")
    return {key.decode()[len("wsr:{"):-len("}:seq")] for key in keys}


@unittest.skipUnless(os.access(REDIS_SERVER, os.X_OK), "redis-server is not installed")
class Sharded(RedisTestCase):
    def sharded_router(self, servers, expect_ready=True):
        r = Router(sharded_config([s.address() for s in servers])).start()
        self.routers.append(r)
        self.assertEqual(self.ready(r), expect_ready)
        return r

    def subscribed_to_all(self, router):
        c, answers = self.subscribed(router, CHANNELS)
        self.assertEqual(sorted(a["channel"] for a in answers), sorted(CHANNELS))
        return c

    def test_channels_spread_over_the_shards_and_two_instances_agree_on_every_seq(self):
        servers = [self.redis() for _ in range(3)]
        a = self.sharded_router(servers)
        b = self.sharded_router(servers)
        clients = [self.subscribed_to_all(r) for r in (a, b)]
        admins = [self.admin(a), self.admin(b)]
        for round_ in range(2):
            for i, channel in enumerate(CHANNELS):
                seq = admins[(i + round_) % 2].publish(channel, {"i": i, "round": round_})
                self.assertEqual(seq, round_ + 1, channel)

        # Each channel is on exactly one Redis, and every Redis has some.
        held = [channels_in(s) for s in servers]
        for i, channels in enumerate(held):
            self.assertGreater(len(channels), 5, "Redis %d holds %r" % (i, channels))
            for j in range(i):
                self.assertEqual(channels & held[j], set())
        self.assertEqual(set().union(*held), set(CHANNELS))

        frames = []
        for c in clients:
            got = data_messages(c, 2 * len(CHANNELS))
            by_channel = {}
            for m in got:
                self.assertEqual(m["type"], "message")
                by_channel.setdefault(m["channel"], []).append((m["seq"], m["ts"], m["data"]))
            self.assertEqual(sorted(by_channel), sorted(CHANNELS))
            for i, channel in enumerate(CHANNELS):
                self.assertEqual([(s, d) for s, _, d in by_channel[channel]],
                                 [(1, {"i": i, "round": 0}), (2, {"i": i, "round": 1})])
            frames.append(by_channel)
        # The same publication is the same message on both instances.
        self.assertEqual(frames[0], frames[1])

        # History from a third instance that never saw these channels:
        # each channel's state is read from its own shard.
        fresh = self.sharded_router(servers)
        c = fresh.client()
        self.clients.append(c)
        c.expect_type("welcome")
        c.subscribe(CHANNELS, id=3, since={channel: 1 for channel in CHANNELS})
        answers, replayed = [], []
        while len(answers) < len(CHANNELS) or len(replayed) < len(CHANNELS):
            m = c.recv_json()
            (answers if m["type"] == "subscribed" else replayed).append(m)
        self.assertTrue(all(x["seq"] == 2 and x["recovered"] for x in answers), answers)
        self.assertEqual(sorted((m["type"], m["channel"], m["seq"], m["ts"]) for m in replayed),
                         sorted(("message", ch, 2, frames[0][ch][1][1]) for ch in CHANNELS))

    def test_a_shard_down_makes_the_instance_unready_naming_it_and_spares_the_others(self):
        servers = [self.redis() for _ in range(3)]
        a = self.sharded_router(servers)
        admin = self.admin(a)
        c = self.subscribed_to_all(a)
        for channel in CHANNELS:
            admin.publish(channel, {"before": True})
        self.assertEqual(len(data_messages(c, len(CHANNELS))), len(CHANNELS))
        down = servers[1]
        on_down = channels_in(down)
        self.assertTrue(on_down)
        down.kill()

        def unready_naming_it():
            r = admin.get("/readyz")
            return r.status == 503 and down.address() in r.body.decode()
        wait_until(unready_naming_it, timeout=STEP, what="/readyz 503 naming the shard",
                   interval=0.05)
        # The broker series are the shards' sums: one shard down is down.
        metrics = admin.get("/metrics").body.decode()
        self.assertIn('wsrouter_broker_up{broker="redis"} 0', metrics)
        # The shard's channels are refused; the others' are published and delivered.
        for channel in CHANNELS:
            r = admin.publish_response(channel, {"after": True})
            self.assertEqual(r.status, 503 if channel in on_down else 200, channel)
        got = data_messages(c, len(CHANNELS) - len(on_down))
        self.assertEqual(sorted(m["channel"] for m in got),
                         sorted(set(CHANNELS) - on_down))
        self.assertTrue(all(m["seq"] == 2 for m in got), got)


@unittest.skipUnless(os.access(REDIS_SERVER, os.X_OK), "redis-server is not installed")
class StallProbe(RedisTestCase):
    PROBE_MS = 200
    TIMEOUT_MS = 500

    @staticmethod
    def probe_failed(line, address):
        event = log_event(line) or {}
        return (event.get("event") == "broker_disconnected"
                and event.get("connection") == "subscribe" and event.get("address") == address
                and "PING" in event.get("message", ""))

    def stall_and_recover(self, server, router, client, channel):
        admin = self.admin(router)
        before = admin.publish(channel, {"i": 1})
        self.assertEqual(data_messages(client, 1, channel)[0]["seq"], before)
        server.pause()
        paused = True
        try:
            started = time.monotonic()
            self.wait_ready(router, False)
            # Noticed within probe interval + command timeout (and a turn),
            # not the minutes TCP keepalive would take.
            bound = (self.PROBE_MS + self.TIMEOUT_MS) / 1000 + 1.5
            self.assertLess(time.monotonic() - started, bound)
            # The subscriber's probe found it (the publisher's idle PING may too).
            router.wait_stdout(lambda line: self.probe_failed(line, server.address()),
                               timeout=STEP, what="the subscriber's probe failing")
            # And it stays unready: a reconnection the stopped Redis's kernel
            # accepts is not taken for Redis serving again.
            admin_ready = self.admin(router)
            until = time.monotonic() + 3 * (self.PROBE_MS + self.TIMEOUT_MS) / 1000
            while time.monotonic() < until:
                self.assertEqual(admin_ready.get("/readyz").status, 503)
                time.sleep(0.05)  # sampling a state that must hold, not a wait for an event
            server.resume()
            paused = False
        finally:
            if paused:
                server.resume()
        self.wait_ready(router, True)
        self.assertEqual(admin.publish(channel, {"i": 2}), before + 1)
        got = data_messages(client, 1, channel)[0]
        self.assertEqual((got["type"], got["seq"], got["data"]), ("message", before + 1, {"i": 2}))

    def test_a_stopped_redis_makes_the_instance_unready_and_it_recovers(self):
        server = self.redis()
        config = redis_config(server.address())
        config["broker"]["redis"].update({"probe_interval_ms": self.PROBE_MS,
                                          "command_timeout_ms": self.TIMEOUT_MS})
        router = Router(config).start()
        self.routers.append(router)
        self.assertTrue(self.ready(router))
        client, _ = self.subscribed(router, ["stock:STALL"])
        self.stall_and_recover(server, router, client, "stock:STALL")

    def test_a_stopped_shard_is_noticed_too(self):
        servers = [self.redis() for _ in range(2)]
        config = sharded_config([s.address() for s in servers],
                                probe_interval_ms=self.PROBE_MS,
                                command_timeout_ms=self.TIMEOUT_MS)
        router = Router(config).start()
        self.routers.append(router)
        self.assertTrue(self.ready(router))
        client, _ = self.subscribed(router, CHANNELS[:20])
        # A channel of the second shard (the hash put some there).
        admin = self.admin(router)
        for channel in CHANNELS[:20]:
            admin.publish(channel, {"i": 0})
        data_messages(client, 20)
        on_second = sorted(channels_in(servers[1]))
        self.assertTrue(on_second)
        channel = on_second[0]
        self.stall_and_recover(servers[1], router, client, channel)

    def test_a_stopped_cluster_master_is_noticed_too(self):
        # The cluster itself must not give up on the stopped master first.
        cluster = RedisCluster(node_timeout_ms=30000).start()
        self.addCleanup(cluster.stop)
        config = cluster_config([cluster.nodes[0].address()])
        config["broker"]["redis"].update({"probe_interval_ms": self.PROBE_MS,
                                          "command_timeout_ms": self.TIMEOUT_MS})
        router = Router(config).start()
        self.routers.append(router)
        self.assertTrue(self.ready(router))
        channel = "stock:STALLC"
        slot = redis_call(cluster.nodes[0].port, "CLUSTER", "KEYSLOT", "{%s}" % channel)
        client, _ = self.subscribed(router, [channel])
        self.stall_and_recover(cluster.owner(slot), router, client, channel)


if __name__ == "__main__":
    unittest.main()


def cluster_config(seeds):
    config = redis_config(seeds[0])
    config["broker"]["redis"].update({"mode": "cluster", "addresses": list(seeds)})
    return config


def in_order_or_gap(test, messages, last):
    """Every seq from 1 to `last` arrives once, in order, or inside an
    announced gap; nothing after `last` is expected."""
    expected = 1
    for m in messages:
        if m["type"] == "gap":
            test.assertEqual(m["from"], expected, messages)
            test.assertGreaterEqual(m["to"], m["from"], messages)
            expected = m["to"] + 1
        else:
            test.assertEqual(m["seq"], expected, messages)
            expected += 1
    test.assertEqual(expected, last + 1)


@unittest.skipUnless(os.access(REDIS_SERVER, os.X_OK) and os.access(REDIS_CLI, os.X_OK),
                     "redis-server or redis-cli is not installed")
class Cluster(RedisTestCase):
    def cluster(self):
        cluster = RedisCluster().start()
        self.addCleanup(cluster.stop)
        return cluster

    def cluster_router(self, cluster):
        # One seed: the other masters are found with CLUSTER SLOTS.
        r = Router(cluster_config([cluster.nodes[0].address()])).start()
        self.routers.append(r)
        self.assertTrue(self.ready(r))
        return r

    def test_channels_on_their_slots_owners_and_two_instances_agree_on_every_seq(self):
        cluster = self.cluster()
        a = self.cluster_router(cluster)
        b = self.cluster_router(cluster)
        clients = [self.subscribed(r, CHANNELS)[0] for r in (a, b)]
        admins = [self.admin(a), self.admin(b)]
        for round_ in range(2):
            for i, channel in enumerate(CHANNELS):
                seq = admins[(i + round_) % 2].publish(channel, {"i": i, "round": round_})
                self.assertEqual(seq, round_ + 1, channel)
        # Each channel's keys are on the master serving its slot, and the
        # instances subscribed there with sharded pub/sub.
        spread = set()
        for channel in CHANNELS:
            slot = redis_call(cluster.nodes[0].port, "CLUSTER", "KEYSLOT", "{%s}" % channel)
            owner = cluster.owner(slot)
            spread.add(owner.port)
            self.assertEqual(redis_call(owner.port, "EXISTS", "wsr:{%s}:seq" % channel), 1)
            self.assertEqual(redis_call(owner.port, "PUBSUB", "SHARDNUMSUB",
                                        "wsr:{%s}:msg" % channel)[1], 2)
        self.assertEqual(len(spread), 3)
        for node in cluster.nodes:
            self.assertEqual(redis_call(node.port, "PUBSUB", "CHANNELS", "wsr:*"), [])
        frames = []
        for c in clients:
            by_channel = {}
            for m in data_messages(c, 2 * len(CHANNELS)):
                self.assertEqual(m["type"], "message")
                by_channel.setdefault(m["channel"], []).append((m["seq"], m["ts"], m["data"]))
            for i, channel in enumerate(CHANNELS):
                self.assertEqual([(s, d) for s, _, d in by_channel[channel]],
                                 [(1, {"i": i, "round": 0}), (2, {"i": i, "round": 1})])
            frames.append(by_channel)
        self.assertEqual(frames[0], frames[1])
        # History from an instance that never saw the channels, read on
        # each slot's owner.
        fresh = self.cluster_router(cluster)
        c, answers = self.subscribed(fresh, CHANNELS[:1], since={CHANNELS[0]: 0})
        self.assertEqual((answers[0]["seq"], answers[0]["recovered"]), (2, True))
        self.assertEqual([m["seq"] for m in data_messages(c, 2)], [1, 2])

    def test_a_batch_goes_as_one_script_call_per_run_on_each_slots_owner(self):
        cluster = self.cluster()
        a = self.cluster_router(cluster)
        b = self.cluster_router(cluster)
        # Two channels on two different masters.
        owners = {}
        for channel in CHANNELS:
            slot = redis_call(cluster.nodes[0].port, "CLUSTER", "KEYSLOT", "{%s}" % channel)
            owners.setdefault(cluster.owner(slot).port, channel)
        one, two = list(owners.values())[:2]
        clients = [self.subscribed(r, [one, two])[0] for r in (a, b)]
        for node in cluster.nodes:
            redis_call(node.port, "CONFIG", "RESETSTAT")
        batch = ([{"channel": one, "data": {"i": i}} for i in range(3)]
                 + [{"channel": two, "data": {"i": i}} for i in (3, 4)]
                 + [{"channel": one, "data": {"i": 5}}])
        results = self.admin(a).publish_batch(batch)
        self.assertEqual([r.get("seq") for r in results], [1, 2, 3, 1, 2, 4])
        calls = 0
        for node in cluster.nodes:
            stats = redis_call(node.port, "INFO", "commandstats").decode()
            m = re.search(r"cmdstat_evalsha:calls=(\d+),", stats)
            calls += int(m.group(1)) if m else 0
        self.assertEqual(calls, 3)  # one run of `one`, one of `two`, `one` again
        for c in clients:
            got = data_messages(c, 6)
            self.assertEqual([(m["seq"], m["data"]["i"]) for m in got if m["channel"] == one],
                             [(1, 0), (2, 1), (3, 2), (4, 5)])
            self.assertEqual([(m["seq"], m["data"]["i"]) for m in got if m["channel"] == two],
                             [(1, 3), (2, 4)])

    def test_a_slot_migrated_while_publishing_loses_nothing_silently(self):
        cluster = self.cluster()
        a = self.cluster_router(cluster)
        b = self.cluster_router(cluster)
        channel = "stock:MIGRATE"
        slot = redis_call(cluster.nodes[0].port, "CLUSTER", "KEYSLOT", "{%s}" % channel)
        source = cluster.owner(slot)
        target = next(n for n in cluster.nodes if n is not source)
        clients = [self.subscribed(r, [channel])[0] for r in (a, b)]
        published = []
        failures = []
        stop = threading.Event()

        def publish(router):
            admin = router.admin()
            try:
                i = 0
                while not stop.is_set() or i < 20:
                    r = admin.publish_response(channel, {"i": i})
                    if r.status == 200:
                        published.append(r.json()["seq"])
                    else:
                        failures.append(r)
                    i += 1
            finally:
                admin.close()

        workers = [threading.Thread(target=publish, args=(r,)) for r in (a, b)]
        for w in workers:
            w.start()
        try:
            wait_until(lambda: len(published) >= 20, what="publications before the migration")
            cluster.migrate_slot(slot, target)
            before = len(published)
            # Publishing goes on, at the new owner.
            wait_until(lambda: len(published) >= before + 40,
                       what="publications after the migration")
        finally:
            stop.set()
            for w in workers:
                w.join(timeout=STEP)
        self.assertIs(cluster.owner(slot), target)
        self.assertEqual(redis_call(target.port, "EXISTS", "wsr:{%s}:seq" % channel), 1)
        last = max(published)
        self.assertEqual(sorted(published), sorted(set(published)))  # one seq each
        # Both instances moved their subscription to the new owner.
        wait_until(lambda: redis_call(target.port, "PUBSUB", "SHARDNUMSUB",
                                      "wsr:{%s}:msg" % channel)[1] == 2,
                   what="both instances subscribed at the new owner")
        for c in clients:
            got = []
            while not got or (got[-1].get("seq") or got[-1].get("to")) < last:
                got += data_messages(c, 1, channel)
            in_order_or_gap(self, got, last)
            delivered = {m["seq"] for m in got if m["type"] != "gap"}
            announced = set()
            for m in got:
                if m["type"] == "gap":
                    announced |= set(range(m["from"], m["to"] + 1))
            # What was answered 200 is delivered or announced lost.
            self.assertLessEqual(set(published), delivered | announced)
        # Refusals during the move are 503 UNAVAILABLE, never another error.
        for r in failures:
            self.assertEqual(r.status, 503, r)


def replicated(master):
    """Whether the master has a replica, online, with all it wrote."""
    info = dict(line.split(":", 1) for line in
                redis_call(master.port, "INFO", "replication").decode().split("\r\n")
                if ":" in line)
    replicas = [dict(kv.split("=") for kv in v.split(","))
                for k, v in info.items() if k.startswith("slave") and k[5:].isdigit()]
    return bool(replicas) and all(r["state"] == "online" and
                                  r["offset"] == info["master_repl_offset"] for r in replicas)


@unittest.skipUnless(os.access(REDIS_SERVER, os.X_OK) and os.access(REDIS_CLI, os.X_OK),
                     "redis-server or redis-cli is not installed")
class ClusterFailover(RedisTestCase):
    def test_a_master_killed_its_replica_takes_over_and_channels_follow(self):
        cluster = RedisCluster(masters=3, replicas=1).start()
        self.addCleanup(cluster.stop)
        seeds = [n.address() for n in cluster.nodes]
        routers = []
        for _ in range(2):
            r = Router(cluster_config(seeds)).start()
            self.routers.append(r)
            self.assertTrue(self.ready(r))
            routers.append(r)
        channel = "stock:FAILOVER"
        slot = redis_call(cluster.nodes[0].port, "CLUSTER", "KEYSLOT", "{%s}" % channel)
        clients = [self.subscribed(r, [channel])[0] for r in routers]
        admin = self.admin(routers[0])
        for i in range(1, 6):
            self.assertEqual(admin.publish(channel, {"i": i}), i)
        master = cluster.owner(slot)
        # Replication is asynchronous: the replica must have all five
        # before its master dies (docs/scaling.md says what else happens).
        wait_until(lambda: replicated(master), timeout=STEP, what="the replica caught up")
        for c in clients:
            self.assertEqual([m["seq"] for m in data_messages(c, 5)], [1, 2, 3, 4, 5])
        master.kill()
        wait_until(lambda: cluster.owner(slot) is not master, timeout=3 * STEP,
                   what="the replica promoted", interval=0.1)
        for r in routers:
            a = self.admin(r)
            wait_until(lambda: a.get("/readyz").status == 200, timeout=3 * STEP,
                       what="ready again after the failover", interval=0.1)
        # Publishing goes on at the promoted replica, and both instances get it.
        wait_until(lambda: admin.publish_response(channel, {"i": 6}).status == 200,
                   timeout=STEP, what="a publication after the failover", interval=0.1)
        for c in clients:
            got = data_messages(c, 1, channel)
            self.assertEqual((got[0]["type"], got[0]["seq"]), ("message", 6))
        # The dead master no longer counts for wsrouter_broker_up.
        metrics = self.admin(routers[0]).get("/metrics").body.decode()
        self.assertIn('wsrouter_broker_up{broker="redis"} 1', metrics)


@unittest.skipUnless(os.access(REDIS_SERVER, os.X_OK) and os.access(REDIS_CLI, os.X_OK),
                     "redis-server or redis-cli is not installed")
class ClusterUnsubscribes(RedisTestCase):
    def test_a_channel_left_is_unsubscribed_and_stays_so_when_its_slot_moves(self):
        cluster = RedisCluster().start()
        self.addCleanup(cluster.stop)
        r = Router(cluster_config([cluster.nodes[0].address()])).start()
        self.routers.append(r)
        self.assertTrue(self.ready(r))
        channel = "stock:LEFT"
        slot = redis_call(cluster.nodes[0].port, "CLUSTER", "KEYSLOT", "{%s}" % channel)
        source = cluster.owner(slot)
        target = next(n for n in cluster.nodes if n is not source)

        def subscribers(node):
            return redis_call(node.port, "PUBSUB", "SHARDNUMSUB", "wsr:{%s}:msg" % channel)[1]

        c, _ = self.subscribed(r, [channel])
        self.assertEqual(subscribers(source), 1)
        admin = self.admin(r)
        self.assertEqual(admin.publish(channel, {"i": 1}), 1)
        c.unsubscribe([channel], id=2)
        wait_until(lambda: subscribers(source) == 0, what="unsubscribed after the linger")
        cluster.migrate_slot(slot, target)
        # The instance learns the new map (a MOVED for this publication)...
        self.assertEqual(admin.publish(channel, {"i": 2}), 2)
        wait_until(lambda: self.ready(r), what="ready with the new slot map")
        # ...and does not subscribe at the new owner a channel nobody watches.
        until = time.monotonic() + 1.0
        while time.monotonic() < until:
            self.assertEqual(subscribers(target), 0)
            time.sleep(0.05)  # sampling a state that must hold, not a wait for an event
        # Watched again: subscribed at the new owner, history from there.
        d, answers = self.subscribed(r, [channel], since={channel: 0})
        self.assertEqual(answers[0]["seq"], 2)
        self.assertEqual([m["seq"] for m in data_messages(d, 2, channel)], [1, 2])
        self.assertEqual(subscribers(target), 1)
