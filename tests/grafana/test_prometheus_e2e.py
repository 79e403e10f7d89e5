"""The dashboard and the alert rules against a real Prometheus scraping a
live wsrouter.

Starts build/wsrouter (WSROUTER=path) with the demo feed on, token auth and a
connection cap, on free loopback ports; WebSocket subscribers (Python's
websockets, with permessage-deflate) on /ws/market and /ws; slow consumers,
bad credentials, refused upgrades, rejected publications and a secret
rotation that succeeds then one that fails, so that every series the
dashboard and the rules read exists. Then Debian's /usr/bin/prometheus
(PROMETHEUS=path to override) scrapes the admin port every second as job
"wsrouter" with a `pod` target label (as Kubernetes service discovery would
set it), with grafana/alerts/wsrouter.rules.yaml loaded; and:

- every dashboard query (Grafana's variables rendered as for "All":
  $job=wsrouter, $pod and $namespace .*, $__rate_interval 15s) returns at
  least one sample that is a number (not NaN);
- every alert's expression without its threshold (the part before the
  top-level comparison) does too;
  except the quantiles of wsrouter_broker_command_duration_seconds, empty
  with the memory broker used here: those must return a sample, NaN allowed;
- the dashboard's variables have values (label_values, as Grafana asks);
- Prometheus loaded every rule, each with health ok; the alerts of a healthy
  instance are inactive, and WsrouterTokenReloadFailing goes pending after
  the failed rotation.

Every wait polls what it waits for with a deadline; processes are ended by
pid. Run:  WSROUTER=build/wsrouter /usr/bin/python3 tests/grafana/test_prometheus_e2e.py -v
"""

import asyncio
import collections
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e", "router"))

import websockets  # noqa: E402  (Debian's python3-websockets)

from router_harness import (Router, RouterClient, base_config, upgrade_response,  # noqa: E402
                            wait_until)

DASHBOARD = os.path.join(ROOT, "grafana", "dashboards", "wsrouter.json")
RULES = os.path.join(ROOT, "grafana", "alerts", "wsrouter.rules.yaml")
PROMETHEUS = os.environ.get("PROMETHEUS", "/usr/bin/prometheus")

JOB = "wsrouter"
POD = "wsrouter-e2e-0"
RATE_INTERVAL = "15s"  # Grafana's $__rate_interval: at least 4 scrape intervals (1 s here)
CLIENT_TOKEN = "e2e-client-token-1"
CLIENT_TOKEN_2 = "e2e-client-token-2"
STARTUP = 30.0  # seconds: Prometheus up and scraping (a fresh one needs about 6)
DATA = 40.0  # seconds: every expression with data, every rule evaluated
SLOW_PAYLOAD = "x" * 2000
MAX_SLOW_MESSAGES = 6000  # the bound of each publishing loop
ALERTS_THAT_MUST_BE_QUIET = ("WsrouterInstanceDown", "WsrouterNotReady", "WsrouterBrokerDown",
                             "WsrouterNearConnectionCap", "WsrouterBrokerPublishFailures",
                             "WsrouterBrokerSlowCommands", "WsrouterBrokerMessagesLost",
                             "WsrouterBrokerNumberingConflict", "WsrouterSharedLimitsFallingBack",
                             "WsrouterResumeSessionsLost")


class E2EError(Exception):
    pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_atomically(path, text):
    """Replaces path in one rename, as a Secret volume update does."""
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


# ---- PromQL helpers -----------------------------------------------------------

COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")


