"""The stack's ``node`` test images carry what the official images carry (tests/infra/baseimage.py).

Checked by running each image: the Node major of its tag, the Debian release of its tag, the ``node``
user (uid/gid 1000, home /home/node), ``docker-entrypoint.sh`` as the entrypoint, yarn v1 and corepack
only up to Node 24, npm, a real ``apt-get`` on Debian tags (empty package lists until ``apt-get
update``, like the official images), and the full variant's build tools.
"""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.engine

PROBE = r"""
echo "node=$(node -p 'process.versions.node')"
echo "npm=$(npm -v 2>/dev/null || echo none)"
echo "yarn=$(yarn -v 2>/dev/null || echo none)"
echo "corepack=$(corepack --version 2>/dev/null || echo none)"
echo "id=$(id -u node):$(id -g node)"
echo "home=$(grep '^node:' /etc/passwd | cut -d: -f6)"
echo "home_owner=$(stat -c %u /home/node)"
echo "release=$(. /etc/os-release; echo ${VERSION_CODENAME:-$ID})"
echo "entrypoint=$(command -v docker-entrypoint.sh || echo none)"
echo "apt_lists=$(ls /var/lib/apt/lists 2>/dev/null | grep -c _Packages || true)"
echo "gcc=$(command -v gcc || echo none)"
echo "python3=$(command -v python3 || echo none)"
"""

CASES = [
    # tag, major, release, full variant
    ("20-bookworm-slim", "20", "bookworm", False),
    ("20", "20", "bookworm", True),
    ("22-trixie-slim", "22", "trixie", False),
    ("22", "22", "trixie", True),
    ("22-bookworm", "22", "bookworm", True),
    ("24-slim", "24", "trixie", False),
    ("26-bookworm-slim", "26", "bookworm", False),
    ("lts", "26", "trixie", True),
    ("22-alpine", "22", "alpine", False),
    ("26-alpine", "26", "alpine", False),
]


def probe(engine, tag: str) -> dict[str, str]:
    out = engine.docker("run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", f"node:{tag}",
                        "-c", PROBE).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


@pytest.mark.parametrize("tag,major,release,full", CASES, ids=[c[0] for c in CASES])
def test_image_mirrors_the_official_one(engine, tag, major, release, full):
    facts = probe(engine, tag)
    assert facts["node"].split(".")[0] == major, facts
    assert facts["npm"] != "none", facts
    assert facts["release"] == release, facts
    assert facts["id"] == "1000:1000" and facts["home"] == "/home/node" and facts["home_owner"] == "1000", facts
    assert facts["entrypoint"] == "/usr/local/bin/docker-entrypoint.sh", facts
    # nodejs/docker-node: no yarn v1 from Node 26; Node: no corepack from 25
    if int(major) <= 24:
        assert facts["yarn"].startswith("1."), facts
        assert facts["corepack"] != "none", facts
    else:
        assert facts["yarn"] == "none" and facts["corepack"] == "none", facts
    if release != "alpine":
        assert facts["apt_lists"] == "0", "package lists must be empty until `apt-get update`"
        assert (facts["gcc"] != "none") == full and (facts["python3"] != "none") == full, facts
    config = engine.image_config(f"node:{tag}")
    assert config["Entrypoint"] == ["docker-entrypoint.sh"] and config["Cmd"] == ["node"]
    assert f"NODE_VERSION={facts['node']}" in config["Env"]


def test_apt_get_installs_for_real(engine, tmp_path):
    """A Debian tag runs the real apt-get against Debian's archive (build with host networking)."""
    (tmp_path / "Dockerfile").write_text(
        "FROM node:24-trixie-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends dumb-init gosu"
        " && rm -rf /var/lib/apt/lists/*\n"
        "RUN dumb-init --version && gosu --version && ! ls /var/cache/apt/*.bin 2>/dev/null\n")
    engine.build(tmp_path, "dfx-e2e/apt-probe:latest")
    out = engine.docker("run", "--rm", "--network", "none", "--entrypoint", "/usr/bin/dpkg-query",
                        "dfx-e2e/apt-probe:latest", "-W", "dumb-init", "gosu").stdout
    assert "dumb-init" in out and "gosu" in out
