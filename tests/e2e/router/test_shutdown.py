"""Graceful shutdown: SIGTERM turns readiness off at once, serves through the
drain delay, refuses new upgrades with 503, closes every client with 1001
spread over the close window, exits 0. SIGINT: the same, without the delay."""

import signal
import threading
import time
import unittest

from router_harness import (STEP, Closed, Router, base_config, is_data, log_event,
                            upgrade_response, wait_until)

DRAIN_MS = 1500
WINDOW_MS = 1000
CLIENTS = 20
MARGIN_S = 1.0
ADMIN_KEEP_ALIVE_S = 1.0  # the admin server's keep-alive idle timeout


class CloseWatcher(threading.Thread):
    """Reads a client until its close frame; records when it came."""

    def __init__(self, client):
        super().__init__(daemon=True)
        self.client = client
        self.code = self.at = self.error = None
        self.data = []

    def run(self):
        try:
            while True:
                msg = self.client.recv_json(timeout=STEP)
                self.data.append(msg)
        except Closed as closed:
            self.at = time.monotonic()
            self.code = closed.code
            try:
                self.client.send_close(1000 if closed.code is None else closed.code)
                self.client.wait_eof(timeout=STEP)
                self.client.close()  # the server waits for our FIN
            except Exception as e:
                self.error = e
        except BaseException as e:
            self.error = e


