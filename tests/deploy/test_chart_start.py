"""The router started the way the chart runs it, without a cluster.

helm/wsrouter rendered with ci/token-values.yaml; its ConfigMap and Secrets
laid out on disk the way the kubelet mounts them (a timestamped directory,
the `..data` symlink, one symlink per key; tests/e2e/router/secrets_tools.py),
every mountPath of the Deployment mapped to such a directory; the container's
args and env entries as rendered. Then, as the kubelet and the cluster would:
the startup, liveness and readiness probes polled at the chart's paths on
the port the chart names; clients connected with a token of the chart's
Secret; the Secrets rotated in place with the clients connected; SIGTERM,
with readiness, drain, close codes and the exit checked against the pod's
terminationGracePeriodSeconds.

Only the addresses differ from a pod: loopback and free ports (overridden
with WSROUTER_*_HOST/PORT env entries, as a pod's env would), since a test
cannot own 8080 and 9090 on a shared machine. The test checks that the
probes' named port is the config's admin port, so the mapping is exact.

    WSROUTER=build/wsrouter /usr/bin/python3 -m unittest discover -s tests/deploy -p 'test_chart_start.py' -v
"""

import os
import signal
import sys
import time
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e", "router"))

import test_shutdown as shutdown_tests  # noqa: E402  (CloseWatcher only)
from k8s_render import CHART, helm_template  # noqa: E402
from router_harness import (STEP, Admin, Router, is_data, log_event,  # noqa: E402
                            upgrade_response, wait_until)
from secrets_tools import SecretDir  # noqa: E402

VALUES = os.path.join(CHART, "ci", "token-values.yaml")
POD_NAME = "wsrouter-7d9f8c6b5-x2x4k"
CLIENTS = 10


def bearer(token):
    return ("Authorization: Bearer %s" % token,)


