"""The Helm chart and k8s/, rendered and checked for what the packaging
promises: probes, drain-aware rollouts, hardening, secrets mounted to rotate,
scraping, alerts equal to grafana/'s, the dashboard, a config the real router
accepts, values the schema refuses, and k8s/ equal to the chart.

    WSROUTER=build/wsrouter /usr/bin/python3 -m unittest discover -s tests/deploy -p 'test_chart.py' -v
"""

import glob
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import yaml

from k8s_render import (CHART, HELM, ROOT, by_key, helm_template, kustomize,
                        without_helm_labels)

CI_FILES = sorted(glob.glob(os.path.join(CHART, "ci", "*.yaml")))
VARIANTS = [("defaults", [])] + [(os.path.basename(f), [f]) for f in CI_FILES]
RULES_FILE = os.path.join(ROOT, "grafana", "alerts", "wsrouter.rules.yaml")
DASHBOARD_FILE = os.path.join(ROOT, "grafana", "dashboards", "wsrouter.json")
RUNBOOK_BASE = "https://github.com/wsrouter/wsrouter/blob/main/docs/runbook.md"


def values_of(files):
    with open(os.path.join(CHART, "values.yaml")) as f:
        values = yaml.safe_load(f)
    for name in files:
        with open(name) as f:
            merge(values, yaml.safe_load(f))
    return values


def merge(into, over):
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            merge(into[k], v)
        else:
            into[k] = v


def one(objects, kind, name_suffix=""):
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"].endswith(name_suffix)
             and (name_suffix or not o["metadata"]["name"].endswith("-dashboard"))]
    assert len(found) == 1, "%d %s objects named *%s" % (len(found), kind, name_suffix)
    return found[0]


def container(objects):
    return one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def config_of(objects):
    return yaml.safe_load(one(objects, "ConfigMap")["data"]["config.yaml"])


def helm_fails(*args):
    """helm template with these arguments; the error text (it must fail)."""
    proc = subprocess.run([HELM, "template", "t", CHART, *args], capture_output=True, text=True)
    assert proc.returncode != 0, "helm template %s succeeded" % (args,)
    return proc.stderr


