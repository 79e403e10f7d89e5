"""Session resume with broker.type redis: the session of a connection lost
on one instance waits in Redis (`wsr:session:{<id>}`), so the client
resumes on any instance, and gets exactly what it missed from the stream;
the resume token works once wherever it is presented; sessions of the
clients an instance closes with 1001 on shutdown are kept too.

    WSROUTER=build/wsrouter /usr/bin/python3 -m unittest tests/e2e/router/test_redis_resume.py
"""

import os
import unittest

from redis_tools import REDIS_CLI, REDIS_SERVER, RedisCluster, redis_command
from router_harness import STEP, Router, wait_until
from test_redis import RedisTestCase, data_messages, redis_config
from test_redis_topologies import cluster_config, sharded_config


def resume_op(welcome, id, since=None):
    op = {"op": "resume", "id": id, "session": welcome["session"], "resume": welcome["resume"]}
    if since is not None:
        op["since"] = since
    return op


class SessionMixin:
    def connect(self, router, channels):
        c = router.client()
        self.clients.append(c)
        welcome = c.expect_type("welcome")
        c.subscribe(channels, id=1)
        for _ in channels:
            c.expect_type("subscribed")
        return c, welcome

    def session_exists(self, redis, welcome):
        key = "wsr:session:{%s}" % welcome["session"]
        return redis_command(redis.port, "EXISTS", key) == b":1\r\n"


@unittest.skipUnless(os.access(REDIS_SERVER, os.X_OK), "redis-server is not installed")
class ResumeAcrossInstances(SessionMixin, RedisTestCase):
    def test_a_client_lost_on_one_instance_resumes_on_another_with_what_it_missed(self):
        redis = self.redis()
        a = self.router(redis.address())
        b = self.router(redis.address())
        pa, pb = self.admin(a), self.admin(b)
        c, welcome = self.connect(a, ["stock:XR", "stock:XS"])
        pa.publish("stock:XR", {"i": 1})
        self.assertEqual([m["seq"] for m in data_messages(c, 1)], [1])
        c.abort()
        wait_until(lambda: self.session_exists(redis, welcome), STEP, "the session in Redis")
        ttl = int(redis_command(redis.port, "PTTL",
                                "wsr:session:{%s}" % welcome["session"]).strip()[1:])
        self.assertTrue(0 < ttl <= 300000, ttl)  # resume.window_ms, the default
        pb.publish("stock:XR", {"i": 2})
        pb.publish("stock:XR", {"i": 3})
        pb.publish("stock:XS", {"i": 1})

        d = b.client()
        self.clients.append(d)
        d.expect_type("welcome")
        d.send_json(resume_op(welcome, 7))
        self.assertEqual(d.expect_type("resumed")["channels"], ["stock:XR", "stock:XS"])
        got = data_messages(d, 5)
        self.assertEqual([(m["type"], m.get("channel"), m.get("seq")) for m in got],
                         [("subscribed", "stock:XR", 3), ("message", "stock:XR", 2),
                          ("message", "stock:XR", 3), ("subscribed", "stock:XS", 1),
                          ("message", "stock:XS", 1)])
        self.assertTrue(got[0]["recovered"] and got[3]["recovered"])
        self.assertFalse(self.session_exists(redis, welcome))
        pa.publish("stock:XR", {"i": 4})
        self.assertEqual(data_messages(d, 1, "stock:XR")[0]["seq"], 4)

        # Used: refused on either instance.
        for r in (a, b):
            e = r.client()
            self.clients.append(e)
            e.expect_type("welcome")
            answer = e.request(resume_op(welcome, 8))
            self.assertEqual((answer["type"], answer["code"]), ("error", "RESUME_FAILED"))

    def test_clients_closed_by_a_shutdown_resume_on_the_instance_that_stays(self):
        redis = self.redis()
        a = self.router(redis.address())
        b = self.router(redis.address())
        c, welcome = self.connect(a, ["stock:XD"])
        self.admin(b).publish("stock:XD", {"i": 1})
        self.assertEqual([m["seq"] for m in data_messages(c, 1)], [1])
        self.routers.remove(a)
        a.stop()  # SIGTERM: the client is closed with 1001
        self.assertTrue(self.session_exists(redis, welcome))
        self.admin(b).publish("stock:XD", {"i": 2})
        d = b.client()
        self.clients.append(d)
        d.expect_type("welcome")
        d.send_json(resume_op(welcome, 2, since={"stock:XD": 1}))
        d.expect_type("resumed")
        got = data_messages(d, 2)
        self.assertEqual([(m["type"], m["seq"]) for m in got], [("subscribed", 2), ("message", 2)])

    def test_a_session_past_its_window_is_gone_from_redis(self):
        redis = self.redis()
        config = redis_config(redis.address())
        config["resume"] = {"window_ms": 300}
        a = Router(config).start()
        b = Router(config).start()
        self.routers += [a, b]
        c, welcome = self.connect(a, ["stock:XW"])
        c.abort()
        wait_until(lambda: self.session_exists(redis, welcome), STEP, "the session in Redis")
        # Redis expires the key when the window ends (what is tested is the
        # window's length, so this waits for it rather than for an event).
        wait_until(lambda: not self.session_exists(redis, welcome), STEP, "the session expired")
        d = b.client()
        self.clients.append(d)
        d.expect_type("welcome")
        answer = d.request(resume_op(welcome, 5))
        self.assertEqual((answer["type"], answer["code"]), ("error", "RESUME_FAILED"))
        self.assertIn("expired", answer["message"])

    def test_with_redis_down_resume_fails_at_once_and_the_client_can_subscribe(self):
        redis = self.redis()
        a = self.router(redis.address())
        c, welcome = self.connect(a, ["stock:XF"])
        c.abort()
        wait_until(lambda: self.session_exists(redis, welcome), STEP, "the session in Redis")
        redis.kill()
        d = a.client()
        self.clients.append(d)
        d.expect_type("welcome")
        answer = d.request(resume_op(welcome, 3))
        self.assertEqual(answer["code"], "RESUME_FAILED")
        self.assertIn("unreachable", answer["message"])
        d.send_json({"op": "ping", "id": 4})
        self.assertEqual(d.expect_type("pong")["id"], 4)


