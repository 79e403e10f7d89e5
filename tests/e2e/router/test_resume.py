"""Session resume (PROTOCOL.md `resume`, docs/protocol.md#session-resume)
in one process (broker.type memory): a connection lost without the
client's close leaves its session for resume.window_ms; `resume` with the
session id and resume token of its `welcome` restores its channels and
replays what it missed, once, and only for the same subject. The Redis
broker's side (resume on another instance) is in test_redis.py.

    WSROUTER=build/wsrouter /usr/bin/python3 -m unittest tests/e2e/router/test_resume.py
"""

import re
import time
import unittest

from router_harness import STEP, Router, RouterTestCase, base_config, is_data, wait_until
from secrets_tools import SecretDir, hs256

HS_SECRET = "an-hs256-secret-of-at-least-32-bytes-0123456789"


def bearer(token):
    return ("Authorization: Bearer %s" % token,)


def claims(sub):
    now = int(time.time())
    return {"sub": sub, "aud": "wsrouter", "exp": now + 600, "iat": now}


def sessions_held(admin):
    text = admin.get("/metrics").body.decode()
    m = re.search(r"^wsrouter_resume_sessions (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def resume_op(welcome, id, since=None):
    op = {"op": "resume", "id": id, "session": welcome["session"], "resume": welcome["resume"]}
    if since is not None:
        op["since"] = since
    return op


def data(client, count):
    out = []
    while len(out) < count:
        msg = client.recv_json()
        if msg.get("type") != "pong":
            out.append(msg)
    return out


class ResumeInOneProcess(RouterTestCase):
    @classmethod
    def setUpClass(cls):
        cls.secret = SecretDir()
        cls.secret.rotate({"hs256": HS_SECRET + "\n"})
        cls.addClassCleanup(cls.secret.close)
        cls.CONFIG = base_config(auth={"mode": "jwt", "jwt": {
            "algorithms": ["HS256"], "audience": "wsrouter",
            "hs256_secret_file": cls.secret.path("hs256")}})
        super().setUpClass()

    def user(self, sub="42"):
        c = self.client(extra=bearer(hs256(claims(sub), HS_SECRET)))
        return c, c.expect_type("welcome")

    def lose(self, client):
        """Drops the connection without a close frame, and waits until the
        router has kept its session."""
        before = sessions_held(self.pub) or 0
        client.abort()
        wait_until(lambda: sessions_held(self.pub) == before + 1, STEP, "the session kept")

    def test_a_lost_connection_resumes_with_exactly_what_it_missed(self):
        c, welcome = self.user()
        c.subscribe(["stock:RA", "index"], id=1)
        c.expect_type("subscribed")
        c.expect_type("subscribed")
        self.pub.publish("stock:RA", {"n": 1})
        self.assertEqual(data(c, 1)[0]["seq"], 1)
        self.lose(c)
        self.pub.publish("stock:RA", {"n": 2})
        self.pub.publish("stock:RA", {"n": 3})

        d, _ = self.user()
        d.send_json(resume_op(welcome, 5))
        resumed = d.expect_type("resumed")
        self.assertEqual(resumed, {"type": "resumed", "id": 5, "session": welcome["session"],
                                   "channels": ["stock:RA", "index"]})
        got = data(d, 4)
        self.assertEqual((got[0]["type"], got[0]["channel"], got[0]["seq"], got[0]["recovered"]),
                         ("subscribed", "stock:RA", 3, True))
        self.assertEqual([(m["seq"], m["data"]) for m in got[1:3]], [(2, {"n": 2}), (3, {"n": 3})])
        self.assertEqual((got[3]["type"], got[3]["channel"], got[3]["id"]),
                         ("subscribed", "index", 5))
        self.pub.publish("stock:RA", {"n": 4})
        self.assertEqual(d.read_until(lambda m: is_data(m, "stock:RA"))[-1]["seq"], 4)

        # Once only.
        e, _ = self.user()
        answer = e.request(resume_op(welcome, 6))
        self.assertEqual((answer["type"], answer["code"], answer["id"]),
                         ("error", "RESUME_FAILED", 6))

    def test_another_subject_cannot_take_the_session_and_its_owner_still_can(self):
        c, welcome = self.user("alice")
        c.subscribe(["stock:RB"], id=1)
        c.expect_type("subscribed")
        self.lose(c)
        mallory, _ = self.user("mallory")
        answer = mallory.request(resume_op(welcome, 2))
        self.assertEqual(answer["code"], "RESUME_FAILED")
        self.assertIn("another subject", answer["message"])
        alice, _ = self.user("alice")
        self.assertEqual(alice.request(resume_op(welcome, 3))["type"], "resumed")

    def test_the_clients_own_close_leaves_nothing_to_resume(self):
        c, welcome = self.user()
        c.subscribe(["stock:RC"], id=1)
        c.expect_type("subscribed")
        c.send_close(1000)
        c.expect_close()
        d, _ = self.user()
        answer = d.request(resume_op(welcome, 2))
        self.assertEqual(answer["code"], "RESUME_FAILED")
        self.assertIn("no such session", answer["message"])
        self.assertEqual(d.request({"op": "ping", "id": 3})["type"], "pong")  # still served

    def test_metrics_count_resumes(self):
        def value(name, **labels):
            text = self.pub.get("/metrics").body.decode()
            label = ",".join('%s="%s"' % kv for kv in labels.items())
            m = re.search(r"^%s%s (\S+)$" % (name, "\\{%s\\}" % label if label else ""), text,
                          re.M)
            return float(m.group(1))
        resumed = value("wsrouter_resumes_total", result="resumed")
        failed = value("wsrouter_resumes_total", result="failed")
        kept = value("wsrouter_resume_sessions_kept_total")
        c, welcome = self.user()
        c.subscribe(["stock:RD"], id=1)
        c.expect_type("subscribed")
        self.lose(c)
        d, _ = self.user()
        self.assertEqual(d.request(resume_op(welcome, 2))["type"], "resumed")
        self.assertEqual(d.expect_type("subscribed")["channel"], "stock:RD")
        self.assertEqual(d.request(resume_op(welcome, 3))["type"], "error")
        self.assertEqual(value("wsrouter_resumes_total", result="resumed"), resumed + 1)
        self.assertEqual(value("wsrouter_resumes_total", result="failed"), failed + 1)
        self.assertEqual(value("wsrouter_resume_sessions_kept_total"), kept + 1)


class ResumeWindowAndHeartbeat(unittest.TestCase):
    def start(self, **sections):
        r = Router(base_config(**sections)).start()
        self.addCleanup(r.stop)
        admin = r.admin()
        self.addCleanup(admin.close)
        return r, admin

    def test_a_client_the_heartbeat_finds_dead_can_resume(self):
        r, admin = self.start(heartbeat={"interval_ms": 100, "pong_timeout_ms": 200,
                                         "idle_timeout_ms": 0})
        c = r.client()
        self.addCleanup(c.close)
        welcome = c.expect_type("welcome")
        c.subscribe(["stock:RH"], id=1)
        c.expect_type("subscribed")
        # The client reads nothing and answers no ping from here on: the
        # router drops it for silence, as it would a dead network path.
        wait_until(lambda: sessions_held(admin) == 1, STEP, "the silent client's session kept")
        admin.publish("stock:RH", {"n": 1})
        d = r.client()
        self.addCleanup(d.close)
        d.expect_type("welcome")
        d.send_json(resume_op(welcome, 2))
        d.expect_type("resumed")
        self.assertEqual(d.expect_type("subscribed")["recovered"], True)
        self.assertEqual(d.read_until(lambda m: is_data(m, "stock:RH"))[-1]["seq"], 1)

    def test_a_session_past_the_window_is_gone(self):
        window_ms = 300
        r, admin = self.start(resume={"window_ms": window_ms})
        c = r.client()
        self.addCleanup(c.close)
        welcome = c.expect_type("welcome")
        c.subscribe(["stock:RW"], id=1)
        c.expect_type("subscribed")
        c.abort()
        wait_until(lambda: sessions_held(admin) == 1, STEP, "the session kept")
        time.sleep(window_ms / 1000 + 0.1)  # the window's length is what is tested
        d = r.client()
        self.addCleanup(d.close)
        d.expect_type("welcome")
        answer = d.request(resume_op(welcome, 2))
        self.assertEqual(answer["code"], "RESUME_FAILED")
        self.assertIn("expired", answer["message"])


if __name__ == "__main__":
    unittest.main()
