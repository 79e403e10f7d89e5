#!/usr/bin/env python3
"""Checks the load generator's router-mode accounting against a scripted router.

    /usr/bin/python3 bench/loadgen_check.py build-bench/loadgen

A stand-in for wsrouter (a WebSocket endpoint and a publish API, both
minimal) answers the load generator's publications by a fixed script, and the
load generator's JSON line must count exactly what the script did:

- request 5 is refused: single publishes are answered 429 with Retry-After: 1;
  batches of 2 are answered 200 with the second result OVERLOADED and no
  Retry-After (the load generator holds back 1 s then). No publication may
  arrive within that second (the stand-in fails the check if one does), and
  the publications the fixed rate makes due meanwhile are withheld;
- seqs 3 and 4 are shed for everyone, announced by one gap before seq 5:
  covered;
- seq 8 is not sent to the first connection, and nothing says so: uncovered;
- seq 10 is shed for everyone, its gap sent only after seq 11: uncovered,
  and stale (the gap named a seq already judged);
- from seq 25 on everything is shed, each seq announced by a gap of its own
  at once: covered, also the tail after the last data message.

The stand-in's own resident memory is sampled as the server's, once a second.
"""

import asyncio
import base64
import hashlib
import json
import os
import subprocess
import sys
import time

N = 3
RATE = 20
MESSAGES = 60
REFUSED_REQUEST = 5
RETRY_AFTER_S = 1
SHED_FROM = 25