@unittest.skipUnless(os.access(REDIS_SERVER, os.X_OK), "redis-server is not installed")
class ResumeOnEveryTopology(SessionMixin, RedisTestCase):
    """The session's key lives where its mode puts it (its shard, its
    slot's master); the other instance finds it there."""

    def resume_elsewhere(self, config, holders):
        a = Router(config).start()
        b = Router(config).start()
        self.routers += [a, b]
        self.wait_ready(a)
        self.wait_ready(b)
        c, welcome = self.connect(a, ["stock:T1", "stock:T2"])
        c.abort()
        key = "wsr:session:{%s}" % welcome["session"]

        def held():
            return sum(redis_command(h.port, "EXISTS", key) == b":1\r\n" for h in holders)
        wait_until(lambda: held() == 1, STEP, "the session on exactly one node")
        self.admin(a).publish("stock:T1", {"i": 1})
        d = b.client()
        self.clients.append(d)
        d.expect_type("welcome")
        d.send_json(resume_op(welcome, 3))
        self.assertEqual(d.expect_type("resumed")["channels"], ["stock:T1", "stock:T2"])
        got = data_messages(d, 3)
        self.assertEqual([(m["type"], m.get("channel"), m.get("seq")) for m in got],
                         [("subscribed", "stock:T1", 1), ("message", "stock:T1", 1),
                          ("subscribed", "stock:T2", 0)])
        self.assertEqual(held(), 0)

    def test_sharded(self):
        servers = [self.redis() for _ in range(3)]
        self.resume_elsewhere(sharded_config([s.address() for s in servers]), servers)

    @unittest.skipUnless(os.access(REDIS_CLI, os.X_OK), "redis-cli is not installed")
    def test_cluster(self):
        cluster = RedisCluster().start()
        self.addCleanup(cluster.stop)
        self.resume_elsewhere(cluster_config([cluster.nodes[0].address()]), cluster.nodes)


if __name__ == "__main__":
    unittest.main()