class Rendered(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rendered = {name: helm_template(files) for name, files in VARIANTS}
        cls.values = {name: values_of(files) for name, files in VARIANTS}

    def each(self):
        for name, objects in self.rendered.items():
            with self.subTest(values=name):
                yield name, objects, self.values[name]

    def test_probes_on_the_admin_port(self):
        for name, objects, values in self.each():
            c = container(objects)
            ports = {p["name"]: p["containerPort"] for p in c["ports"]}
            self.assertEqual(ports, {"ws": values["ports"]["public"], "admin": values["ports"]["admin"]})
            self.assertEqual(c["startupProbe"]["httpGet"], {"path": "/healthz", "port": "admin"})
            self.assertEqual(c["livenessProbe"]["httpGet"], {"path": "/healthz", "port": "admin"})
            self.assertEqual(c["readinessProbe"]["httpGet"], {"path": "/readyz", "port": "admin"})
            config = config_of(objects)
            self.assertEqual(config["admin"]["port"], values["ports"]["admin"])
            self.assertEqual(config["server"]["port"], values["ports"]["public"])

    def test_rollout_and_grace_period_cover_the_drain(self):
        for name, objects, values in self.each():
            deployment = one(objects, "Deployment")
            self.assertEqual(deployment["spec"]["strategy"]["type"], "RollingUpdate")
            self.assertEqual(deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 0)
            config = config_of(objects)
            shutdown = config.get("shutdown", {})
            drain_ms = shutdown.get("drain_delay_ms", 5000) + shutdown.get("close_window_ms", 10000)
            last_close_ms = config.get("heartbeat", {}).get("close_timeout_ms", 2000)
            grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
            self.assertGreaterEqual(grace * 1000, drain_ms + last_close_ms + 5000,
                                    "grace period %d s too short for %d ms" % (grace, drain_ms))
            if values["autoscaling"]["enabled"]:
                self.assertNotIn("replicas", deployment["spec"])
            else:
                self.assertEqual(deployment["spec"]["replicas"], values["replicaCount"])

    def test_pod_is_hardened(self):
        for name, objects, values in self.each():
            pod = one(objects, "Deployment")["spec"]["template"]["spec"]
            self.assertTrue(pod["securityContext"]["runAsNonRoot"])
            self.assertEqual(pod["securityContext"]["runAsUser"], 65532)
            self.assertEqual(pod["securityContext"]["seccompProfile"], {"type": "RuntimeDefault"})
            self.assertIs(pod["automountServiceAccountToken"], False)
            self.assertIs(pod["enableServiceLinks"], False)
            sc = container(objects)["securityContext"]
            self.assertEqual((sc["allowPrivilegeEscalation"], sc["readOnlyRootFilesystem"], sc["privileged"]),
                             (False, True, False))
            self.assertEqual(sc["capabilities"], {"drop": ["ALL"]})
            self.assertEqual(sc["seccompProfile"], {"type": "RuntimeDefault"})
            self.assertIn("resources", container(objects))
            if values["serviceAccount"]["create"]:
                self.assertIs(one(objects, "ServiceAccount")["automountServiceAccountToken"], False)
            else:
                self.assertFalse([o for o in objects if o["kind"] == "ServiceAccount"])
                self.assertEqual(pod["serviceAccountName"], values["serviceAccount"]["name"])

    def test_spread_over_nodes_and_zones(self):
        pod = one(self.rendered["defaults"], "Deployment")["spec"]["template"]["spec"]
        keys = [c["topologyKey"] for c in pod["topologySpreadConstraints"]]
        self.assertEqual(keys, ["kubernetes.io/hostname", "topology.kubernetes.io/zone"])
        selector = one(self.rendered["defaults"], "Deployment")["spec"]["selector"]["matchLabels"]
        for c in pod["topologySpreadConstraints"]:
            self.assertEqual(c["labelSelector"]["matchLabels"], selector)

    def test_config_checksum_rolls_on_config_change_only(self):
        for name, objects, values in self.each():
            annotation = one(objects, "Deployment")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
            text = one(objects, "ConfigMap")["data"]["config.yaml"]
            self.assertEqual(annotation, hashlib.sha256(text.encode()).hexdigest())
        token = os.path.join(CHART, "ci", "token-values.yaml")

        def checksum(*args):
            objects = helm_template([token], extra=args)
            return one(objects, "Deployment")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        base = checksum()
        self.assertNotEqual(base, checksum("--set", "config.log.level=warn"))
        # A Secret change is a rotation, read by the running router: no roll.
        self.assertEqual(base, checksum("--set", "auth.tokens={rotated-token}"))
        self.assertEqual(base, checksum("--set", "publisher.tokens={rotated-publisher}"))

    def test_descriptor_limit_follows_the_connection_cap(self):
        for name, objects, values in self.each():
            env = {e["name"]: e.get("value") for e in container(objects)["env"]}
            cap = config_of(objects)["limits"]["max_connections"]
            self.assertGreaterEqual(int(env["MIN_NOFILE"]), cap + 256)

    def test_env_overrides_are_env_entries(self):
        for name, objects, values in self.each():
            env = container(objects)["env"]
            names = [e["name"] for e in env]
            for key, value in values["env"].items():
                self.assertIn({"name": key, "value": str(value)}, env)
            for extra in values["extraEnv"]:
                self.assertIn(extra, env)
            self.assertEqual(len(names), len(set(names)))
            self.assertFalse([n for n in names if n.startswith("WSROUTER_") and n not in values["env"]])

    def test_secrets_mounted_whole_and_config_points_into_them(self):
        for name, objects, values in self.each():
            pod = one(objects, "Deployment")["spec"]["template"]["spec"]
            mounts = {m["name"]: m for m in container(objects)["volumeMounts"]}
            for m in mounts.values():
                self.assertNotIn("subPath", m, "a subPath mount is never updated on rotation")
                self.assertTrue(m["readOnly"])
            secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
            config = config_of(objects)
            files = []
            if values["auth"]["mode"] == "token":
                files.append(("client-secret", config["auth"]["token_file"], values["auth"]["keys"]["tokens"]))
            if values["auth"]["mode"] == "jwt":
                jwt = config["auth"]["jwt"]
                self.assertEqual(jwt["algorithms"], values["auth"]["jwt"]["algorithms"])
                for alg, key in (("hs256_secret_file", "hs256"), ("rs256_public_key_file", "rs256"),
                                 ("es256_public_key_file", "es256")):
                    files.append(("client-secret", jwt[alg], values["auth"]["keys"][key]))
            if values["publisher"]["tokens"] or values["publisher"]["existingSecret"]:
                files.append(("publisher-secret", config["admin"]["publisher_token_file"], values["publisher"]["key"]))
            else:
                self.assertNotIn("publisher_token_file", config["admin"])
            if values["auth"]["mode"] == "none":
                self.assertNotIn("client-secret", secrets)
            for volume, path, key in files:
                self.assertEqual(path, os.path.join(mounts[volume]["mountPath"], key))
                secret_name = secrets[volume]
                created = [o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == secret_name]
                if created:  # the chart's own Secret holds that key
                    self.assertIn(key, created[0]["stringData"])
            if values["auth"]["existingSecret"]:
                self.assertEqual(secrets["client-secret"], values["auth"]["existingSecret"])

    def test_chart_created_secrets_hold_the_tokens(self):
        objects = self.rendered["token-values.yaml"]
        clients = one(objects, "Secret", "-clients")["stringData"]["tokens"].split()
        self.assertEqual(clients, ["client-token-one", "client-token-two"])
        publishers = one(objects, "Secret", "-publishers")["stringData"]["tokens"].split()
        self.assertEqual(publishers, ["publisher-token-one"])
        self.assertFalse([o for o in self.rendered["jwt-values.yaml"] if o["kind"] == "Secret"])

    def test_services_ingress_and_affinity(self):
        for name, objects, values in self.each():
            services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
            public = one(objects, "Deployment")["metadata"]["name"]
            self.assertEqual(set(services), {public, public + "-admin"})
            self.assertEqual([(p["name"], p["port"]) for p in services[public]["spec"]["ports"]],
                             [("ws", values["ports"]["public"])])
            self.assertEqual([(p["name"], p["port"]) for p in services[public + "-admin"]["spec"]["ports"]],
                             [("admin", values["ports"]["admin"])])
            self.assertEqual(services[public]["spec"]["sessionAffinity"], "None")
            ingresses = [o for o in objects if o["kind"] == "Ingress"]
            self.assertEqual(len(ingresses), 1 if values["ingress"]["enabled"] else 0)
            for ingress in ingresses:
                backends = [p["backend"]["service"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]]
                self.assertEqual(backends, [{"name": public, "port": {"name": "ws"}}])
                notes = ingress["metadata"]["annotations"]
                self.assertGreaterEqual(int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]), 3600)
                self.assertGreaterEqual(int(notes["nginx.ingress.kubernetes.io/proxy-send-timeout"]), 3600)
                self.assertTrue(config_of(objects)["limits"]["trusted_proxies"])
        self.assertIn("trusted_proxies", helm_fails("--set", "ingress.enabled=true"))

    def test_network_policy_guards_the_admin_port(self):
        objects = helm_template([os.path.join(CHART, "ci", "token-values.yaml")], namespace="md")
        policy = one(objects, "NetworkPolicy")
        public, admin = policy["spec"]["ingress"]
        self.assertEqual(public, {"ports": [{"port": "ws", "protocol": "TCP"}]})
        self.assertEqual(admin["ports"], [{"port": "admin", "protocol": "TCP"}])
        (peer,) = admin["from"]
        (expr,) = peer["namespaceSelector"]["matchExpressions"]
        self.assertEqual((expr["key"], expr["operator"]), ("kubernetes.io/metadata.name", "In"))
        self.assertEqual(sorted(expr["values"]), ["market-feeds", "md", "observability"])
        self.assertEqual(policy["spec"]["podSelector"]["matchLabels"],
                         one(objects, "Deployment")["spec"]["selector"]["matchLabels"])

    def test_autoscaling_and_disruption_budget(self):
        hpa = one(self.rendered["token-values.yaml"], "HorizontalPodAutoscaler")
        self.assertEqual((hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]), (3, 12))
        cpu, conns = hpa["spec"]["metrics"]
        self.assertEqual(cpu["resource"]["name"], "cpu")
        self.assertEqual(conns["pods"]["metric"]["name"], "wsrouter_connections")
        self.assertEqual(conns["pods"]["target"], {"type": "AverageValue", "averageValue": "8000"})
        self.assertEqual(hpa["spec"]["scaleTargetRef"]["name"],
                         one(self.rendered["token-values.yaml"], "Deployment")["metadata"]["name"])
        self.assertEqual(len(one(self.rendered["defaults"], "HorizontalPodAutoscaler")["spec"]["metrics"]), 1)
        self.assertFalse([o for o in self.rendered["jwt-values.yaml"] if o["kind"] == "HorizontalPodAutoscaler"])
        pdb = one(self.rendered["defaults"], "PodDisruptionBudget")
        self.assertEqual(pdb["spec"]["maxUnavailable"], 1)

    def test_service_monitor_scrapes_the_admin_service_as_the_rules_job(self):
        for name, objects, values in self.each():
            monitors = [o for o in objects if o["kind"] == "ServiceMonitor"]
            self.assertEqual(len(monitors), 1 if values["metrics"]["serviceMonitor"]["enabled"] else 0)
            for monitor in monitors:
                admin = one(objects, "Service", "-admin")
                self.assertEqual(admin["metadata"]["labels"][monitor["spec"]["jobLabel"]], values["metrics"]["job"])
                selector = monitor["spec"]["selector"]["matchLabels"]
                self.assertTrue(all(admin["metadata"]["labels"].get(k) == v for k, v in selector.items()))
                public = one(objects, "Service", one(objects, "Deployment")["metadata"]["name"])
                self.assertFalse(all(public["metadata"]["labels"].get(k) == v for k, v in selector.items()))
                (endpoint,) = monitor["spec"]["endpoints"]
                self.assertEqual((endpoint["port"], endpoint["path"]), ("admin", "/metrics"))
                # grafana/README.md: the channel `namespace` label must survive.
                self.assertIn({"action": "labeldrop", "regex": "namespace"}, endpoint["relabelings"])

    def test_prometheus_rule_is_grafanas(self):
        with open(RULES_FILE) as f:
            source = f.read()
        rule = one(self.rendered["token-values.yaml"], "PrometheusRule")
        self.assertEqual(rule["spec"], yaml.safe_load(source))
        self.assertEqual(rule["metadata"]["labels"]["release"], "kube-prometheus-stack")
        # Another job and runbook base: the same rules with exactly those rewritten.
        rewritten = (source.replace('job="wsrouter"', 'job="md-router"')
                     .replace(RUNBOOK_BASE, "https://wiki.example.com/wsrouter-runbook"))
        self.assertNotEqual(rewritten, source)
        self.assertEqual(one(self.rendered["jwt-values.yaml"], "PrometheusRule")["spec"], yaml.safe_load(rewritten))
        self.assertFalse([o for o in self.rendered["defaults"] if o["kind"] == "PrometheusRule"])

    def test_prometheus_rule_passes_promtool(self):
        promtool = shutil.which("promtool") or "/usr/bin/promtool"
        for name in ("token-values.yaml", "jwt-values.yaml"):
            spec = one(self.rendered[name], "PrometheusRule")["spec"]
            with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
                yaml.safe_dump(spec, f)
                f.flush()
                proc = subprocess.run([promtool, "check", "rules", "--lint=all", "--lint-fatal", f.name],
                                      capture_output=True, text=True)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            self.assertRegex(proc.stdout, r"SUCCESS: [1-9][0-9]* rules found")

    def test_dashboard_config_map_is_grafanas(self):
        with open(DASHBOARD_FILE) as f:
            dashboard = json.load(f)
        cm = one(self.rendered["defaults"], "ConfigMap", "-dashboard")
        self.assertEqual(cm["metadata"]["labels"]["grafana_dashboard"], "1")
        self.assertEqual(json.loads(cm["data"]["wsrouter.json"]), dashboard)
        self.assertFalse([o for o in self.rendered["jwt-values.yaml"]
                          if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-dashboard")])

    def test_broker_keys_only_with_redis(self):
        for name, objects, values in self.each():
            config = config_of(objects)
            if values["broker"]["type"] != "redis":
                self.assertNotIn("broker", config)
        objects = self.rendered["redis-values.yaml"]
        config = config_of(objects)
        self.assertEqual(config["broker"], {
            "type": "redis",
            "redis": {"mode": "standalone",
                      "addresses": ["redis-master.redis:6379"],
                      "password_file": "/run/secrets/wsrouter-redis/password"}})
        mounts = {m["name"]: m["mountPath"] for m in container(objects)["volumeMounts"]}
        self.assertEqual(mounts["redis-secret"], "/run/secrets/wsrouter-redis")
        self.assertEqual(one(objects, "Secret", "-redis")["stringData"], {"password": "change-me"})

    def test_schema_refuses_wrong_values(self):
        cases = [
            (["--set", "auth.mode=tokens"], "auth.mode"),
            (["--set", "ports.admin=70000"], "ports.admin"),
            (["--set", "config.shutdwn.drain_delay_ms=1"], "shutdwn"),
            (["--set", "config.server.port=1"], "config.server"),
            (["--set", "broker.type=kafka"], "broker.type"),
            (["--set", "broker.redis.mode=ring"], "broker.redis.mode"),
            (["--set", "broker.type=redis", "--set", "broker.redis.mode=sharded",
              "--set", "broker.redis.addresses={r1:6379}"], "addresses"),
            (["--set", "broker.type=redis", "--set", "broker.redis.mode=sharded",
              "--set", "broker.redis.addresses={r1:6379,r1:6379}"], "addresses"),
            (["--set", "replicaCount=two"], "replicaCount"),
            (["--set", "env.PATH=/x"], "env"),
            (["--set", "image.pullPolicy=Sometimes"], "image.pullPolicy"),
            (["--set", "autoscaling.targetCPUUtilizationPercentage=150"], "targetCPUUtilizationPercentage"),
            (["--set", "broker.type=redis"], "addresses"),
        ]
        for args, needle in cases:
            with self.subTest(args=args):
                err = helm_fails(*args)
                self.assertIn("schema", err)
                self.assertIn(needle, err)
        self.assertIn("auth.tokens", helm_fails("--set", "auth.mode=token"))
        self.assertIn("hs256Secrets", helm_fails("--set", "auth.mode=jwt"))


class RouterAcceptsTheConfig(unittest.TestCase):
    """wsrouter --check-config on each rendered config.yaml, with the
    Deployment's WSROUTER_* env entries and the secret files where the
    pod would have them (the absolute /run/secrets paths moved to a
    temporary directory)."""

    def check(self, files, secret_files, extra=()):
        router = os.environ.get("WSROUTER") or os.path.join(ROOT, "build", "wsrouter")
        objects = helm_template(files, extra=list(extra))
        tmp = tempfile.mkdtemp(prefix="wsrouter-chart-")
        try:
            text = one(objects, "ConfigMap")["data"]["config.yaml"].replace("/run/secrets", tmp)
            for rel, content in secret_files.items():
                os.makedirs(os.path.dirname(os.path.join(tmp, rel)), exist_ok=True)
                with open(os.path.join(tmp, rel), "w") as f:
                    f.write(content)
            path = os.path.join(tmp, "config.yaml")
            with open(path, "w") as f:
                f.write(text)
            env = {k: v for k, v in os.environ.items() if not k.startswith("WSROUTER")}
            env.update({e["name"]: e["value"] for e in container(objects)["env"] if "value" in e})
            proc = subprocess.run([router, "--check-config", path], capture_output=True, text=True, env=env)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            self.assertIn("config OK", proc.stdout)
            return proc
        finally:
            shutil.rmtree(tmp)

    def test_default_config(self):
        self.check([], {})

    def test_redis_config(self):
        self.check([os.path.join(CHART, "ci", "redis-values.yaml")],
                   {"wsrouter-redis/password": "change-me\n",
                    "wsrouter-clients/tokens": "a\n", "wsrouter-publishers/tokens": "p\n"})

    def test_sharded_redis_config(self):
        proc = self.check([os.path.join(CHART, "ci", "redis-values.yaml")],
                          {"wsrouter-redis/password": "change-me\n",
                           "wsrouter-clients/tokens": "a\n", "wsrouter-publishers/tokens": "p\n"},
                          extra=["--set", "broker.redis.mode=sharded",
                                 "--set", "broker.redis.addresses={r1:6379,r2:6379,r3:6379}"])
        self.assertIn("config OK", proc.stdout)

    def test_redis_acl_user_config(self):
        proc = self.check([os.path.join(CHART, "ci", "redis-values.yaml")],
                          {"wsrouter-redis/password": "change-me\n",
                           "wsrouter-clients/tokens": "a\n", "wsrouter-publishers/tokens": "p\n"},
                          extra=["--set", "broker.redis.username=wsrouter"])
        self.assertIn("config OK", proc.stdout)
        objects = helm_template([os.path.join(CHART, "ci", "redis-values.yaml")],
                                extra=["--set", "broker.redis.username=wsrouter"])
        self.assertEqual(config_of(objects)["broker"]["redis"]["username"], "wsrouter")

    def test_cluster_redis_config(self):
        proc = self.check([os.path.join(CHART, "ci", "redis-values.yaml")],
                          {"wsrouter-redis/password": "change-me\n",
                           "wsrouter-clients/tokens": "a\n", "wsrouter-publishers/tokens": "p\n"},
                          extra=["--set", "broker.redis.mode=cluster",
                                 "--set", "broker.redis.addresses={redis-cluster:6379}"])
        self.assertIn("config OK", proc.stdout)

    def test_token_config(self):
        self.check([os.path.join(CHART, "ci", "token-values.yaml")],
                   {"wsrouter-clients/tokens": "a\n", "wsrouter-publishers/tokens": "p\n"})

    def test_jwt_config(self):
        ec = subprocess.run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 | openssl pkey -pubout",
                            shell=True, check=True, capture_output=True, text=True).stdout
        rsa = subprocess.run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 | openssl pkey -pubout",
                             shell=True, check=True, capture_output=True, text=True).stdout
        self.check([os.path.join(CHART, "ci", "jwt-values.yaml")],
                   {"wsrouter-clients/hs256": "x" * 40 + "\n", "wsrouter-clients/rs256.pem": rsa,
                    "wsrouter-clients/es256.pem": ec, "wsrouter-publishers/tokens": "p\n"})

    def test_a_value_the_router_refuses_is_caught(self):
        # The schema leaves the router's ranges to the router: --check-config
        # is what catches them, so this check must be able to fail.
        router = os.environ.get("WSROUTER") or os.path.join(ROOT, "build", "wsrouter")
        objects = helm_template([], extra=["--set", "config.server.max_message_bytes=10"])
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            f.write(one(objects, "ConfigMap")["data"]["config.yaml"])
            f.flush()
            proc = subprocess.run([router, "--check-config", f.name], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("server.max_message_bytes", proc.stderr)


class KustomizeEqualsTheChart(unittest.TestCase):
    def normalized(self, objects):
        out = {}
        for obj in objects:
            obj = without_helm_labels(json.loads(json.dumps(obj)))
            obj["metadata"].setdefault("namespace", "wsrouter")
            pod = obj.get("spec", {}).get("template", {}).get("spec")
            if pod:  # a strategic-merge patch prepends list items: order is not meaning
                pod["volumes"].sort(key=lambda v: v["name"])
                for c in pod["containers"]:
                    c["volumeMounts"].sort(key=lambda m: m["name"])
            out[(obj["kind"], obj["metadata"]["name"])] = obj
        return out

    def test_base_equals_chart_defaults(self):
        chart = self.normalized(helm_template())
        base = self.normalized(kustomize(os.path.join(ROOT, "k8s", "base")))
        self.assertEqual(sorted(base), sorted(chart))
        for k in chart:
            self.assertEqual(base[k], chart[k], k)

    def test_overlays_equal_their_chart_values(self):
        overlays = sorted(glob.glob(os.path.join(ROOT, "k8s", "overlays", "*")))
        self.assertTrue(overlays)
        for overlay in overlays:
            with self.subTest(overlay=os.path.basename(overlay)):
                chart = self.normalized(helm_template([os.path.join(overlay, "chart-values.yaml")]))
                rendered = self.normalized(kustomize(overlay))
                self.assertEqual(sorted(rendered), sorted(chart))
                for k in chart:
                    self.assertEqual(rendered[k], chart[k], k)

    def test_redis_overlay_has_three_replicas_and_redis(self):
        objects = kustomize(os.path.join(ROOT, "k8s", "overlays", "redis"))
        self.assertEqual(one(objects, "HorizontalPodAutoscaler")["spec"]["minReplicas"], 3)
        self.assertEqual(config_of(objects)["broker"]["type"], "redis")


if __name__ == "__main__":
    unittest.main()
