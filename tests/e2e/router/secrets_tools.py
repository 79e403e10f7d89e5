"""Secrets for the security tests: Kubernetes-style Secret directories that
rotate the way the kubelet does, and JWTs (HS256 with hmac; RS256 and ES256
with the openssl command, Debian's `openssl` package)."""

import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import tempfile


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def signing_input(header, payload):
    return b64url(_json(header)) + "." + b64url(_json(payload))


def hs256(payload, secret, header=None):
    header = header or {"alg": "HS256", "typ": "JWT"}
    data = signing_input(header, payload)
    key = secret.encode() if isinstance(secret, str) else secret
    return data + "." + b64url(hmac.new(key, data.encode(), hashlib.sha256).digest())


class KeyPair:
    """An RSA 2048 or EC P-256 key made with openssl, PEM files in a temp dir."""

    def __init__(self, kind):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix="wsrouter-key-")
        self.private = os.path.join(self.dir, "private.pem")
        args = (["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"] if kind == "rsa"
                else ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"])
        subprocess.run(["openssl", "genpkey", *args, "-out", self.private], check=True,
                       capture_output=True)
        self.public_pem = subprocess.run(["openssl", "pkey", "-in", self.private, "-pubout"],
                                         check=True, capture_output=True).stdout.decode()

    def sign(self, data):
        der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.private],
                             input=data.encode(), check=True, capture_output=True).stdout
        return der if self.kind == "rsa" else _der_to_raw_ecdsa(der)

    def token(self, payload, header=None):
        alg = "RS256" if self.kind == "rsa" else "ES256"
        data = signing_input(header or {"alg": alg, "typ": "JWT"}, payload)
        return data + "." + b64url(self.sign(data))

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def _der_to_raw_ecdsa(der):
    """ECDSA-Sig-Value (SEQUENCE of two INTEGERs) -> r || s, 32 bytes each."""
    assert der[0] == 0x30
    pos = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    out = b""
    for _ in range(2):
        assert der[pos] == 0x02
        length = der[pos + 1]
        value = der[pos + 2:pos + 2 + length].lstrip(b"\x00")
        out += value.rjust(32, b"\x00")
        pos += 2 + length
    return out


class SecretDir:
    """A Secret volume: ..<timestamp>/ with the files, ..data -> it, and one
    symlink per key, rotated by writing a new version and renaming
    ..data_tmp over ..data."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="wsrouter-secret-")
        self.version = 0
        self.current = None

    def path(self, key):
        return os.path.join(self.dir, key)

    def rotate(self, files):
        self.version += 1
        name = "..2026_11_22_09_00_00.%09d" % self.version
        os.mkdir(os.path.join(self.dir, name))
        for key, content in files.items():
            with open(os.path.join(self.dir, name, key), "w") as f:
                f.write(content)
        tmp = os.path.join(self.dir, "..data_tmp")
        os.symlink(name, tmp)
        os.rename(tmp, os.path.join(self.dir, "..data"))
        for key in files:
            link = os.path.join(self.dir, key)
            if not os.path.islink(link):
                os.symlink(os.path.join("..data", key), link)
        if self.current:
            shutil.rmtree(os.path.join(self.dir, self.current))
        self.current = name

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)
