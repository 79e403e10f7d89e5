"""Limits counted across instances (broker.type redis, docs/scaling.md,
"Limits across instances"): two wsrouter processes on one real
redis-server share limits.connection_attempts_per_minute and
limits.messages_per_minute per client address, so a client spreading its
attempts or messages over both is refused once the shared total passes the
limit, although each instance alone stays under it. With Redis gone (killed,
or stopped so that it does not answer) each instance's own limits apply and
handshakes are answered promptly.

    WSROUTER=build/wsrouter /usr/bin/python3 -m unittest tests/e2e/router/test_redis_limits.py
"""

import os
import re
import signal
import time
import unittest

from redis_tools import REDIS_CLI, REDIS_SERVER, RedisCluster, RedisServer, redis_command
from router_harness import STEP, Closed, Router, base_config, upgrade_response, wait_until

WINDOW_S = 60
COMMAND_TIMEOUT_MS = 1000


def limits_config(address, **limits):
    merged = {"trusted_proxies": ["127.0.0.1/32"]}
    merged.update(limits)
    return base_config(
        broker={"type": "redis", "redis": {"addresses": [address], "connect_timeout_ms": 500,
                                           "command_timeout_ms": COMMAND_TIMEOUT_MS}},
        limits=merged)


def as_client(address):
    return ("X-Forwarded-For: %s" % address,)


