"""The admin port against slow clients (issue 11): more connections than it
has handler threads, each dribbling a header line at a time, must not make
/healthz, /readyz or publishing wait; each is cut off at
admin.request_timeout_ms with a 408 and closed."""

import socket
import threading
import time

from router_harness import Admin, RouterTestCase, base_config

SLOW_CLIENTS = 40          # more than the admin server's 16 + 2 handler threads
REQUEST_TIMEOUT_MS = 3000
DRIBBLE_EVERY_S = 0.5      # the slow clients' pace: one header line each time
PROBE_DEADLINE_S = 1.0     # the kubelet's probe timeout, about


class SlowAdminClients(RouterTestCase):
    CONFIG = base_config(admin={"request_timeout_ms": REQUEST_TIMEOUT_MS})

    def open_slow_clients(self):
        sockets = []
        for _ in range(SLOW_CLIENTS):
            s = socket.create_connection(("127.0.0.1", self.router.admin_port), timeout=6.0)
            self.addCleanup(s.close)
            s.sendall(b"POST /api/v1/publish HTTP/1.1\r\nHost: x\r\n")
            sockets.append(s)
        return sockets

    def dribble(self, sockets, stop):
        """One header line per socket every DRIBBLE_EVERY_S, at most 8 s."""
        line = 0
        ends = time.monotonic() + 8.0
        while not stop.wait(DRIBBLE_EVERY_S) and time.monotonic() < ends:
            for s in sockets:
                try:
                    s.sendall(b"X-Slow-%d: 1\r\n" % line)
                except OSError:
                    pass  # already cut off
            line += 1

    def test_probes_and_publishing_answer_while_slow_clients_trickle_then_they_are_cut_off(self):
        opened = time.monotonic()
        sockets = self.open_slow_clients()
        stop = threading.Event()
        dribbler = threading.Thread(target=self.dribble, args=(sockets, stop), daemon=True)
        dribbler.start()
        self.addCleanup(dribbler.join)
        self.addCleanup(stop.set)

        rounds = 0
        while time.monotonic() - opened < 2.0:
            for path in ("/healthz", "/readyz"):
                probe = Admin(self.router.admin_port, timeout=PROBE_DEADLINE_S)
                asked = time.monotonic()
                try:
                    r = probe.get(path)
                finally:
                    probe.close()
                self.assertEqual((r.status, r.json()), (200, {"status": "ok"}), path)
                self.assertLess(time.monotonic() - asked, PROBE_DEADLINE_S, path)
            publisher = Admin(self.router.admin_port, timeout=PROBE_DEADLINE_S)
            try:
                r = publisher.publish_response("stock:SLOW", {"round": rounds})
            finally:
                publisher.close()
            self.assertEqual(r.status, 200, r)
            rounds += 1
        self.assertGreater(rounds, 0)

        # Each slow request gets 408 and is closed at its deadline, not before.
        for s in sockets:
            answer = b""
            while True:
                try:
                    chunk = s.recv(4096)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                answer += chunk
            after = time.monotonic() - opened
            self.assertTrue(answer.startswith(b"HTTP/1.1 408 "), answer)
            self.assertIn(b"admin.request_timeout_ms", answer)
            self.assertGreaterEqual(after, REQUEST_TIMEOUT_MS / 1000 - 0.2)
            self.assertLess(after, REQUEST_TIMEOUT_MS / 1000 + 3.0)
