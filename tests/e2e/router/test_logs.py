"""Logs: JSON lines on stdout, at the configured level, never a token.
(test_shutdown.py checks that every line from "serving" to "stopped" is JSON;
test_security.py that refusals are logged with the query token redacted.)"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from router_harness import (STEP, RouterTestCase, base_config, log_event,  # noqa: E402
                            upgrade_response)
from harness import RawClient, make_key  # noqa: E402
from secrets_tools import SecretDir  # noqa: E402

TOKEN = "debug-level-client-token-0123"


class DebugLevel(RouterTestCase):
    @classmethod
    def setUpClass(cls):
        cls.secret = SecretDir()
        cls.secret.rotate({"tokens": TOKEN + "\n"})
        cls.addClassCleanup(cls.secret.close)
        cls.CONFIG = base_config(log={"level": "debug"},
                                 auth={"mode": "token", "token_file": cls.secret.path("tokens")})
        super().setUpClass()

    def event(self, name, **fields):
        def matches(line):
            e = log_event(line)
            return e is not None and e.get("event") == name and all(
                e.get(k) == v for k, v in fields.items())
        return log_event(self.router.wait_stdout(matches, STEP, "the %s log line" % name))

    def test_connections_are_logged_when_they_open_and_close(self):
        c = self.client("/ws/market?token=" + TOKEN)
        c.expect_type("welcome")
        opened = self.event("connection_opened", endpoint="/ws/market")
        self.assertEqual(opened["level"], "debug")
        self.assertEqual(opened["client"], "127.0.0.1")
        self.assertIsInstance(opened["connection"], int)
        c.send_close(1000)
        self.assertEqual(c.expect_close().close_code, 1000)
        closed = self.event("connection_closed", connection=opened["connection"])
        self.assertEqual(closed["code"], 1000)
        self.assertEqual(closed["subscriptions"], 1)  # /ws/market subscribes on open
        self.assertFalse(any(TOKEN in line for line in self.router.stdout_lines))

    def test_every_line_is_one_json_object(self):
        self.client("/ws?token=" + TOKEN).expect_type("welcome")
        self.event("connection_opened", endpoint="/ws")
        for line in self.router.stdout_lines:
            event = json.loads(line)
            self.assertTrue({"time", "level", "event"} <= set(event), line)
            self.assertIn(event["level"], ("debug", "info", "warn", "error"), line)


class InfoLevel(RouterTestCase):
    # log.level info, the default; one worker, so its lines keep their order.
    CONFIG = base_config(server={"host": "127.0.0.1", "port": 0, "workers": 1})

    def test_debug_lines_are_not_written(self):
        c = self.client()
        c.expect_type("welcome")
        c.send_close(1000)
        c.expect_close()
        # The same worker then refuses an upgrade and logs it (warn): a
        # connection_opened or _closed line would have been written before.
        self.assertEqual(upgrade_response(self.router.port, "/nowhere").status, 404)
        self.router.wait_stdout(lambda l: (log_event(l) or {}).get("event") == "connection_refused",
                                STEP, "the refusal's log line")
        events = [log_event(line)["event"] for line in self.router.stdout_lines]
        self.assertNotIn("connection_opened", events)
        self.assertNotIn("connection_closed", events)

    def test_a_target_that_is_not_utf8_still_gives_json_lines(self):
        # A client's bytes >= 0x80 in the path and in a query parameter's
        # name: the refusal's line must still be valid UTF-8 and JSON.
        with RawClient(self.router.port) as raw:
            raw.send(b"GET /\xff\xfews?caf\xe9=1&\xe2\x82=2&ok=3 HTTP/1.1\r\nHost: x\r\n"
                     b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: " + make_key().encode() + b"\r\n"
                     b"Sec-WebSocket-Version: 13\r\n\r\n")
            self.assertEqual(raw.read_http_response().status, 404)
        self.router.wait_stdout(lambda l: "&ok" in l, STEP, "the refusal's log line")
        raw_line = next(r for r in self.router.stdout_raw if b"&ok" in r)
        event = json.loads(raw_line.decode("utf-8"))  # strict: no invalid UTF-8
        self.assertEqual(event["target"], "(unknown path)?caf\ufffd&\ufffd&ok")
        for line in self.router.stdout_raw:
            json.loads(line.decode("utf-8"))


if __name__ == "__main__":
    unittest.main()