def split_threshold(expr):
    """(left-hand side, operator, right-hand side) of the one comparison at
    the top level of expr (outside brackets and strings)."""
    depth, i, found, quote = 0, 0, [], None
    while i < len(expr):
        c = expr[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'`":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            for op in COMPARISONS:
                if expr.startswith(op, i) and expr[i:i + 2] not in ("=~", "!~"):
                    found.append((i, op))
                    i += len(op) - 1
                    break
        i += 1
    if len(found) != 1:
        raise E2EError("expected one top-level comparison in %r, found %r" % (expr, found))
    pos, op = found[0]
    return expr[:pos].strip(), op, expr[pos + len(op):].strip()


def render(expr):
    """A dashboard expression as Grafana sends it with "All" selected."""
    out = expr.replace("$__rate_interval", RATE_INTERVAL).replace("${datasource}", "")
    out = out.replace("$job", JOB).replace("$pod", ".*").replace("$namespace", ".*")
    if "$" in out:
        raise E2EError("a variable is left in %r" % out)
    return out


def rule_expressions():
    """[(alert name, expr)] from the rule file (YAML read with a small parser
    for its own layout: `- alert:` then `expr:` scalar or `|-` block)."""
    with open(RULES) as f:
        lines = f.read().split("\n")
    out, i = [], 0
    while i < len(lines):
        m = re.match(r"^\s*- alert:\s*(\S+)\s*$", lines[i])
        if m:
            name = m.group(1)
            j = i + 1
            while not re.match(r"^\s*expr:", lines[j]):
                j += 1
            value = lines[j].split("expr:", 1)[1].strip()
            if value.startswith("|"):
                indent = len(lines[j + 1]) - len(lines[j + 1].lstrip())
                block = []
                k = j + 1
                while k < len(lines) and (not lines[k].strip() or
                                          len(lines[k]) - len(lines[k].lstrip()) >= indent):
                    block.append(lines[k].strip())
                    k += 1
                value = " ".join(b for b in block if b)
            out.append((name, value))
            i = j
        i += 1
    return out


def dashboard_queries(dashboard):
    """[(panel title, refId, expr)] of every panel, rows' panels included."""
    out = []
    for panel in dashboard["panels"]:
        for p in [panel] + list(panel.get("panels", [])):
            for t in p.get("targets", []):
                out.append((p["title"], t["refId"], t["expr"]))
    return out


def has_number(result):
    for sample in result:
        value = sample.get("value")
        if value is not None and not math.isnan(float(value[1])):
            return True
    return False


def has_sample(result):
    return any(sample.get("value") is not None for sample in result)


# Series that stay empty with the memory broker this test runs (it makes no
# round trip to Redis): a quantile of wsrouter_broker_command_duration_seconds
# is NaN. Expressions reading it must return a sample (the series exist, the
# expression is valid), NaN allowed.
EMPTY_WITH_MEMORY = ("wsrouter_broker_command_duration_seconds",)


def empty_with_memory(expr):
    return any(name in expr for name in EMPTY_WITH_MEMORY)


# ---- the processes ------------------------------------------------------------


class Prometheus:
    """/usr/bin/prometheus with a temporary config and TSDB, on 127.0.0.1."""

    def __init__(self, target_port, rules):
        self.dir = tempfile.mkdtemp(prefix="wsrouter-prometheus-")
        self.port = free_port()
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                       "evaluation_interval": "1s"},
            "rule_files": [rules],
            "scrape_configs": [{
                "job_name": JOB,
                "metrics_path": "/metrics",
                # The pod label that Kubernetes service discovery attaches.
                "static_configs": [{"targets": ["127.0.0.1:%d" % target_port],
                                    "labels": {"pod": POD}}],
            }],
        }
        self.config_path = os.path.join(self.dir, "prometheus.yml")
        with open(self.config_path, "w") as f:
            json.dump(config, f, indent=1)  # JSON is YAML
        self.log_path = os.path.join(self.dir, "prometheus.log")
        self.proc = None

    def start(self):
        if not os.access(PROMETHEUS, os.X_OK):
            raise E2EError("%s is not there: scripts/setup.sh installs Debian's prometheus"
                           % PROMETHEUS)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [PROMETHEUS, "--config.file=" + self.config_path,
                 "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
                 "--web.listen-address=127.0.0.1:%d" % self.port,
                 "--storage.tsdb.retention.time=1h", "--log.level=warn"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        return self

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-6000:]
        except OSError:
            return ""

    def get(self, path, **params):
        url = "http://127.0.0.1:%d%s" % (self.port, path)
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                body = r.read()
                return r.status, body
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def api(self, path, **params):
        status, body = self.get(path, **params)
        data = json.loads(body)
        if status != 200 or data.get("status") != "success":
            raise E2EError("GET %s %r: %s %s" % (path, params, status, body[:500]))
        return data["data"]

    def query(self, expr):
        data = self.api("/api/v1/query", query=expr)
        if data["resultType"] != "vector":
            raise E2EError("%s: a %s, not a vector" % (expr, data["resultType"]))
        return data["result"]

    def wait_ready(self, timeout):
        """Waits for /-/ready. The port was free when chosen; if something
        took it since, starts again on another (at most 3 times)."""
        attempts = [3]

        def ready():
            if self.proc.poll() is not None:
                log = self.log()
                if "address already in use" in log and attempts[0] > 1:
                    attempts[0] -= 1
                    self.port = free_port()
                    self.start()
                    return False
                raise E2EError("prometheus exited (%s):\n%s" % (self.proc.returncode, log))
            try:
                return self.get("/-/ready")[0] == 200
            except (urllib.error.URLError, ConnectionError, socket.timeout):
                return False
        wait_until(ready, timeout, "prometheus /-/ready", interval=0.2)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


