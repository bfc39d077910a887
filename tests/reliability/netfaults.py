"""Fault-injecting registries for the CLI-level network tests (on top of tests/registry/servers.py)."""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import threading

from registry.servers import FakeRegistry, Reply

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def index_body(n: int | str) -> bytes:
    """A distinct two-platform OCI index per ``n``."""
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "annotations": {"n": str(n)}, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "a" * 64, "size": 1,
         "platform": {"os": "linux", "architecture": "amd64"}},
        {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "b" * 64, "size": 1,
         "platform": {"os": "linux", "architecture": "arm64"}},
    ]}).encode()


def sha(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


class ResetServer:
    """Accepts connections and resets them at once (RST, SO_LINGER 0): a connection reset."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = False
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _loop(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            try:
                conn.recv(1024)
            except OSError:
                pass
            conn.close()

    def stop(self) -> None:
        # shutdown() wakes the thread blocked in accept(); a bare close() does not, and the thread
        # would then accept (and reset) connections of the next server that reuses the fd number
        self._stop = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._thread.join(5)
        self.sock.close()


__all__ = ["FakeRegistry", "Reply", "ResetServer", "index_body", "sha", "OCI_INDEX"]