def wait_for_room_in_the_window(needed_s=25):
    """The shared counts are per wall-clock minute: a test that counts waits
    until its counting fits in what is left of the current minute."""
    wait_until(lambda: WINDOW_S - time.time() % WINDOW_S > needed_s, WINDOW_S - needed_s + 5,
               "a minute with %d s left" % needed_s, interval=0.2)
    return int(time.time() // WINDOW_S)


def shared_metrics(admin):
    values = {}
    for line in admin.get("/metrics").body.decode().splitlines():
        m = re.match(r'^wsrouter_shared_limit_(fallbacks|refusals)_total\{kind="(\w+)"\} (\S+)$',
                     line)
        if m:
            values[(m.group(1), m.group(2))] = float(m.group(3))
    return values


@unittest.skipUnless(os.access(REDIS_SERVER, os.X_OK), "redis-server is not installed")
class SharedLimits(unittest.TestCase):
    def setUp(self):
        super().setUp()
        self.routers = []
        self.clients = []
        self.redis = RedisServer().start()
        self.addCleanup(self.redis.stop)

    def tearDown(self):
        for c in self.clients:
            c.close()
        for r in self.routers:
            r.check()
            r.stop()
        super().tearDown()

    def router(self, **limits):
        r = Router(limits_config(self.redis.address(), **limits)).start()
        self.routers.append(r)
        admin = r.admin()
        self.addCleanup(admin.close)
        # Connected to Redis before the test counts on it.
        wait_until(lambda: admin.get("/readyz").status == 200, STEP, "the router ready")
        return r, admin

    def client(self, router, address):
        c = router.client(extra=as_client(address))
        self.clients.append(c)
        c.expect_type("welcome")
        return c

    def test_attempts_spread_over_two_instances_are_refused_past_the_shared_limit(self):
        limits = {"connection_attempts_per_minute": 10, "connections_per_address": 0}
        (a, pa), (b, pb) = self.router(**limits), self.router(**limits)
        window = wait_for_room_in_the_window()
        address = "198.51.100.20"
        for i in range(10):  # five on each instance: each alone far under its 10
            port = (a if i % 2 == 0 else b).port
            self.assertEqual(upgrade_response(port, "/ws", extra=as_client(address)).status, 101,
                             "attempt %d" % (i + 1))
        for r in (a, b):
            refused = upgrade_response(r.port, "/ws", extra=as_client(address))
            self.assertEqual(refused.status, 429, refused)
            self.assertEqual(refused.json()["error"]["code"], "RATE_LIMITED")
            self.assertIn(int(refused.header("retry-after")), range(1, WINDOW_S + 1))
        # The count is Redis's, under the documented key.
        key = "wsr:limit:{limits}:connection_attempts:%s:%d" % (address, window)
        self.assertEqual(redis_command(self.redis.port, "GET", key), b"$2\r\n12\r\n")
        ttl = redis_command(self.redis.port, "PTTL", key)
        self.assertTrue(0 < int(ttl[1:]) <= 2 * WINDOW_S * 1000, ttl)
        # Another address is not affected.
        self.assertEqual(
            upgrade_response(a.port, "/ws", extra=as_client("198.51.100.21")).status, 101)
        refusals = [shared_metrics(p)[("refusals", "connection_attempts")] for p in (pa, pb)]
        self.assertEqual(refusals, [1, 1])
        self.assertEqual(shared_metrics(pa)[("fallbacks", "connection_attempts")], 0)

    def test_messages_spread_over_two_instances_close_the_connection_past_the_shared_limit(self):
        limits = {"messages_per_minute": 20, "connection_attempts_per_minute": 0}
        (a, pa), (b, pb) = self.router(**limits), self.router(**limits)
        address = "198.51.100.30"
        on_a, on_b = self.client(a, address), self.client(b, address)
        wait_for_room_in_the_window()
        for i in range(20):  # ten on each connection: each alone far under its 20
            c = on_a if i % 2 == 0 else on_b
            self.assertEqual(c.request({"op": "ping", "id": i})["type"], "pong", "message %d" % i)
        # The 21st: handled (the count is added after), then the connection
        # whose addition reached Redis last, the one past the limit, is closed:
        # this one, or the other if its last addition was still on its way.
        # (Its pong may be lost: a close drops what was not yet written, and
        # Redis on loopback may answer within the same turn of the loop.)
        on_a.send_json({"op": "ping", "id": 21})

        def refusals():
            return [shared_metrics(p)[("refusals", "messages")] for p in (pa, pb)]
        wait_until(lambda: sum(refusals()) == 1, STEP, "a connection closed for the shared limit")
        first, second = (on_a, on_b) if refusals() == [1, 0] else (on_b, on_a)
        with self.assertRaises(Closed) as closed:
            first.read_until(lambda m: False)
        self.assertEqual(closed.exception.code, 4029)
        # The other connection of the same client goes with its next message.
        second.send_json({"op": "ping", "id": 22})
        with self.assertRaises(Closed) as closed:
            second.read_until(lambda m: m.get("code") == "RATE_LIMITED")
        self.assertEqual(closed.exception.code, 4029)
        wait_until(lambda: refusals() == [1, 1], STEP, "both refusals counted")
        # Another client on the same instances is served.
        other = self.client(a, "198.51.100.31")
        self.assertEqual(other.request({"op": "ping", "id": 1})["type"], "pong")

    def test_with_redis_killed_the_local_limits_apply_and_handshakes_are_prompt(self):
        a, pa = self.router(connection_attempts_per_minute=10, connections_per_address=0,
                            messages_per_minute=20)
        self.redis.kill()
        address = "198.51.100.40"
        for i in range(10):
            started = time.monotonic()
            status = upgrade_response(a.port, "/ws", extra=as_client(address)).status
            self.assertEqual(status, 101, "attempt %d" % (i + 1))
            # Not even the command timeout: a Redis known down is not waited for.
            self.assertLess(time.monotonic() - started, COMMAND_TIMEOUT_MS / 1000)
        self.assertEqual(upgrade_response(a.port, "/ws", extra=as_client(address)).status, 429)
        self.assertGreaterEqual(shared_metrics(pa)[("fallbacks", "connection_attempts")], 10)
        self.assertEqual(shared_metrics(pa)[("refusals", "connection_attempts")], 0)
        # Messages: the connection's own budget, as with one instance.
        c = self.client(a, "198.51.100.41")
        for i in range(20):
            self.assertEqual(c.request({"op": "ping", "id": i})["type"], "pong")
        self.assertEqual(c.request({"op": "ping", "id": 20})["code"], "RATE_LIMITED")
        wait_until(lambda: shared_metrics(pa)[("fallbacks", "messages")] >= 1, STEP,
                   "the message fallbacks counted")

    def test_a_redis_that_does_not_answer_delays_a_handshake_by_the_command_timeout_at_most(self):
        a, pa = self.router(connection_attempts_per_minute=10, connections_per_address=0)
        os.kill(self.redis.proc.pid, signal.SIGSTOP)
        self.addCleanup(lambda: self.redis.proc.poll() is None and
                        os.kill(self.redis.proc.pid, signal.SIGCONT))
        started = time.monotonic()
        self.assertEqual(upgrade_response(a.port, "/ws", extra=as_client("198.51.100.50")).status,
                         101)
        waited = time.monotonic() - started
        self.assertLess(waited, 2 * COMMAND_TIMEOUT_MS / 1000 + 1, "the handshake waited too long")
        self.assertGreaterEqual(shared_metrics(pa)[("fallbacks", "connection_attempts")], 1)
        os.kill(self.redis.proc.pid, signal.SIGCONT)
        # Redis answering again (the connection that timed out is made anew):
        # counted across instances again.

        def counted():
            upgrade_response(a.port, "/ws", extra=as_client("198.51.100.51"))
            keys = redis_command(self.redis.port, "KEYS",
                                 "wsr:limit:{limits}:connection_attempts:198.51.100.51:*")
            return keys.startswith(b"*1\r\n")
        wait_until(counted, STEP, "an attempt counted in Redis again", interval=0.2)



@unittest.skipUnless(os.access(REDIS_SERVER, os.X_OK) and os.access(REDIS_CLI, os.X_OK),
                     "redis-server or redis-cli is not installed")
class SharedLimitsInCluster(unittest.TestCase):
    def test_counts_live_on_their_slots_master_whichever_seed_an_instance_was_given(self):
        cluster = RedisCluster().start()
        self.addCleanup(cluster.stop)
        limits = {"connection_attempts_per_minute": 10, "connections_per_address": 0}
        routers = []
        for seed in cluster.nodes[:2]:  # each its own seed: at most one is the owner
            config = limits_config(seed.address(), **limits)
            config["broker"]["redis"]["mode"] = "cluster"
            r = Router(config).start()
            self.addCleanup(r.stop)
            admin = r.admin()
            self.addCleanup(admin.close)
            wait_until(lambda: admin.get("/readyz").status == 200, STEP, "the router ready")
            routers.append(r)
        window = wait_for_room_in_the_window()
        # One attempt from elsewhere on each: an instance whose seed is not
        # the counts' master learns where they live (MOVED) on its first.
        for r in routers:
            self.assertEqual(upgrade_response(r.port, "/ws", extra=as_client("198.51.100.61")).status,
                             101)
        address = "198.51.100.60"
        for i in range(10):
            self.assertEqual(upgrade_response(routers[i % 2].port, "/ws",
                                              extra=as_client(address)).status, 101, i)
        for r in routers:  # the 11th and 12th: past the shared 10 on both instances
            self.assertEqual(upgrade_response(r.port, "/ws", extra=as_client(address)).status, 429)
        key = "wsr:limit:{limits}:connection_attempts:%s:%d" % (address, window)
        holders = [n for n in cluster.nodes if redis_command(n.port, "EXISTS", key) == b":1\r\n"]
        self.assertEqual(len(holders), 1)


if __name__ == "__main__":
    unittest.main()
