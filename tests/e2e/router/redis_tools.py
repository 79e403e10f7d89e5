"""A real redis-server for the Redis broker's end-to-end tests, and a TCP
proxy a test can cut to take one router's Redis away while the others keep
theirs. redis-server (Debian's package) is started on a free loopback port
and stopped by its pid; every wait is for an event (a PONG, a port) with a
deadline."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from router_harness import STEP, HarnessError

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_command(port, *args, timeout=1.0):
    """One command in RESP; returns the raw answer bytes (enough for tests)."""
    payload = b"*%d\r\n" % len(args)
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        payload += b"$%d\r\n%s\r\n" % (len(data), data)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        return s.recv(65536)


def _resp_value(data, at=0):
    """One RESP2 value from `data` at `at`: (value, next offset)."""
    end = data.index(b"\r\n", at)
    kind, line = data[at:at + 1], data[at + 1:end]
    at = end + 2
    if kind in (b"+", b"-"):
        return line.decode(), at
    if kind == b":":
        return int(line), at
    if kind == b"$":
        size = int(line)
        if size < 0:
            return None, at
        if len(data) < at + size + 2:
            raise IndexError("incomplete")
        return data[at:at + size], at + size + 2
    if kind == b"*":
        items = []
        for _ in range(max(int(line), 0)):
            item, at = _resp_value(data, at)
            items.append(item)
        return items, at
    raise HarnessError("not RESP: %r" % data[at - 1:at + 40])


def redis_call(port, *args, timeout=2.0):
    """One command; its answer decoded (bulk strings as bytes)."""
    payload = b"*%d\r\n" % len(args)
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        payload += b"$%d\r\n%s\r\n" % (len(data), data)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                raise HarnessError("Redis on %d closed before answering %r" % (port, args))
            data += chunk
            try:
                return _resp_value(data)[0]
            except (ValueError, IndexError):
                continue  # incomplete: read on


def free_cluster_port():
    """A free port whose cluster bus port (+10000) is free too."""
    import random
    for _ in range(200):
        port = random.randint(20000, 55000)
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 10000))
                return port
        except OSError:
            continue
    raise HarnessError("no free port pair for a cluster node")


class RedisServer:
    """redis-server on 127.0.0.1:<port>; persistent=True keeps its data in
    an append-only file (fsync always) across kill and restart."""

    def __init__(self, persistent=False, password=None):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="wsrouter-redis-")
        self.persistent = persistent
        self.password = password
        self.proc = None
        self.extra_args = []

    def start(self):
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--dir", self.dir, "--daemonize", "no"]
        args += (["--appendonly", "yes", "--appendfsync", "always"] if self.persistent
                 else ["--appendonly", "no"])
        if self.password is not None:
            args += ["--requirepass", self.password]
        args += self.extra_args
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + STEP
        while True:
            try:
                # Without the password Redis answers -NOAUTH: it is up all the same.
                if redis_command(self.port, "PING").startswith((b"+PONG", b"-NOAUTH")):
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise HarnessError("redis-server exited (%s)" % self.proc.returncode)
            if time.monotonic() > deadline:
                raise HarnessError("redis-server did not answer PING on %d" % self.port)
            time.sleep(0.02)

    def pause(self):
        """SIGSTOP, by pid: its sockets stay up, nothing is answered."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def kill(self):
        """SIGKILL, by pid; waits for it to be gone."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=STEP)

    def stop(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def address(self):
        return "127.0.0.1:%d" % self.port


class CuttableProxy:
    """Forwards 127.0.0.1:<port> to a Redis. cut() drops every connection
    and refuses new ones until restore()."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.open = True
        self.pairs = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def address(self):
        return "127.0.0.1:%d" % self.port

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                if not self.open:
                    client.close()
                    continue
                try:
                    upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
                except OSError:
                    client.close()
                    continue
                upstream.settimeout(None)
                self.pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            self.open = False
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def restore(self):
        with self.lock:
            self.open = True

    def close(self):
        self.closed = True
        self.cut()
        self.listener.close()


REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"


class RedisCluster:
    """A Redis Cluster of `masters` redis-server on free loopback ports
    (`replicas` more for each), slots spread evenly by `redis-cli --cluster
    create`; started and stopped by pid, ready once every node says
    cluster_state:ok and knows every other."""

    def __init__(self, masters=3, replicas=0, node_timeout_ms=2000):
        self.replicas = replicas
        self.nodes = [RedisServer() for _ in range(masters * (1 + replicas))]
        for node in self.nodes:
            node.port = free_cluster_port()
            node.extra_args = ["--cluster-enabled", "yes",
                               "--cluster-config-file", os.path.join(node.dir, "nodes.conf"),
                               "--cluster-node-timeout", str(node_timeout_ms)]

    def start(self):
        try:
            for node in self.nodes:
                node.start()
            proc = subprocess.run(
                [REDIS_CLI, "--cluster", "create", *[n.address() for n in self.nodes],
                 "--cluster-replicas", str(self.replicas), "--cluster-yes"],
                stdin=subprocess.DEVNULL, capture_output=True, timeout=3 * STEP)
            if proc.returncode != 0:
                raise HarnessError("redis-cli --cluster create failed: %s" % proc.stdout[-2000:])
            deadline = time.monotonic() + 3 * STEP
            while not all(self.ok(n) and self.knows_all(n) for n in self.nodes):
                if time.monotonic() > deadline:
                    raise HarnessError("the cluster did not reach cluster_state:ok")
                time.sleep(0.05)
            return self
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def ok(node):
        try:
            info = redis_call(node.port, "CLUSTER", "INFO")
        except OSError:
            return False
        return b"cluster_state:ok" in info

    def knows_all(self, node):
        nodes = redis_call(node.port, "CLUSTER", "NODES").decode().splitlines()
        return len(nodes) == len(self.nodes) and all("connected" in n for n in nodes)

    def masters(self):
        """The nodes serving slots, as the first live node sees it."""
        live = next(n for n in self.nodes if n.proc.poll() is None)
        ports = {m[1] for _, _, m, *_ in redis_call(live.port, "CLUSTER", "SLOTS")}
        return [n for n in self.nodes if n.port in ports]

    def node_id(self, node):
        return redis_call(node.port, "CLUSTER", "MYID").decode()

    def owner(self, slot):
        """The node serving `slot`, as the first live node sees it."""
        live = next(n for n in self.nodes if n.proc.poll() is None)
        for start, end, master, *_ in redis_call(live.port, "CLUSTER", "SLOTS"):
            if start <= slot <= end:
                port = master[1]
                return next(n for n in self.nodes if n.port == port)
        raise HarnessError("slot %d is not served" % slot)

    def migrate_slot(self, slot, target):
        """Moves `slot` to `target` the way redis-cli --cluster reshard
        does: IMPORTING on the target, MIGRATING on the source, MIGRATE of
        every key, then SETSLOT NODE on both (and the others)."""
        source = self.owner(slot)
        if source is target:
            return
        source_id, target_id = self.node_id(source), self.node_id(target)
        redis_call(target.port, "CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
        redis_call(source.port, "CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
        while True:
            keys = redis_call(source.port, "CLUSTER", "GETKEYSINSLOT", slot, 100)
            if not keys:
                break
            answer = redis_call(source.port, "MIGRATE", "127.0.0.1", target.port, "", 0, 5000,
                                "KEYS", *keys)
            if answer not in ("OK", "NOKEY"):
                raise HarnessError("MIGRATE answered %r" % (answer,))
        for node in (target, source, *[n for n in self.nodes if n not in (source, target)]):
            redis_call(node.port, "CLUSTER", "SETSLOT", slot, "NODE", target_id)

    def addresses(self):
        return [n.address() for n in self.nodes]

    def stop(self):
        for node in self.nodes:
            node.stop()
