"""Servers for the registry tests, all on 127.0.0.1 with free ports.

* :func:`start_registry`: the real ``docker-registry`` (distribution 2.8) with a private config
  (open, htpasswd Basic, or JWT token auth).
* :func:`start_token_server`: a Docker-style token server (ES256 JWT with an ``x5c`` chain, like
  auth.docker.io), adapted from the team's reference ``tokenserver.py``; needs ``cryptography``.
* :class:`FakeRegistry`: a small scripted HTTP server speaking the registry API, for behaviours a
  real registry will not produce on demand (500 then 200, a hang, 429 + Retry-After, a wrong
  digest header, a huge body, a redirect to another host, malformed JSON).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up within {timeout}s")


# ---------------------------------------------------------------------------------------------
# docker-registry
# ---------------------------------------------------------------------------------------------


@dataclass
class RunningRegistry:
    proc: subprocess.Popen
    port: int
    workdir: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def registry_binary() -> str | None:
    return shutil.which("docker-registry")


def start_registry(workdir: Path, auth_yaml: str = "") -> RunningRegistry:
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cfg = workdir / "config.yml"
    cfg.write_text(
        f"""version: 0.1
log: {{level: error}}
storage:
  filesystem: {{rootdirectory: {workdir / 'data'}}}
  delete: {{enabled: true}}
http:
  addr: 127.0.0.1:{port}
  secret: test-secret-{os.urandom(4).hex()}
{auth_yaml}"""
    )
    log = open(workdir / "registry.log", "w")
    proc = subprocess.Popen([registry_binary() or "docker-registry", "serve", str(cfg)], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        wait_http(f"http://127.0.0.1:{port}/v2/")
    except RuntimeError:
        proc.kill()
        raise
    return RunningRegistry(proc, port, workdir)


def htpasswd_yaml(workdir: Path, user: str, password: str) -> str:
    path = workdir / "htpasswd"
    workdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["htpasswd", "-Bbc", str(path), user, password], check=True, capture_output=True)
    return f"auth:\n  htpasswd: {{realm: test-realm, path: {path}}}\n"


# ---------------------------------------------------------------------------------------------
# Token server
# ---------------------------------------------------------------------------------------------


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenServer:
    server: ThreadingHTTPServer
    port: int
    requests: list[dict] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    access_token_only: bool = False  # answer {"access_token"} without "token" (both are valid)

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_token_server(cert_path: Path, users: dict[str, str], *, issuer: str = "test-issuer",
                       anonymous_pull: bool = True, access_token_only: bool = False) -> TokenServer:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-token-issuer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]

    def issue(service: str, sub: str, access: list) -> str:
        header = {"typ": "JWT", "alg": "ES256", "x5c": x5c}
        t = int(time.time())
        claims = {"iss": issuer, "sub": sub, "aud": service, "iat": t, "nbf": t - 10, "exp": t + 300,
                  "jti": os.urandom(8).hex(), "access": access}
        signing_input = _b64u(json.dumps(header).encode()) + "." + _b64u(json.dumps(claims).encode())
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return signing_input + "." + _b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    holder: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def do_GET(self):
            ts: TokenServer = holder["ts"]
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            ts.requests.append({"query": query, "authorization": self.headers.get("Authorization")})
            sub, authed = "", False
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                if users.get(user) != password:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                sub, authed = user, True
            access = []
            for scope in query.get("scope", []):
                for one in scope.split(" "):
                    typ, repo, actions = one.split(":")
                    acts = actions.split(",") if authed else [a for a in actions.split(",") if a == "pull" and anonymous_pull]
                    access.append({"type": typ, "name": repo, "actions": acts})
            token = issue(query.get("service", [""])[0], sub, access)
            ts.issued.append(token)
            payload = {"access_token": token, "expires_in": 300} if ts.access_token_only else {"token": token, "access_token": token, "expires_in": 300}
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    ts = TokenServer(server, port, access_token_only=access_token_only)
    holder["ts"] = ts
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return ts


def token_auth_yaml(realm: str, cert_path: Path) -> str:
    return (
        "auth:\n  token:\n"
        f"    realm: {realm}\n    service: test-registry\n    issuer: test-issuer\n"
        f"    rootcertbundle: {cert_path}\n"
    )


# ---------------------------------------------------------------------------------------------
# Scripted fake registry
# ---------------------------------------------------------------------------------------------


@dataclass
class Reply:
    """One scripted answer. ``delay`` sleeps before answering; ``length=False`` omits
    Content-Length (the body then ends when the connection closes)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    length: bool = True