class Subscribers(threading.Thread):
    """Python websockets clients reading their streams until stopped: one on
    /ws/market, one on /ws subscribed to a channel of each demo namespace."""

    MUX_CHANNELS = ["stock:AAPL", "sector:tech", "orderbook:AAPL", "foreign", "index"]

    def __init__(self, port, token):
        super().__init__(daemon=True)
        self.port, self.token = port, token
        self.received = collections.Counter()
        self.deflate = {}
        self.errors = []
        self.loop = None
        self.started = threading.Event()

    def run(self):
        try:
            asyncio.run(self._main())
        except BaseException as e:  # reported by check()
            self.errors.append(repr(e))
        finally:
            self.started.set()

    async def _main(self):
        self.loop = asyncio.get_running_loop()
        self.stopping = asyncio.Event()
        base = "ws://127.0.0.1:%d" % self.port
        async with websockets.connect("%s/ws/market?token=%s" % (base, self.token)) as market, \
                websockets.connect("%s/ws?token=%s" % (base, self.token)) as mux:
            await mux.send(json.dumps({"op": "subscribe", "id": 1, "channels": self.MUX_CHANNELS}))
            for name, ws in (("market", market), ("mux", mux)):
                self.deflate[name] = any(e.name == "permessage-deflate" for e in ws.extensions)
            readers = [asyncio.ensure_future(self._read(ws)) for ws in (market, mux)]
            self.started.set()
            stop = asyncio.ensure_future(self.stopping.wait())
            done, _ = await asyncio.wait(readers + [stop], return_when=asyncio.FIRST_COMPLETED)
            for task in readers + [stop]:
                task.cancel()
            for task in done:
                if task is not stop and task.exception() is not None:
                    raise task.exception()
            if stop not in done:
                raise E2EError("a subscriber's stream ended")

    async def _read(self, ws):
        async for raw in ws:
            msg = json.loads(raw)
            if "seq" in msg and "data" in msg and msg.get("type") not in ("subscribed", "gap"):
                self.received[msg.get("channel")] += 1

    def check(self):
        if self.errors:
            raise E2EError("subscriber failed: %s" % self.errors)

    def stop(self):
        if self.loop is not None and self.is_alive():
            self.loop.call_soon_threadsafe(self.stopping.set)
        self.join(10)


# ---- the test -------------------------------------------------------------------


