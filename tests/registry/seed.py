"""Seed a real registry through its HTTP API (blob upload, manifest PUT), for the registry tests.

Adapted from the team's reference ``ocireg.py``: tiny synthetic images (a config blob naming the
platform and a fake layer), pushed as single manifests, OCI indexes and Docker manifest lists.
Handles Basic and Bearer (token server) auth for pushing with a throwaway test account.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field

import httpx

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
IN_TOTO = "application/vnd.in-toto+json"
BENCH_REFS = 50  # distinct references in the concurrency figure


def no_credentials(host: str) -> None:
    """A credentials lookup that never finds any (tests must not read a real ~/.docker)."""
    return None


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


@dataclass
class Pushed:
    """A pushed manifest: its digest, exact bytes, media type and (for an index) children."""

    digest: str
    body: bytes
    media_type: str
    platform: str | None = None
    children: dict[str, str] = field(default_factory=dict)

    def descriptor(self) -> dict:
        desc = {"mediaType": self.media_type, "digest": self.digest, "size": len(self.body)}
        if self.platform:
            os_, arch, *variant = self.platform.split("/")
            desc["platform"] = {"os": os_, "architecture": arch, **({"variant": variant[0]} if variant else {})}
        return desc


class Seeder:
    """Push synthetic images to ``base_url`` (``http://127.0.0.1:PORT``)."""

    def __init__(self, base_url: str, user: str | None = None, password: str | None = None):
        self.base = base_url.rstrip("/")
        self.creds = (user, password) if user is not None else None
        self.http = httpx.Client(timeout=30)
        self._auth_header: dict[str, str] = {}

    def close(self) -> None:
        self.http.close()

    def _req(self, method: str, url: str, **kw) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        resp = self.http.request(method, url, headers={**headers, **self._auth_header}, **kw)
        if resp.status_code != 401:
            return resp
        scheme, _, rest = resp.headers["www-authenticate"].partition(" ")
        params = dict(part.split("=", 1) for part in _split_params(rest))
        params = {k: v.strip('"') for k, v in params.items()}
        basic = None
        if self.creds:
            basic = "Basic " + base64.b64encode(f"{self.creds[0]}:{self.creds[1]}".encode()).decode()
        if scheme.lower() == "basic":
            self._auth_header = {"Authorization": basic} if basic else {}
        else:
            query = {"service": params.get("service", "")}
            if "scope" in params:
                query["scope"] = params["scope"]
            tok = self.http.get(params["realm"], params=query, headers={"Authorization": basic} if basic else {})
            tok.raise_for_status()
            data = tok.json()
            self._auth_header = {"Authorization": "Bearer " + (data.get("token") or data["access_token"])}
        return self.http.request(method, url, headers={**headers, **self._auth_header}, **kw)

    def push_blob(self, repo: str, data: bytes) -> dict:
        digest = sha256(data)
        resp = self._req("POST", f"{self.base}/v2/{repo}/blobs/uploads/")
        assert resp.status_code == 202, (resp.status_code, resp.text)
        location = httpx.URL(self.base).join(resp.headers["location"])
        resp = self._req(
            "PUT", str(location.copy_merge_params({"digest": digest})),
            content=data, headers={"Content-Type": "application/octet-stream"},
        )
        assert resp.status_code == 201, (resp.status_code, resp.text)
        return {"digest": digest, "size": len(data)}

    def put_manifest(self, repo: str, ref: str, body: bytes, media_type: str) -> str:
        resp = self._req("PUT", f"{self.base}/v2/{repo}/manifests/{ref}", content=body, headers={"Content-Type": media_type})
        assert resp.status_code == 201, (resp.status_code, resp.text)
        digest = resp.headers.get("docker-content-digest")
        assert digest == sha256(body), (digest, sha256(body))
        return digest

    def push_image(self, repo: str, platform: str, *, docker: bool = False, tag: str | None = None, salt: str = "",
                   created: str | None = None) -> Pushed:
        """One single-platform manifest (OCI, or Docker schema 2 with ``docker=True``); ``created``
        goes into its config, as a builder writes it."""
        os_, arch, *variant = platform.split("/")
        config = {"architecture": arch, "os": os_, "rootfs": {"type": "layers", "diff_ids": []}, "config": {"Env": [f"SALT={salt}"]}}
        if created is not None:
            config["created"] = created
        if variant:
            config["variant"] = variant[0]
        cfg = self.push_blob(repo, dumps(config))
        layer = self.push_blob(repo, f"fake-layer {platform} {salt}".encode())
        mt = DOCKER_MANIFEST if docker else OCI_MANIFEST
        manifest = {
            "schemaVersion": 2,
            "mediaType": mt,
            "config": {"mediaType": DOCKER_CONFIG if docker else OCI_CONFIG, **cfg},
            "layers": [{"mediaType": DOCKER_LAYER if docker else OCI_LAYER, **layer}],
        }
        body = dumps(manifest)
        digest = self.put_manifest(repo, tag or sha256(body), body, mt)
        return Pushed(digest, body, mt, platform=platform)

    def push_attestation(self, repo: str, subject: Pushed) -> dict:
        """A BuildKit-style attestation manifest entry (platform unknown/unknown)."""
        cfg = self.push_blob(repo, b"{}")
        layer = self.push_blob(repo, dumps({"_type": "https://in-toto.io/Statement/v0.1", "subject": subject.digest}))
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": {"mediaType": OCI_CONFIG, **cfg},
                    "layers": [{"mediaType": IN_TOTO, **layer}]}
        body = dumps(manifest)
        digest = self.put_manifest(repo, sha256(body), body, OCI_MANIFEST)
        return {"mediaType": OCI_MANIFEST, "digest": digest, "size": len(body),
                "platform": {"architecture": "unknown", "os": "unknown"},
                "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                                "vnd.docker.reference.digest": subject.digest}}

    def push_index(self, repo: str, tag: str, images: list[Pushed], *, docker: bool = False, extra: list[dict] = ()) -> Pushed:
        mt = DOCKER_LIST if docker else OCI_INDEX
        index = {"schemaVersion": 2, "mediaType": mt, "manifests": [i.descriptor() for i in images] + list(extra)}
        body = dumps(index)
        digest = self.put_manifest(repo, tag, body, mt)
        return Pushed(digest, body, mt, children={i.platform: i.digest for i in images})


def _split_params(text: str) -> list[str]:
    out, cur, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def seed_standard(seeder: Seeder, repo: str = "library/node") -> dict[str, Pushed]:
    """The standard set, by tag:

    ``22-alpine``   OCI index: linux/amd64 + linux/arm64 + an attestation (unknown/unknown)
    ``legacy``      Docker manifest list: linux/amd64 + linux/arm64/v8 (Docker manifests)
    ``single``      one OCI manifest, linux/amd64
    ``amd64-only``  OCI index with linux/amd64 only (arm64 missing)
    """
    out: dict[str, Pushed] = {}
    amd, arm = seeder.push_image(repo, "linux/amd64"), seeder.push_image(repo, "linux/arm64")
    out["22-alpine"] = seeder.push_index(repo, "22-alpine", [amd, arm], extra=[seeder.push_attestation(repo, amd)])
    d_amd = seeder.push_image(repo, "linux/amd64", docker=True)
    d_arm = seeder.push_image(repo, "linux/arm64/v8", docker=True)
    out["legacy"] = seeder.push_index(repo, "legacy", [d_amd, d_arm], docker=True)
    out["single"] = seeder.push_image(repo, "linux/amd64", tag="single", salt="single")
    out["amd64-only"] = seeder.push_index(repo, "amd64-only", [seeder.push_image(repo, "linux/amd64", salt="solo")])
    return out
