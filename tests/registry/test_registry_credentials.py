"""Credential lookup: env for CI, config.json auths, credHelpers/credsStore helper protocol."""

import base64
import json
import os
import stat
import sys

import pytest
from dockerfix.fixer.credentials import (
    CredentialError,
    Credentials,
    CredentialStore,
    canonical_host,
    parse_auth_env,
)

SECRET = "s3cr3t-" + os.urandom(6).hex()


def store(tmp_path, config=None, env=None):
    path = tmp_path / "config.json"
    if config is not None:
        path.write_text(json.dumps(config))
    return CredentialStore(env=env or {}, config_path=path)


def test_env_variable(tmp_path):
    s = store(tmp_path, env={"DOCKERFIX_REGISTRY_AUTH": f"ghcr.io=bot:{SECRET}, 127.0.0.1:5000=u:p:with=colon\nindex.docker.io=hub:x"})
    assert s.get("ghcr.io").secret == SECRET
    assert s.get("127.0.0.1:5000").secret == "p:with=colon"
    assert s.get("registry-1.docker.io").username == "hub"  # Docker Hub aliases fold
    assert s.get("quay.io") is None


def test_env_variable_malformed_error_hides_secret():
    with pytest.raises(CredentialError) as err:
        parse_auth_env(f"ghcr.io=bot:{SECRET},broken{SECRET}")
    assert "entry 2" in str(err.value) and SECRET not in str(err.value)


def test_repr_never_shows_secret():
    c = Credentials("me", SECRET, "test", registry_token=SECRET + "tok")
    for text in (repr(c), str(c), f"{c}", repr([c]), repr({"c": c})):
        assert SECRET not in text and "***" in text


def test_auths_base64_and_key_normalisation(tmp_path):
    auth = base64.b64encode(f"alice:{SECRET}".encode()).decode()
    s = store(tmp_path, {"auths": {"https://index.docker.io/v1/": {"auth": auth},
                                   "https://ghcr.io/v2/": {"username": "bob", "password": "pw"},
                                   "quay.io": {"identitytoken": "refresh-tok"}}})
    hub = s.get("docker.io")
    assert (hub.username, hub.secret) == ("alice", SECRET)
    assert s.get("ghcr.io").username == "bob"
    assert s.get("quay.io").is_identity_token
    assert s.get("example.com") is None


def test_bad_auth_field(tmp_path):
    s = store(tmp_path, {"auths": {"ghcr.io": {"auth": "!!!notbase64"}}})
    with pytest.raises(CredentialError) as err:
        s.get("ghcr.io")
    assert "not base64" in str(err.value)


def test_docker_config_env(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"ghcr.io": {"username": "u", "password": "p"}}}))
    s = CredentialStore(env={"DOCKER_CONFIG": str(tmp_path)})
    assert s.config_path == tmp_path / "config.json"
    assert s.get("ghcr.io").username == "u"


def test_missing_config_is_anonymous_and_a_corrupt_one_is_an_error(tmp_path):
    assert store(tmp_path).get("ghcr.io") is None
    (tmp_path / "config.json").write_text("")
    assert CredentialStore(env={}, config_path=tmp_path / "config.json").get("ghcr.io") is None
    for body, message in [
        ('{"auths": {"ghcr.io": {"auth": "s3cr3t-', "is not valid JSON (line 1, column 32)"),
        ("[]", "must hold a JSON object"),
        ('{"auths": []}', "'auths' must be an object"),
        ('{"auths": {"quay.io": "x"}}', "auths['quay.io'] must be an object"),
        ('{"credHelpers": {"ghcr.io": 3}}', "credHelpers['ghcr.io'] must name a helper"),
        ('{"credsStore": ["desktop"]}', "'credsStore' must be a string"),
        ('{"auths": {"quay.io": {"auth": "!!s3cr3t"}}}', "'auth' is not base64"),
    ]:
        (tmp_path / "config.json").write_text(body)
        s = CredentialStore(env={}, config_path=tmp_path / "config.json")
        with pytest.raises(CredentialError) as err:
            s.check()
        assert message in str(err.value) and "s3cr3t" not in str(err.value)
        with pytest.raises(CredentialError):  # the lazy path says the same, never "anonymous"
            s.get("ghcr.io")
    (tmp_path / "config.json").write_bytes(b"\xff\xfe")
    with pytest.raises(CredentialError, match="not UTF-8"):
        CredentialStore(env={}, config_path=tmp_path / "config.json").check()
    with pytest.raises(CredentialError, match="entry 1 is malformed"):
        CredentialStore(env={"DOCKERFIX_REGISTRY_AUTH": "ghcr.io"}, config_path=tmp_path / "none.json").check()


def write_helper(bindir, name, script):
    bindir.mkdir(exist_ok=True)
    path = bindir / f"docker-credential-{name}"
    path.write_text(f"#!{sys.executable}\n{script}")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


HELPER = """
import json, sys
server = sys.stdin.read()
open(sys.argv[0] + ".log", "a").write(sys.argv[1] + " " + server + "\\n")
known = {KNOWN}
if server not in known:
    print("credentials not found in native keychain"); sys.exit(1)
print(json.dumps({"ServerURL": server, "Username": known[server][0], "Secret": known[server][1]}))
"""


def test_cred_helpers_and_store(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    write_helper(bindir, "per", HELPER.replace("{KNOWN}", repr({"ghcr.io": ("gh", SECRET)})))
    write_helper(bindir, "global", HELPER.replace("{KNOWN}", repr({"https://index.docker.io/v1/": ("hub", "hubpw")})))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    s = store(tmp_path, {"credHelpers": {"ghcr.io": "per"}, "credsStore": "global",
                         "auths": {"quay.io": {"username": "q", "password": "qp"}}})
    gh = s.get("ghcr.io")
    assert (gh.username, gh.secret) == ("gh", SECRET) and "docker-credential-per" in gh.source
    hub = s.get("docker.io")
    assert hub.username == "hub"
    # credsStore does not know quay.io -> falls back to auths
    assert s.get("quay.io").username == "q"
    s.get("ghcr.io")  # cached: helper not run twice
    log = (bindir / "docker-credential-per.log").read_text().splitlines()
    assert log == ["get ghcr.io"]
    assert "get https://index.docker.io/v1/" in (bindir / "docker-credential-global.log").read_text()


def test_helper_failure_message_hides_output(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    write_helper(bindir, "broken", f"import sys\nprint('{SECRET}')\nsys.exit(3)\n")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    s = store(tmp_path, {"credHelpers": {"ghcr.io": "broken"}})
    with pytest.raises(CredentialError) as err:
        s.get("ghcr.io")
    assert "exit status 3" in str(err.value) and SECRET not in str(err.value)


def test_helper_not_installed(tmp_path, caplog):
    s = store(tmp_path, {"credHelpers": {"ghcr.io": "nonexistent-helper-xyz"}})
    assert s.get("ghcr.io") is None
    assert "not installed" in caplog.text


def test_canonical_host():
    assert canonical_host("https://index.docker.io/v1/") == "docker.io"
    assert canonical_host("registry-1.docker.io") == "docker.io"
    assert canonical_host("http://LOCALHOST:5000/path") == "localhost:5000"