class ChartStart(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        objects = helm_template([VALUES])
        cls.deployment = next(o for o in objects if o["kind"] == "Deployment")
        cls.pod = cls.deployment["spec"]["template"]["spec"]
        cls.container = cls.pod["containers"][0]
        configmaps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
        secrets = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Secret"}

        # One kubelet-style directory per volume, at the mountPath's place.
        cls.volumes = {}
        cls.mounts = {}
        for volume in cls.pod["volumes"]:
            directory = SecretDir()
            cls.addClassCleanup(directory.close)
            if "configMap" in volume:
                files = dict(configmaps[volume["configMap"]["name"]]["data"])
            else:
                files = dict(secrets[volume["secret"]["secretName"]]["stringData"])
            cls.volumes[volume["name"]] = (directory, files)
        for mount in cls.container["volumeMounts"]:
            cls.mounts[mount["mountPath"]] = cls.volumes[mount["name"]][0].dir
        for name, (directory, files) in cls.volumes.items():
            if "config.yaml" in files:
                files["config.yaml"] = cls.on_disk(files["config.yaml"])
                cls.config = yaml.safe_load(files["config.yaml"])
            directory.rotate(files)
        cls.client_secret = cls.volumes["client-secret"][0]
        cls.publisher_secret = cls.volumes["publisher-secret"][0]

    @classmethod
    def on_disk(cls, text):
        """A pod path (a mountPath or a file below one) as laid out here."""
        for mount, directory in sorted(cls.mounts.items(), key=lambda m: -len(m[0])):
            text = text.replace(mount + "/", directory + "/")
        return text

    def env(self):
        env = {}
        for entry in self.container["env"]:
            if "value" in entry:
                env[entry["name"]] = entry["value"]
            else:
                field = entry["valueFrom"]["fieldRef"]["fieldPath"]
                self.assertEqual(field, "metadata.name")
                env[entry["name"]] = POD_NAME
        # The pod's own network namespace, here: loopback and free ports.
        env.update({"WSROUTER_SERVER_HOST": "127.0.0.1", "WSROUTER_ADMIN_HOST": "127.0.0.1",
                    "WSROUTER_SERVER_PORT": "0", "WSROUTER_ADMIN_PORT": "0"})
        return env

    def start(self):
        args = [self.on_disk(a) for a in self.container["args"]]
        self.assertEqual(args[0], "--config")
        router = Router(config_path=args[1], env=self.env(), with_token=False)
        router.start()
        self.addCleanup(router.stop)
        return router

    def probe(self, router, name):
        """GET of the probe's path on the port it names: its HTTP status."""
        probe = self.container[name]["httpGet"]
        ports = {p["name"]: p["containerPort"] for p in self.container["ports"]}
        self.assertEqual(ports[probe["port"]], self.config["admin"]["port"])
        admin = Admin(router.admin_port, token=None)
        try:
            return admin.get(probe["path"]).status
        finally:
            admin.close()

    def connect(self, router, token, channel):
        c = router.client(extra=bearer(token))
        self.addCleanup(c.close)
        c.expect_type("welcome")
        c.subscribe([channel], id=1)
        c.expect_type("subscribed")
        return c

    def test_probes_rotation_and_sigterm_like_a_pod(self):
        period = self.container["startupProbe"]["periodSeconds"]
        budget = period * self.container["startupProbe"]["failureThreshold"]
        started = time.monotonic()
        router = self.start()

        # Probes, as the kubelet polls them.
        wait_until(lambda: self.probe(router, "startupProbe") == 200, budget, "the startup probe")
        self.assertLess(time.monotonic() - started, budget)
        self.assertEqual(self.probe(router, "livenessProbe"), 200)
        wait_until(lambda: self.probe(router, "readinessProbe") == 200, STEP, "readiness")
        # Clients with the chart Secret's tokens; others refused.
        tokens = self.volumes["client-secret"][1]["tokens"].split()
        publisher_token = self.volumes["publisher-secret"][1]["tokens"].split()[0]
        self.assertEqual(upgrade_response(router.port, "/ws").status, 401)
        self.assertEqual(upgrade_response(router.port, "/ws", extra=bearer("nope")).status, 401)
        clients = [self.connect(router, tokens[i % len(tokens)], "stock:K8S") for i in range(CLIENTS)]
        publisher = Admin(router.admin_port, token=publisher_token)
        self.addCleanup(publisher.close)
        seq = publisher.publish("stock:K8S", {"n": 1})
        for c in clients:
            self.assertEqual(c.read_until(lambda m: m.get("seq") == seq and is_data(m))[-1]["data"], {"n": 1})
        stranger = Admin(router.admin_port, token="nope")
        self.addCleanup(stranger.close)
        self.assertEqual(stranger.publish_response("stock:K8S", {}).status, 401)

        # The Secrets rotated the Kubernetes way (..data swapped), clients connected.
        self.client_secret.rotate({"tokens": "client-token-rotated\n"})
        wait_until(lambda: upgrade_response(router.port, "/ws", extra=bearer("client-token-rotated")).status == 101,
                   STEP, "the rotated client token accepted")
        wait_until(lambda: upgrade_response(router.port, "/ws", extra=bearer(tokens[0])).status == 401,
                   STEP, "the old client token refused")
        self.publisher_secret.rotate({"tokens": "publisher-token-rotated\n"})
        new_publisher = Admin(router.admin_port, token="publisher-token-rotated")
        self.addCleanup(new_publisher.close)
        wait_until(lambda: new_publisher.publish_response("stock:K8S", {"n": 2}).status == 200,
                   STEP, "the rotated publisher token accepted")
        self.assertEqual(publisher.publish_response("stock:K8S", {"n": 0}).status, 401)
        # Every client connected before the rotations still has its stream.
        seq = new_publisher.publish("stock:K8S", {"n": 3})
        for c in clients:
            got = [m["data"]["n"] for m in c.read_until(lambda m: m.get("seq") == seq and is_data(m))
                   if is_data(m)]
            self.assertEqual(got[-1], 3)
            self.assertNotIn(0, got)
        self.assertTrue(router.wait_stdout(lambda l: (log_event(l) or {}).get("event") == "secret_reloaded",
                                           STEP, "secret_reloaded"))
        self.assertEqual(self.probe(router, "readinessProbe"), 200)

        # SIGTERM as the kubelet sends it when the pod is deleted.
        shutdown = self.config["shutdown"]
        drain_s, window_s = shutdown["drain_delay_ms"] / 1000, shutdown["close_window_ms"] / 1000
        grace_s = self.pod["terminationGracePeriodSeconds"]
        watchers = [shutdown_tests.CloseWatcher(c) for c in clients]
        for w in watchers:
            w.start()
        sent = time.monotonic()
        router.send_signal(signal.SIGTERM)
        wait_until(lambda: self.probe(router, "readinessProbe") == 503, drain_s / 2, "readiness off",
                   interval=0.005)
        self.assertEqual(self.probe(router, "livenessProbe"), 200, "liveness must hold during the drain")
        self.assertEqual(upgrade_response(router.port, "/ws", extra=bearer("client-token-rotated")).status, 503)
        seq = new_publisher.publish("stock:K8S", {"n": 4})
        new_publisher.close()
        publisher.close()
        self.assertLess(time.monotonic() - sent, drain_s, "drain checks slower than the drain: inconclusive")

        for w in watchers:
            w.join(timeout=drain_s + window_s + STEP)
        for w in watchers:
            self.assertIsNone(w.error, w.error)
            self.assertEqual(w.code, 1001)
            self.assertIn({"n": 4}, [m["data"] for m in w.data if is_data(m)])
        times = sorted(w.at - sent for w in watchers)
        self.assertGreaterEqual(times[0], drain_s - 0.05, "a client was closed during the drain delay")
        self.assertLessEqual(times[-1], drain_s + window_s + 1.0, times)
        code = router.wait_exit(timeout=grace_s)
        exited = time.monotonic() - sent
        self.assertEqual(code, 0, router.stderr_text()[-4000:])
        self.assertLess(exited, grace_s, "SIGKILL would have cut the shutdown")
        events = [(log_event(l) or {}).get("event") for l in router.stdout_lines]
        self.assertEqual(events[-1], "stopped")


if __name__ == "__main__":
    unittest.main()
