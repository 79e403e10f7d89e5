"""The publish path's persistent forms on a real router: HTTP/1.1
pipelining on the admin port, answered in order, and the publisher
WebSocket (GET /api/v1/publish/ws, docs/protocol.md), from the raw client
and from the Python `websockets` library."""

import asyncio
import json
import socket

import websockets

from redis_tools import RedisServer
from router_harness import RouterClient, RouterTestCase, base_config

PUBLISHER_PATH = "/api/v1/publish/ws"


class PublisherSocket(RouterTestCase):
    CONFIG = base_config()

    def publisher(self):
        client = RouterClient.connect(
            self.router.admin_port, PUBLISHER_PATH,
            extra=("Authorization: Bearer %s" % self.router.token,))
        self._clients.append(client)
        return client

    def test_pipelined_frames_reach_subscribers_in_order(self):
        subscriber = self.subscribed_client(["ws:pipe"])
        publisher = self.publisher()
        count = 300
        for i in range(1, count + 1):
            publisher.send_json({"op": "publish", "id": i, "channel": "ws:pipe",
                                 "type": "tick", "data": {"i": i}})
        for i in range(1, count + 1):
            answer = publisher.recv_json()
            self.assertEqual(answer, {"op": "published", "id": i, "channel": "ws:pipe",
                                      "seq": i})
        for i in range(1, count + 1):
            message = subscriber.recv_json()
            self.assertEqual((message["type"], message["seq"], message["data"]),
                             ("tick", i, {"i": i}))

    def test_errors_name_the_field_and_the_stream_stays_open(self):
        publisher = self.publisher()
        publisher.send_json({"op": "publish", "id": 1, "channel": "no spaces", "data": 1})
        publisher.send_json({"op": "publish", "id": 2, "channel": "ws:err"})
        publisher.send_json({"op": "publish", "id": 3, "channel": "ws:err", "data": 1})
        first = publisher.recv_json()
        self.assertEqual((first["op"], first["id"], first["code"]),
                         ("error", 1, "INVALID_CHANNEL"))
        second = publisher.recv_json()
        self.assertEqual((second["code"], second["message"]),
                         ("BAD_REQUEST", "field 'data' is missing"))
        self.assertEqual(publisher.recv_json()["seq"], 1)

    def test_a_wrong_token_is_refused_before_the_upgrade(self):
        with self.assertRaises(Exception) as refused:
            RouterClient.connect(self.router.admin_port, PUBLISHER_PATH,
                                 extra=("Authorization: Bearer not-the-token",))
        self.assertIn("401", str(refused.exception))

    def test_the_websockets_library_publishes(self):
        subscriber = self.subscribed_client(["ws:lib"])

        async def publish():
            uri = "ws://127.0.0.1:%d%s" % (self.router.admin_port, PUBLISHER_PATH)
            headers = {"Authorization": "Bearer " + self.router.token}
            async with websockets.connect(uri, extra_headers=headers) as ws:
                for i in range(1, 51):
                    await ws.send(json.dumps({"op": "publish", "id": i, "channel": "ws:lib",
                                              "data": [i]}))
                return [json.loads(await ws.recv()) for _ in range(50)]

        answers = asyncio.run(publish())
        self.assertEqual([a["seq"] for a in answers], list(range(1, 51)))
        self.assertEqual([a["id"] for a in answers], list(range(1, 51)))
        for i in range(1, 51):
            self.assertEqual(subscriber.recv_json()["data"], [i])


class PipelinedHttp(RouterTestCase):
    CONFIG = base_config()

    def test_pipelined_publish_requests_are_answered_in_order(self):
        subscriber = self.subscribed_client(["http:pipe"])
        count = 100
        requests = bytearray()
        for i in range(1, count + 1):
            body = json.dumps({"channel": "http:pipe", "data": {"i": i}}).encode()
            path = "/api/v1/publish" if i % 10 else "/api/v1/publish/batch"
            if i % 10 == 0:
                body = json.dumps({"messages": [{"channel": "http:pipe",
                                                 "data": {"i": i}}]}).encode()
            # A stats request in the middle goes to a handler thread; its
            # answer must still come in its place.
            if i == 50:
                requests += b"GET /api/v1/stats HTTP/1.1\r\nHost: x\r\n\r\n"
            requests += (b"POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                         b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                         % (path.encode(), self.router.token.encode(), len(body))) + body
        with socket.create_connection(("127.0.0.1", self.router.admin_port), timeout=10) as s:
            s.sendall(bytes(requests))
            answers = read_http_answers(s, count + 1)
        seqs = []
        for status, body in answers:
            self.assertEqual(status, 200, body)
            if "results" in body:
                seqs.append(body["results"][0]["seq"])
            elif "seq" in body:
                seqs.append(body["seq"])
            else:
                self.assertEqual(len(seqs), 49, "the stats answer is in its place")
        self.assertEqual(seqs, list(range(1, count + 1)))
        for i in range(1, count + 1):
            self.assertEqual(subscriber.recv_json()["data"], {"i": i})


class ThroughRedis:
    """A router test class run with the Redis broker, against a Redis of its own."""

    @classmethod
    def setUpClass(cls):
        cls.redis_server = RedisServer().start()
        cls.addClassCleanup(cls.redis_server.stop)
        cls.CONFIG = base_config(broker={
            "type": "redis", "redis": {"addresses": [cls.redis_server.address()]}})
        super().setUpClass()


class PublisherSocketThroughRedis(ThroughRedis, PublisherSocket):
    """Each read's frames go to Redis as one batch on a handler thread."""


class PipelinedHttpThroughRedis(ThroughRedis, PipelinedHttp):
    """Pipelined requests are answered from the handler threads, still in order."""


def read_http_answers(sock, count):
    """`count` Content-Length framed answers: (status, JSON body) each."""
    data = bytearray()
    answers = []
    while len(answers) < count:
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            head = data[:end].decode()
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if len(data) >= end + 4 + length:
                status = int(head.split(" ")[1])
                answers.append((status, json.loads(bytes(data[end + 4:end + 4 + length]))))
                del data[:end + 4 + length]
                continue
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("closed after %d answers" % len(answers))
        data += chunk
    return answers


if __name__ == "__main__":
    import unittest
    unittest.main()
