#!/usr/bin/python3
"""The router's RSS over repeated backlogs: CLIENTS blocked subscribers (4 KiB
receive buffers, not reading) each given a 500-message backlog, then drained,
ROUNDS times. Tells the allocator's high water (RSS rises for some rounds,
then stays) from a leak (RSS grows every round). Not a test: a measurement
behind the note on the soak's RSS step in BENCHMARKS.md.

    ROUNDS=40 CLIENTS=400 /usr/bin/python3 tests/soak/backlog_rss.py build/wsrouter
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e", "router"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
os.environ["WSROUTER"] = sys.argv[1] if len(sys.argv) > 1 else "build/wsrouter"

from router_harness import Router, base_config  # noqa: E402


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    rounds = int(os.environ.get("ROUNDS", "40"))
    clients = int(os.environ.get("CLIENTS", "400"))
    router = Router(base_config(
        heartbeat={"interval_ms": 0, "pong_timeout_ms": 0, "idle_timeout_ms": 0},
        namespaces={"soak": {"queue_max_messages": 500}})).start()
    try:
        admin = router.admin()
        subscribers = []
        for _ in range(clients):
            c = router.client(rcvbuf=4096)
            c.expect_type("welcome")
            c.subscribe(["soak:0"], id=1)
            c.expect_type("subscribed")
            subscribers.append(c)
        print("%d subscribers: RSS %.1f MiB" % (clients, rss_mib(router.proc.pid)), flush=True)
        for n in range(rounds):
            for k in range(10):
                admin.publish_batch([{"channel": "soak:0", "data": {"k": k, "pad": "x" * 200}}]
                                    * 50)
            last = admin.publish("soak:0", {"end": n})
            for c in subscribers:
                while True:
                    m = c.recv_json()
                    if m.get("seq") == last and "data" in m:
                        break
            time.sleep(1)
            print("backlog %2d drained: RSS %.1f MiB" % (n + 1, rss_mib(router.proc.pid)),
                  flush=True)
        for c in subscribers:
            c.close()
        time.sleep(1)
        print("clients closed: RSS %.1f MiB" % rss_mib(router.proc.pid))
    finally:
        router.stop()


if __name__ == "__main__":
    main()
