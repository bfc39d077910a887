"""Minimal stdlib client for a Docker registry (distribution v2 API), enough to seed test images.

Only what the tests need: upload blobs, upload manifests / indexes under a tag, resolve a tag the way
``docker pull`` does (HEAD with every manifest media type in Accept).
"""
from __future__ import annotations

import hashlib
import http.client
import json
import urllib.parse

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZ = "application/vnd.docker.image.rootfs.diff.tar.gzip"
# Registry 2.8 answers 404/400 for an index or list unless all four types are accepted.
ACCEPT_ALL = ", ".join([DOCKER_MANIFEST, DOCKER_LIST, OCI_INDEX, OCI_MANIFEST])

# The two families of media types: (manifest, config, layer, index).
OCI_TYPES = (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER_GZ, OCI_INDEX)
DOCKER_TYPES = (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER_GZ, DOCKER_LIST)


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


class RegistryError(RuntimeError):
    pass


class Registry:
    """A registry reachable over plain HTTP (the loopback test registry)."""

    def __init__(self, host: str, port: int, timeout: float = 120):
        self.host, self.port, self.timeout = host, int(port), timeout

    @classmethod
    def from_address(cls, address: str) -> Registry:
        host, _, port = address.rpartition(":")
        return cls(host, int(port))

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def has_blob(self, repo: str, digest: str) -> bool:
        status, _, _ = self.request("HEAD", f"/v2/{repo}/blobs/{digest}")
        return status == 200

    def push_blob(self, repo: str, data: bytes, digest: str | None = None) -> str:
        """Monolithic upload: POST to start, PUT the whole blob with ?digest=. Skips known blobs."""
        digest = digest or sha256_digest(data)
        if self.has_blob(repo, digest):
            return digest
        status, headers, body = self.request("POST", f"/v2/{repo}/blobs/uploads/")
        if status != 202:
            raise RegistryError(f"start upload {repo}: HTTP {status} {body[:200]!r}")
        location = urllib.parse.urlsplit(headers["location"])  # may be absolute or relative
        query = (location.query + "&" if location.query else "") + "digest=" + urllib.parse.quote(digest)
        status, _, body = self.request(
            "PUT", f"{location.path}?{query}", body=data,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(data))})
        if status != 201:
            raise RegistryError(f"upload {repo}@{digest}: HTTP {status} {body[:200]!r}")
        return digest

    def put_manifest(self, repo: str, ref: str, data: bytes, media_type: str) -> str:
        status, headers, body = self.request(
            "PUT", f"/v2/{repo}/manifests/{ref}", body=data, headers={"Content-Type": media_type})
        if status != 201:
            raise RegistryError(f"put manifest {repo}:{ref}: HTTP {status} {body[:300]!r}")
        digest = headers.get("docker-content-digest") or sha256_digest(data)
        if digest != sha256_digest(data):
            raise RegistryError(f"registry digest {digest} != local {sha256_digest(data)}")
        return digest

    def resolve(self, repo: str, ref: str) -> tuple[str, str]:
        """(digest, media type) of a tag, like docker/buildkit resolve it."""
        status, headers, _ = self.request("HEAD", f"/v2/{repo}/manifests/{ref}",
                                          headers={"Accept": ACCEPT_ALL})
        if status != 200:
            raise RegistryError(f"resolve {repo}:{ref}: HTTP {status}")
        return headers["docker-content-digest"], headers["content-type"]

    def ping(self) -> bool:
        try:
            status, _, _ = self.request("GET", "/v2/")
        except OSError:
            return False
        return status in (200, 401)