class FakeRegistry:
    """A loopback HTTP server answering registry API paths from a script.

    ``add(method, path, *replies)``: answers are used in order, the last one repeats.
    ``require_basic``: if set to ``(user, password)``, every request without that Basic header
    gets ``401`` with a Basic challenge (as distribution's htpasswd auth does).
    ``log`` records ``(method, path, headers)`` for every request; ``spans`` the
    ``(start, end)`` monotonic times of each answer and ``max_in_flight`` the most requests
    answered at the same time (to check that look-ups really overlap).
    """

    def __init__(self, require_basic: tuple[str, str] | None = None):
        self.routes: dict[tuple[str, str], list[Reply]] = {}
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self.require_basic = require_basic
        self.spans: list[tuple[float, float]] = []
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                start = time.monotonic()
                with fake._lock:
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    self._reply()
                finally:
                    with fake._lock:
                        fake.in_flight -= 1
                        fake.spans.append((start, time.monotonic()))

            def _reply(self):
                path = urllib.parse.urlsplit(self.path).path
                with fake._lock:
                    fake.log.append((self.command, path, dict(self.headers.items())))
                    replies = fake.routes.get((self.command, path))
                    reply = (replies.pop(0) if len(replies) > 1 else replies[0]) if replies else None
                if fake.require_basic:
                    want = "Basic " + base64.b64encode(":".join(fake.require_basic).encode()).decode()
                    if self.headers.get("Authorization") != want:
                        reply = Reply(401, {"WWW-Authenticate": 'Basic realm="fake"', "Content-Type": "application/json"},
                                      b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')
                if reply is None:
                    reply = Reply(404, {"Content-Type": "application/json"},
                                  b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v.replace("{port}", str(fake.port)))
                    if reply.length:
                        self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_HEAD = do_POST = _answer

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # the default backlog of 5 stalls concurrent clients

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def add(self, method: str, path: str, *replies: Reply) -> None:
        with self._lock:
            self.routes[(method, path)] = list(replies)

    def serve_manifest(self, repo: str, tag: str, body: bytes, media_type: str, *, digest_header: str | None = "auto") -> str:
        """HEAD+GET for the tag and GET by digest, like a registry; returns sha256(body)."""
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        headers = {"Content-Type": media_type}
        if digest_header == "auto":
            headers["Docker-Content-Digest"] = digest
        elif digest_header:
            headers["Docker-Content-Digest"] = digest_header
        for ref in (tag, digest, digest_header if digest_header not in (None, "auto") else None):
            if ref:
                self.add("HEAD", f"/v2/{repo}/manifests/{ref}", Reply(200, headers, body))
                self.add("GET", f"/v2/{repo}/manifests/{ref}", Reply(200, headers, body))
        return digest

    def requests(self, method: str | None = None) -> list[tuple[str, str, dict[str, str]]]:
        with self._lock:
            return [r for r in self.log if method is None or r[0] == method]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class HangServer:
    """Accepts TCP connections and never answers (a stalled mirror or proxy).

    ``accepted`` counts connections; each is held open, unread, until :meth:`stop`.
    """

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._conns: list[socket.socket] = []
        self._stop = False
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _loop(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self._conns.append(conn)

    def stop(self) -> None:
        self._stop = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() (see ResetServer.stop)
        except OSError:
            pass
        self._thread.join(5)
        self.sock.close()
        for conn in self._conns:
            conn.close()


def closed_port() -> int:
    """A loopback port nobody listens on (connections are refused)."""
    return free_port()