class Shutdown(unittest.TestCase):
    def start_router(self, **shutdown):
        router = Router(base_config(
            shutdown=shutdown,
            heartbeat={"interval_ms": 0, "pong_timeout_ms": 0, "idle_timeout_ms": 0,
                       "close_timeout_ms": 2000})).start()
        self.addCleanup(router.stop)
        admin = router.admin()
        self.addCleanup(admin.close)
        return router, admin

    def connect_all(self, router, n, channel):
        clients = []
        for _ in range(n):
            c = router.client()
            self.addCleanup(c.close)
            c.expect_type("welcome")
            c.subscribe([channel], id=1)
            c.expect_type("subscribed")
            clients.append(c)
        return clients

    def test_sigterm_sequence(self):
        router, admin = self.start_router(drain_delay_ms=DRAIN_MS, close_window_ms=WINDOW_MS)
        self.assertEqual(admin.get("/readyz").status, 200)
        clients = self.connect_all(router, CLIENTS, "stock:DRAIN")
        self.assertEqual(admin.publish("stock:DRAIN", {"before": True}), 1)
        for c in clients:
            self.assertEqual(c.recv_json()["data"], {"before": True})
        watchers = [CloseWatcher(c) for c in clients]
        for w in watchers:
            w.start()

        sent = time.monotonic()
        router.send_signal(signal.SIGTERM)
        # Readiness off at once (well before the drain delay ends).
        r = wait_until(lambda: (lambda r: r if r.status == 503 else None)(admin.get("/readyz")),
                       timeout=DRAIN_MS / 1000 / 2, what="/readyz 503", interval=0.005)
        self.assertEqual(r.json()["status"], "fail")
        self.assertEqual(r.header("Cache-Control"), "no-store")
        # Liveness is not readiness: still alive.
        self.assertEqual(admin.get("/healthz").status, 200)
        # Data still flows to the clients being drained.
        self.assertEqual(admin.publish("stock:DRAIN", {"draining": True}), 2)
        # A new upgrade is refused with 503 and Retry-After.
        refused = upgrade_response(router.port, "/ws")
        self.assertEqual(refused.status, 503, refused.raw_head)
        self.assertEqual(refused.json()["error"]["code"], "UNAVAILABLE")
        self.assertTrue(refused.header("retry-after"), refused.raw_head)
        int(refused.header("retry-after"))
        checked = time.monotonic() - sent
        # An idle keep-alive admin connection must not hold the exit up;
        # that is test_idle_admin_connection_does_not_delay_exit's subject.
        admin.close()
        self.assertLess(checked, DRAIN_MS / 1000,
                        "the drain checks took longer than the drain delay: inconclusive")

        for w in watchers:
            w.join(timeout=(DRAIN_MS + WINDOW_MS) / 1000 + MARGIN_S + STEP)
        for w in watchers:
            self.assertIsNone(w.error, w.error)
            self.assertEqual(w.code, 1001)
            self.assertEqual([m["data"] for m in w.data if is_data(m)], [{"draining": True}])
        times = sorted(w.at - sent for w in watchers)
        self.assertGreaterEqual(times[0], DRAIN_MS / 1000 - 0.05,
                                "a client was closed before the drain delay ended")
        self.assertLessEqual(times[-1], (DRAIN_MS + WINDOW_MS) / 1000 + MARGIN_S,
                             "closes not within the window: %r" % times)
        spread = times[-1] - times[0]
        self.assertGreater(spread, 0.2 * WINDOW_MS / 1000,
                           "closes not spread over the window: %r" % times)
        code = router.wait_exit(timeout=STEP)
        self.assertEqual(code, 0, router.stderr_text()[-4000:])
        self.assertLessEqual(time.monotonic() - sent, (DRAIN_MS + WINDOW_MS) / 1000 + 2 * MARGIN_S)
        # stdout is JSON lines from the first to the last: a log pipeline
        # never meets a line it cannot parse.
        events = [log_event(line) for line in router.stdout_lines]
        self.assertNotIn(None, events, router.stdout_lines)
        for event in events:
            self.assertTrue({"time", "level", "event"} <= set(event), event)
        names = [e["event"] for e in events]
        self.assertEqual((names[0], names[-1]), ("serving", "stopped"), names)
        self.assertIn({"event": "shutting_down", "signal": "SIGTERM"},
                      [{k: e.get(k) for k in ("event", "signal")} for e in events])

    def test_sigint_is_quick(self):
        # The drain delay configured here must not apply to SIGINT.
        router, admin = self.start_router(drain_delay_ms=10000, close_window_ms=10000)
        clients = self.connect_all(router, 5, "stock:INT")
        watchers = [CloseWatcher(c) for c in clients]
        for w in watchers:
            w.start()
        sent = time.monotonic()
        router.send_signal(signal.SIGINT)
        for w in watchers:
            w.join(timeout=STEP)
        for w in watchers:
            self.assertIsNone(w.error, w.error)
            self.assertEqual(w.code, 1001)
        self.assertLess(max(w.at for w in watchers) - sent, 0.5 + MARGIN_S)
        self.assertEqual(router.wait_exit(timeout=STEP), 0, router.stderr_text()[-4000:])
        self.assertLess(time.monotonic() - sent, 0.5 + 2 * MARGIN_S)

    def test_idle_admin_connection_does_not_delay_exit(self):
        # A publisher or Prometheus keeps its admin connection alive; the
        # router must still exit right after the close window. cpp-httplib
        # lets an idle keep-alive connection run out its idle timeout (1 s,
        # docs/admin-api.md) before stop() returns: that is the bound.
        router, admin = self.start_router(drain_delay_ms=0, close_window_ms=0)
        self.assertEqual(admin.get("/readyz").status, 200)  # left open, idle
        sent = time.monotonic()
        router.send_signal(signal.SIGTERM)
        self.assertEqual(router.wait_exit(timeout=STEP), 0, router.stderr_text()[-4000:])
        self.assertLess(time.monotonic() - sent, ADMIN_KEEP_ALIVE_S + 0.5,
                        "an idle keep-alive admin connection delayed the exit")

    def test_idle_router_exits_0_on_sigterm(self):
        router, admin = self.start_router(drain_delay_ms=0, close_window_ms=0)
        sent = time.monotonic()
        router.send_signal(signal.SIGTERM)
        self.assertEqual(router.wait_exit(timeout=STEP), 0, router.stderr_text()[-4000:])
        self.assertLess(time.monotonic() - sent, MARGIN_S)