class PrometheusEndToEnd(unittest.TestCase):
    """One wsrouter, one Prometheus for the whole class."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.started = time.monotonic()
        with open(DASHBOARD) as f:
            cls.dashboard = json.load(f)
        cls.rules = rule_expressions()
        cls.tmp = tempfile.mkdtemp(prefix="wsrouter-grafana-e2e-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.token_file = os.path.join(cls.tmp, "client-tokens")
        write_atomically(cls.token_file, CLIENT_TOKEN + "\n")

        namespaces = {
            "default": {},
            "market": {"retain_last": True, "dedicated_endpoint": True},
            "foreign": {"retain_last": True, "dedicated_endpoint": True},
            "index": {"retain_last": True, "dedicated_endpoint": True},
            "stock": {"queue_max_messages": 20},
            "sector": {},
            "orderbook": {"policy": "conflate", "retain_last": True, "queue_max_messages": 20},
            "bulk": {"policy": "disconnect", "queue_max_messages": 10},
            "user": {},
        }
        config = base_config(
            feed={"enabled": True},
            auth={"mode": "token", "token_file": cls.token_file, "secret_check_interval_ms": 200},
            limits={"max_connections": 1000},
            heartbeat={"interval_ms": 0, "idle_timeout_ms": 0},
            namespaces=namespaces,
        )
        cls.router = Router(config).start()
        cls.addClassCleanup(cls.router.stop)
        cls.pub = cls.router.admin()
        cls.addClassCleanup(cls.pub.close)

        cls.subscribers = Subscribers(cls.router.port, CLIENT_TOKEN)
        cls.subscribers.start()
        cls.addClassCleanup(cls.subscribers.stop)

        cls.prometheus = Prometheus(cls.router.admin_port, RULES).start()
        cls.addClassCleanup(cls.prometheus.stop)
        cls.prometheus.wait_ready(STARTUP)
        cls._wait_scraped()
        cls._make_traffic()

    # -- setup steps

    @classmethod
    def _wait_scraped(cls):
        prom = cls.prometheus

        def target_up():
            targets = prom.api("/api/v1/targets")["activeTargets"]
            if targets and targets[0]["health"] == "down" and targets[0].get("lastError"):
                cls.last_target_error = targets[0]["lastError"]
                if "404" in cls.last_target_error:  # no /metrics route: waiting will not help
                    raise E2EError("wsrouter's admin port has no /metrics: %s"
                                   % cls.last_target_error)
            return (targets and targets[0]["health"] == "up"
                    and targets[0]["labels"].get("pod") == POD)
        cls.last_target_error = None
        try:
            wait_until(target_up, STARTUP, "prometheus scraping wsrouter's /metrics", interval=0.2)
        except Exception as e:
            raise E2EError("%s (last scrape error: %s)" % (e, cls.last_target_error)) from e
        # The failure count of the token file must be seen at 0 before the
        # failed rotation below, or increase() cannot see that failure.
        selector = ('wsrouter_token_reloads_total{job="%s", secret="client_tokens", '
                    'result="failure"}' % JOB)
        try:
            wait_until(lambda: prom.query(selector), STARTUP, selector, interval=0.2)
        except Exception as e:
            raise E2EError("%s is not exported before the first failure: "
                           "WsrouterTokenReloadFailing (increase() > 0) could not see a first "
                           "failure (%s)" % (selector, e)) from e

    @classmethod
    def _make_traffic(cls):
        router, pub = cls.router, cls.pub
        token = "?token=" + CLIENT_TOKEN

        # The streaming subscribers get data.
        cls.subscribers.started.wait(10)
        cls.subscribers.check()
        channels = ["market"] + Subscribers.MUX_CHANNELS
        wait_until(lambda: (cls.subscribers.check() or
                            all(cls.subscribers.received[c] > 0 for c in channels)),
                   10, "data on every subscribed channel")

        # Slow consumers: a tiny receive window, never read after subscribing.
        slow = RouterClient.connect(router.port, "/ws" + token, rcvbuf=4096)
        cls.addClassCleanup(slow.close)
        slow.expect_type("welcome")
        slow.subscribe(["stock:SLOW", "orderbook:SLOW"], id=1)
        slow.expect_type("subscribed")
        slow.expect_type("subscribed")
        bulk = RouterClient.connect(router.port, "/ws" + token, rcvbuf=4096)
        cls.addClassCleanup(bulk.close)
        bulk.expect_type("welcome")
        bulk.subscribe(["bulk:SLOW"], id=1)
        bulk.expect_type("subscribed")
        # Publish to each until the router counts what the slow clients
        # cause: drops (drop_oldest), conflations, a disconnect (4008).
        def ns(name):
            return pub.stats()["hub"]["namespaces"][name]
        cls._publish_until("stock:SLOW", lambda: ns("stock")["dropped"]["slow_consumer"] > 0)
        cls._publish_until("orderbook:SLOW", lambda: ns("orderbook")["dropped"]["conflated"] > 0,
                           key="book")
        cls._publish_until("bulk:SLOW", lambda: ns("bulk")["disconnected_slow_consumer"] > 0)

        # Refused upgrades and failed credentials: wrong token, none, unknown endpoint.
        for path, status in (("/ws?token=wrong-token", 401), ("/ws", 401),
                             ("/ws/nosuch" + token, 404)):
            r = upgrade_response(router.port, path)
            if r.status != status:
                raise E2EError("upgrade %s: expected %d, got %d" % (path, status, r.status))

        # Rejected publications, an invalid client message, a normal close.
        if pub.publish_response("not a channel!", {}).status != 404:
            raise E2EError("a publication to an invalid channel was not refused with 404")
        odd = RouterClient.connect(router.port, "/ws" + token)
        odd.expect_type("welcome")
        odd.send_text("this is not json")
        odd.expect_type("error")
        odd.send_close(1000)
        odd.close()

        # Secret rotation: one that works, then one that fails (an empty file).
        write_atomically(cls.token_file, "%s\n%s\n" % (CLIENT_TOKEN, CLIENT_TOKEN_2))
        router.wait_stdout(lambda l: '"secret_reloaded"' in l, 10, "the secret_reloaded log line")
        write_atomically(cls.token_file, "")
        router.wait_stdout(lambda l: '"secret_reload_failed"' in l, 10,
                           "the secret_reload_failed log line")
        router.check()

    @classmethod
    def _publish_until(cls, channel, counted, key=None):
        """Publishes batches of 50 to channel until counted() (an outside
        view: the stats), at most MAX_SLOW_MESSAGES."""
        sent = 0
        while not counted():
            if sent >= MAX_SLOW_MESSAGES:
                raise E2EError("%d messages published to %s and the slow client never fell behind"
                               % (sent, channel))
            batch = [{"channel": channel, "data": {"i": sent + i, "pad": SLOW_PAYLOAD}}
                     for i in range(50)]
            if key is not None:
                for m in batch:
                    m["key"] = key
            cls.pub.publish_batch(batch)
            sent += len(batch)

    # -- the checks

    def deadline(self):
        return time.monotonic() + DATA

    def poll_for_data(self, exprs):
        """Polls every (name, expr) until each returns a number (a sample,
        NaN allowed, for EMPTY_WITH_MEMORY) or DATA passes; fails naming
        those still empty."""
        missing = dict(exprs)
        errors = {}
        end = self.deadline()
        while True:
            for name, expr in list(missing.items()):
                try:
                    check = has_sample if empty_with_memory(expr) else has_number
                    if check(self.prometheus.query(expr)):
                        del missing[name]
                        errors.pop(name, None)
                except E2EError as e:
                    errors[name] = str(e)
            if not missing or time.monotonic() > end:
                break
            time.sleep(0.5)
        self.router.check()
        self.subscribers.check()
        if missing:
            lines = []
            for name, expr in missing.items():
                lines.append("  %s\n    %s" % (name, expr))
                if name in errors:
                    lines.append("    error: " + errors[name])
            self.fail("%d expression(s) returned no data within %.0f s:\n%s"
                      % (len(missing), DATA, "\n".join(lines)))

    def test_dashboard_queries_return_data(self):
        queries = dashboard_queries(self.dashboard)
        self.assertGreater(len(queries), 30)
        self.poll_for_data([("panel %r %s" % (title, ref), render(expr))
                            for title, ref, expr in queries])

    def test_alert_expressions_return_data(self):
        self.assertEqual(len(self.rules), 16, [n for n, _ in self.rules])
        exprs = []
        for name, expr in self.rules:
            lhs, op, rhs = split_threshold(expr)
            self.assertRegex(rhs, r"^[0-9.]+$",
                             "%s: the threshold %r is not a number" % (name, rhs))
            exprs.append((name, lhs))
        self.poll_for_data(exprs)

    def test_dashboard_variables_have_values(self):
        variables = {v["name"]: v for v in self.dashboard["templating"]["list"]}
        expected = {"job": [JOB], "pod": [POD],
                    "namespace": ["market", "stock", "sector", "orderbook"]}
        for name, wanted in expected.items():
            m = re.match(r"^label_values\((.*),\s*(\w+)\)$", variables[name]["query"])
            self.assertIsNotNone(m, variables[name]["query"])
            selector, label = render(m.group(1)), m.group(2)
            values = wait_until(
                lambda: self.prometheus.api("/api/v1/label/%s/values" % label,
                                            **{"match[]": selector}),
                DATA, "values of $%s (%s)" % (name, variables[name]["query"]), interval=0.5)
            for value in wanted:
                self.assertIn(value, values, "$%s: %s" % (name, values))

    def test_rules_loaded_and_evaluated(self):
        expected = {name for name, _ in self.rules}

        def all_ok():
            groups = self.prometheus.api("/api/v1/rules")["groups"]
            rules = {r["name"]: r for g in groups for r in g["rules"]}
            self.assertEqual(set(rules), expected, "the rules Prometheus loaded")
            bad = {n: (r["health"], r.get("lastError"))
                   for n, r in rules.items() if r["health"] != "ok"}
            if any(h == "err" for h, _ in bad.values()):
                self.fail("rules with errors: %s" % bad)
            return rules if not bad else None
        rules = wait_until(all_ok, DATA, "every rule evaluated with health ok", interval=0.5)
        for name in ALERTS_THAT_MUST_BE_QUIET:
            self.assertEqual(rules[name]["state"], "inactive", "%s is %s on a healthy instance: %s"
                             % (name, rules[name]["state"], rules[name]["alerts"]))

    def test_token_reload_failure_raises_the_alert(self):
        def pending():
            groups = self.prometheus.api("/api/v1/rules")["groups"]
            for g in groups:
                for r in g["rules"]:
                    if (r["name"] == "WsrouterTokenReloadFailing"
                            and r["state"] in ("pending", "firing")):
                        return r["alerts"]
            return None
        alerts = wait_until(pending, DATA,
                            "WsrouterTokenReloadFailing pending after the failed rotation",
                            interval=0.5)
        labels = alerts[0]["labels"]
        self.assertEqual((labels.get("secret"), labels.get("pod"), labels.get("job")),
                         ("client_tokens", POD, JOB), labels)

    def test_zz_bounded_time(self):
        # The whole class (setup included) stays well inside CTest's timeout.
        self.assertLess(time.monotonic() - self.started, 90)


if __name__ == "__main__":
    unittest.main()
