"""The real container, run with podman the way Kubernetes runs the chart's
pod: read-only root file system, every capability dropped, uid 65532, the
chart's rendered default config.yaml bind-mounted read-only over
/etc/wsrouter, a soft descriptor limit of 1024 under a hard one of 20000
(containerd 2's default shape). Then: the probes on a published loopback
port, a WebSocket client served by the demo feed, the entrypoint's raised
descriptor limit, SIGTERM by `podman stop` with the client closed 1001 and
exit code 0; and the entrypoint refusing a hard limit below MIN_NOFILE.

    tests/deploy/image/test.sh   (after make image)
"""

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "e2e", "router"))

from k8s_render import helm_template  # noqa: E402
from router_harness import STEP, Admin, Closed, RouterClient, is_data, wait_until  # noqa: E402

ROOT = os.environ.get("WSR_PODMAN_ROOT", "/var/lib/wsrouter-podman")
IMAGE = os.environ.get("WSR_IMAGE", "localhost/wsrouter:dev")
DRAIN_MS, WINDOW_MS = 1000, 1000
# This machine's limits: crun refuses its hybrid cgroups, and podman's default
# rlimits exceed the hard ones, so runc and explicit limits.
RUN_FLAGS = ["--runtime", "runc", "--ulimit", "nproc=32768:32768"]


def podman(*args, check=True, timeout=120):
    cmd = ["podman", "--root", ROOT + "/storage", "--runroot", ROOT + "/run", "--storage-driver", "vfs", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError("%s: exit %d\n%s%s" % (" ".join(args[:2]), proc.returncode, proc.stdout, proc.stderr))
    return proc


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Container(unittest.TestCase):
    def setUp(self):
        self.name = "wsrouter-image-test-" + uuid.uuid4().hex[:8]
        self.addCleanup(lambda: podman("rm", "--force", "--time", "0", self.name, check=False))
        objects = helm_template()
        self.deployment = next(o for o in objects if o["kind"] == "Deployment")
        config = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "wsrouter")
        self.config_dir = tempfile.mkdtemp(prefix="wsrouter-image-config-")
        with open(os.path.join(self.config_dir, "config.yaml"), "w") as f:
            f.write(config["data"]["config.yaml"])
        os.chmod(self.config_dir, 0o755)
        os.chmod(os.path.join(self.config_dir, "config.yaml"), 0o644)
        self.env = {e["name"]: e["value"] for e in self.deployment["spec"]["template"]["spec"]
                    ["containers"][0]["env"] if "value" in e}

    def run_container(self, nofile, extra_env=()):
        self.port, self.admin_port = free_port(), free_port()
        env = dict(self.env)
        env.update({"WSROUTER_SHUTDOWN_DRAIN_DELAY_MS": str(DRAIN_MS),
                    "WSROUTER_SHUTDOWN_CLOSE_WINDOW_MS": str(WINDOW_MS)})
        env.update(dict(extra_env))
        args = ["run", "--detach", "--name", self.name, *RUN_FLAGS, "--ulimit", "nofile=%s" % nofile,
                "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                "--user", "65532:65532",
                "--volume", "%s:/etc/wsrouter:ro" % self.config_dir,
                "--publish", "127.0.0.1:%d:8080" % self.port,
                "--publish", "127.0.0.1:%d:9090" % self.admin_port]
        for k, v in env.items():
            args += ["--env", "%s=%s" % (k, v)]
        podman(*args, IMAGE)

    def logs(self):
        proc = podman("logs", self.name, check=False)
        return proc.stdout + proc.stderr

    def get(self, path):
        admin = Admin(self.admin_port, token=None)
        try:
            return admin.get(path)
        finally:
            admin.close()

    def status(self, path):
        """The status of GET path, None while nothing answers yet."""
        try:
            return self.get(path).status
        except (OSError, http.client.HTTPException):
            return None

    def test_runs_like_the_pod(self):
        self.run_container("1024:20000")
        # The chart's probes: startup and liveness /healthz, readiness /readyz.
        wait_until(lambda: self.status("/healthz") == 200, 30, "/healthz through the published port",
                   interval=0.1)
        wait_until(lambda: self.status("/readyz") == 200, STEP, "/readyz")
        inspect = podman("inspect", "--format", "{{.Config.User}} {{.HostConfig.ReadonlyRootfs}} "
                         "{{.State.Pid}}", self.name).stdout.split()
        self.assertEqual(inspect[:2], ["65532:65532", "true"])
        # The entrypoint exec'd wsrouter: it is the container's PID 1, and
        # raised the soft descriptor limit to the hard one.
        top = podman("top", self.name, "pid", "user", "args").stdout
        self.assertRegex(top, r"(?m)^\s*1\s+(65532|wsrouter)\s+/usr/local/bin/wsrouter --config /etc/wsrouter/config.yaml")
        metrics = self.get("/metrics").body.decode()
        self.assertIn("process_max_fds 20000", metrics)

        # A client served by the demo feed (config.feed.enabled in the chart's defaults).
        client = RouterClient.connect(self.port, "/ws")
        self.addCleanup(client.close)
        client.expect_type("welcome")
        client.subscribe(["stock:AAPL"], id=1)
        client.expect_type("subscribed")
        got = client.read_until(lambda m: is_data(m, "stock:AAPL"))
        self.assertEqual(got[-1]["channel"], "stock:AAPL")

        # `podman stop` sends the image's STOPSIGNAL (SIGTERM) to PID 1.
        stop = subprocess.Popen(["podman", "--root", ROOT + "/storage", "--runroot", ROOT + "/run",
                                 "--storage-driver", "vfs", "stop", "--time", "30", self.name],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sent = time.monotonic()
        code = None
        try:
            while True:
                client.recv_json(timeout=STEP)
        except Closed as closed:
            code = closed.code
            closed_at = time.monotonic() - sent
            client.send_close(1001)
        _, err = stop.communicate(timeout=60)
        stopped = time.monotonic() - sent
        self.assertEqual(stop.returncode, 0, err)
        self.assertEqual(code, 1001, self.logs())
        self.assertGreaterEqual(closed_at, DRAIN_MS / 1000 - 0.1)
        self.assertLess(stopped, 30, "podman had to SIGKILL it")
        state = podman("inspect", "--format", "{{.State.ExitCode}}", self.name).stdout.strip()
        self.assertEqual(state, "0", self.logs())
        logs = self.logs()
        self.assertIn('"event":"shutting_down"', logs)
        self.assertIn('"signal":"SIGTERM"', logs)
        self.assertIn('"event":"stopped"', logs)

    def test_refuses_a_hard_limit_below_min_nofile(self):
        self.run_container("4096:4096")
        state = wait_until(lambda: (lambda s: s if s.split()[0] == "exited" else None)(
            podman("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", self.name).stdout.strip()),
            30, "the container's exit", interval=0.1)
        self.assertEqual(state, "exited 1")
        self.assertIn('"event":"startup_failed"', self.logs())
        self.assertIn("MIN_NOFILE=16024", self.logs())


if __name__ == "__main__":
    unittest.main(verbosity=2)
