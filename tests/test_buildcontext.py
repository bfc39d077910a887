"""Build-context discovery from repository evidence (issue 12, class 10)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockerfix.fixer.buildcontext import build_commands, build_sites, choose_context, repository_root


def make(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (root / ".git").mkdir(exist_ok=True)
    return root.resolve()


def test_compose_build_mapping_names_the_root(tmp_path: Path) -> None:
    root = make(tmp_path, {
        "docker/Dockerfile": "FROM node:22\n",
        "compose.yaml": "services:\n  api:\n    # built from the top\n    build:\n      context: .\n"
                        "      dockerfile: docker/Dockerfile\n",
    })
    choice = choose_context(root / "docker/Dockerfile", root)
    assert choice.directory == root
    assert choice.evidence == "compose.yaml:4 (compose service api)"


def test_compose_short_form_and_default_dockerfile(tmp_path: Path) -> None:
    root = make(tmp_path, {"api/Dockerfile": "FROM node:22\n", "docker-compose.yml": "services:\n  api:\n    build: ./api\n"})
    assert choose_context(root / "api/Dockerfile", root).directory == root / "api"


def test_compose_context_outside_the_repository_is_ignored(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    root = make(repo, {"Dockerfile": "FROM node:22\n", "compose.yaml": "services:\n  a:\n    build:\n      context: ../..\n"})
    (tmp_path / "Dockerfile").write_text("FROM node:22\n")
    sites = list(build_sites(root))
    assert sites and sites[0].context is None and "outside" in sites[0].note
    assert choose_context(root / "Dockerfile", root).directory == root


def test_compose_context_through_a_symlink_out_is_ignored(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "Dockerfile").write_text("FROM node:22\n")
    root = make(tmp_path / "repo", {"compose.yaml": "services:\n  a:\n    build: ./link\n"})
    os.symlink(outside, root / "link")
    assert [s.context for s in build_sites(root)] == [None]


def test_workflow_build_push_action(tmp_path: Path) -> None:
    root = make(tmp_path, {
        "packages/api/Dockerfile": "FROM node:22\n",
        ".github/workflows/ci.yml": (
            "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - uses: actions/checkout@v4\n"
            "      - uses: docker/build-push-action@v6\n        with:\n          context: .\n"
            "          file: packages/api/Dockerfile\n"
        ),
    })
    choice = choose_context(root / "packages/api/Dockerfile", root)
    assert choice.directory == root
    assert choice.evidence.startswith(".github/workflows/ci.yml:7 (workflow-action)")


def test_workflow_expression_is_not_guessed(tmp_path: Path) -> None:
    root = make(tmp_path, {
        "Dockerfile": "FROM node:22\n",
        ".github/workflows/ci.yml": (
            "jobs:\n  b:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n"
            "          context: ${{ matrix.dir }}\n"
        ),
    })
    site = next(build_sites(root))
    assert site.context is None and site.note


def test_workflow_run_step_with_working_directory(tmp_path: Path) -> None:
    root = make(tmp_path, {
        "svc/docker/Dockerfile": "FROM node:22\n",
        ".github/workflows/ci.yml": (
            "jobs:\n  b:\n    steps:\n      - working-directory: svc\n        run: |\n"
            "          echo hi\n          docker build \\\n            -f docker/Dockerfile -t x .\n"
        ),
    })
    choice = choose_context(root / "svc/docker/Dockerfile", root)
    assert choice.directory == root / "svc"
    assert choice.evidence == ".github/workflows/ci.yml:7 (workflow-run)"


def test_makefile_and_package_script(tmp_path: Path) -> None:
    root = make(tmp_path, {
        "docker/app.Dockerfile": "FROM node:22\n",
        "Makefile": "image:\n\tdocker buildx build -f docker/app.Dockerfile --build-arg NPM_TOKEN=$(NPM_TOKEN) .\n",
    })
    choice = choose_context(root / "docker/app.Dockerfile", root)
    assert (choice.directory, choice.evidence) == (root, "Makefile:2 (makefile)")
    root2 = make(tmp_path / "two", {
        "docker/Dockerfile": "FROM node:22\n",
        "package.json": '{\n  "scripts": {\n    "docker": "docker build -f docker/Dockerfile ."\n  }\n}\n',
    })
    assert choose_context(root2 / "docker/Dockerfile", root2).evidence == "package.json:3 (package-script)"


def test_copy_sources_pick_the_nearest_folder_that_has_them(tmp_path: Path) -> None:
    root = make(tmp_path, {"docker/Dockerfile": "FROM node:22\n", "package.json": "{}", "src/index.js": ""})
    choice = choose_context(root / "docker/Dockerfile", root, copy_sources=["package.json", "src"])
    assert choice.directory == root and "COPY sources" in choice.evidence
    # beside the Dockerfile they exist: its folder stays the context
    make(root, {"docker/package.json": "{}", "docker/src/x": ""})
    assert choose_context(root / "docker/Dockerfile", root, copy_sources=["package.json", "src"]).directory == root / "docker"


def test_no_evidence_keeps_the_dockerfile_folder(tmp_path: Path) -> None:
    root = make(tmp_path, {"a/Dockerfile": "FROM node:22\n"})
    choice = choose_context(root / "a/Dockerfile", root, copy_sources=["missing.json"])
    assert choice.directory == root / "a" and "no compose file" in choice.evidence


def test_repository_root(tmp_path: Path) -> None:
    root = make(tmp_path, {"x/y/Dockerfile": "FROM node\n"})
    assert repository_root(root / "x/y") == root
    plain = tmp_path / "plain"
    (plain / "sub").mkdir(parents=True)
    # no .git above: the folder dockerfix was asked to look in bounds it (tmp_path has .git: use a fresh tree)
    assert repository_root(plain / "sub", limit=plain) in (plain.resolve(), root)


@pytest.mark.parametrize("text, file, ctx, args", [
    ("docker build .", None, ".", ()),
    ("sudo DOCKER_BUILDKIT=1 docker build -t a:b --file=d/Dockerfile ctx", "d/Dockerfile", "ctx", ()),
    ("docker buildx build --build-arg NPM_TOKEN=$NPM_TOKEN --build-arg X -f F . && echo ok", "F", ".",
     (("NPM_TOKEN", "$NPM_TOKEN"), ("X", None))),
    ("podman build -f Containerfile .", "Containerfile", ".", ()),
    ("echo docker build .", None, None, None),
    ("docker run node", None, None, None),
])
def test_build_commands(text: str, file: str | None, ctx: str | None, args: tuple | None) -> None:
    found = build_commands(text)
    if args is None:
        assert found == []
        return
    (bc,) = found
    assert (bc.file, bc.context, bc.build_args) == (file, ctx, args)


def test_unparseable_or_binary_evidence_is_ignored(tmp_path: Path) -> None:
    root = make(tmp_path, {"Dockerfile": "FROM node\n", "compose.yaml": "services: [unclosed\n",
                           ".github/workflows/a.yml": "jobs: 3\n"})
    (root / "Makefile").write_bytes(b"\xff\xfe\x00docker build .")
    assert list(build_sites(root)) == []