class StandIn:
    def __init__(self):
        self.clients = []  # (writer, index) in connection order
        self.seq = 0
        self.requests = 0
        self.refused_at = None
        self.early = []  # requests that came before Retry-After ran out

    def frame(self, text):
        data = text.encode()
        n = len(data)
        if n < 126:
            head = bytes([0x81, n])
        elif n < 65536:
            head = bytes([0x81, 126]) + n.to_bytes(2, "big")
        else:
            head = bytes([0x81, 127]) + n.to_bytes(8, "big")
        return head + data

    def send(self, index, text):
        writer = self.clients[index]
        writer.write(self.frame(text))

    def gap(self, index, first, last):
        self.send(index, json.dumps({"type": "gap", "channel": "bench", "from": first, "to": last,
                                     "reason": "overload"}, separators=(",", ":")))

    def publish(self, data):
        self.seq += 1
        seq = self.seq
        message = ('{"type":"bench","channel":"bench","seq":%d,"ts":%d,"data":%s}'
                   % (seq, int(time.time() * 1000), data))
        for i in range(len(self.clients)):
            if seq in (3, 4, 10):
                continue
            if seq >= SHED_FROM:
                self.gap(i, seq, seq)
                continue
            if seq == 5:
                self.gap(i, 3, 4)
            if seq == 8 and i == 0:
                continue
            self.send(i, message)
            if seq == 11:
                self.gap(i, 10, 10)
        return seq

    async def websocket(self, reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        key = next(line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
                   if line.lower().startswith(b"sec-websocket-key:"))
        accept = base64.b64encode(hashlib.sha1(
            key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        self.clients.append(writer)
        try:
            while await reader.read(65536):
                pass  # the load generator sends nothing but pongs
        except ConnectionError:
            pass  # it resets its connections when it is done

    async def admin(self, reader, writer):
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            body = json.loads(await reader.readexactly(length))
            self.requests += 1
            now = time.monotonic()
            if self.refused_at is not None and now < self.refused_at + RETRY_AFTER_S:
                self.early.append(now - self.refused_at)
            refuse = self.requests == REFUSED_REQUEST
            if refuse:
                self.refused_at = now
            overloaded = '{"error":{"code":"OVERLOADED","message":"worker backlog"}}'
            status, extra = "200 OK", ""
            if "messages" in body:
                results = []
                for i, message in enumerate(body["messages"]):
                    if refuse and i == len(body["messages"]) - 1:
                        results.append(overloaded)
                    else:
                        seq = self.publish(json.dumps(message["data"], separators=(",", ":")))
                        results.append('{"channel":"bench","seq":%d}' % seq)
                answer = '{"results":[' + ",".join(results) + "]}"
            elif refuse:
                status, extra = "429 Too Many Requests", f"Retry-After: {RETRY_AFTER_S}\r\n"
                answer = overloaded
            else:
                seq = self.publish(json.dumps(body["data"], separators=(",", ":")))
                answer = '{"channel":"bench","seq":%d}' % seq
            writer.write((f"HTTP/1.1 {status}\r\n{extra}Content-Type: application/json\r\n"
                          f"Content-Length: {len(answer)}\r\n\r\n{answer}").encode())


async def main(loadgen, per_request):
    stand_in = StandIn()
    ws = await asyncio.start_server(stand_in.websocket, "127.0.0.1", 0)
    admin = await asyncio.start_server(stand_in.admin, "127.0.0.1", 0)
    ws_port = ws.sockets[0].getsockname()[1]
    admin_port = admin.sockets[0].getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        loadgen, "--port", str(ws_port), "--admin-port", str(admin_port), "--token", "t",
        "--path", "/ws/bench", "--n", str(N), "--rate", str(RATE), "--messages", str(MESSAGES),
        "--publishers", "2", "--per-request", str(per_request), "--drain", "3",
        "--server-pid", str(os.getpid()),
        stdout=subprocess.PIPE)
    out, _ = await asyncio.wait_for(process.communicate(), 20)
    ws.close()
    admin.close()
    return stand_in, json.loads(out)


def check(stand_in, r):
    last = stand_in.seq
    shed_tail = last - SHED_FROM + 1
    expect = {
        "publish_refused": 1,
        "accepted": last,
        "last_seq": last,
        "offered": MESSAGES,
        "missing_covered": N * 2 + N * shed_tail,
        "missing_uncovered": 1 + N,
        "stale_gap_seqs": N,
        "gaps": 1 + N,
        "covered_jumps": N + N,  # 3..4, and the shed tail (one jump each)
        "deliveries": N * (SHED_FROM - 1) - N * 3 - 1,
        "expected_deliveries": N * last,
        "gap_messages": N * 2 + N * shed_tail,
        "gap_reasons": {"overload": N * 2 + N * shed_tail, "slow_consumer": 0, "other": 0},
    }
    failures = [f"{key}: expected {want}, got {r.get(key)}" for key, want in expect.items()
                if r.get(key) != want]
    # A second of Retry-After at 20/s: about 20 due meanwhile, none sent.
    if not RATE * RETRY_AFTER_S - 3 <= r.get("publish_withheld", -1) <= RATE * RETRY_AFTER_S + 3:
        failures.append(f"publish_withheld: expected about {RATE * RETRY_AFTER_S}, "
                        f"got {r.get('publish_withheld')}")
    # About 3 s of publishing (1 of them held back): a sample at the start,
    # one each second, one at the end.
    rss = r.get("rss_mib", [])
    if len(rss) < 4 or min(rss) <= 0 or r.get("rss_first_mib") != rss[0] or \
            r.get("rss_last_mib") != rss[-1] or r.get("rss_max_mib") != max(rss):
        failures.append(f"RSS samples: {rss}, first {r.get('rss_first_mib')}, "
                        f"last {r.get('rss_last_mib')}, max {r.get('rss_max_mib')}")
    if stand_in.early:
        failures.append(f"requests within Retry-After: {len(stand_in.early)} "
                        f"(first {stand_in.early[0]:.3f} s after the 429)")
    if last < SHED_FROM + 2:
        failures.append(f"only {last} publications accepted: the shed tail was not reached")
    return failures


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: loadgen_check.py path/to/loadgen")
    failed = False
    for per_request in (1, 2):
        stand_in, result = asyncio.run(main(sys.argv[1], per_request))
        problems = check(stand_in, result)
        for problem in problems:
            print(f"FAIL (--per-request {per_request})", problem)
        if problems:
            print(json.dumps(result))
            failed = True
            continue
        print(f"ok (--per-request {per_request}): {result['accepted']} accepted, "
              f"{result['publish_refused']} refused, {result['publish_withheld']} withheld, "
              f"{result['missing_covered']} missing covered, "
              f"{result['missing_uncovered']} uncovered")
    sys.exit(1 if failed else 0)
