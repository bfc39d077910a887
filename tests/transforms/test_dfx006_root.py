"""DFX006: root the app needs (class 7) and folders it writes (class 8), beyond the fixtures."""

from __future__ import annotations

from dockerfix.fixer.config import Config
from dockerfix.fixer.context import Context, PackageJson
from dockerfix.fixer.document import parse
from dockerfix.fixer.edits import Fix, Skip, apply_edits
from dockerfix.fixer.facts import ContextFiles
from dockerfix.transforms.dfx006_non_root import NonRoot


def run(text: str, files: dict[str, str] | None = None) -> tuple[str, list[Fix], list[Skip]]:
    doc = parse(text)
    out = list(NonRoot().fix(doc, Context(config=Config(user="node"), package=PackageJson({"name": "app"}),
                                          files=ContextFiles.of(files or {}))))
    fixes = [f for f in out if isinstance(f, Fix)]
    return apply_edits(text, [e for f in fixes for e in f.edits]), fixes, [s for s in out if isinstance(s, Skip)]


APP = "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"


def test_privileged_port_from_every_source_is_one_skip_and_no_fix():
    for extra, where in [
        ("EXPOSE 443/tcp 8080\n", "EXPOSE 443/tcp"),
        ("ARG HTTP=80\nEXPOSE ${HTTP}\n", "EXPOSE ${HTTP}"),
        ("ENV HTTP_PORT=81\n", "ENV HTTP_PORT=81"),
        ('CMD ["node", "server.js", "--port=80"]\n', "--port=80"),
        ('CMD ["sh", "-c", "PORT=80 exec node server.js"]\n', "PORT=80"),
    ]:
        _, fixes, skips = run(APP + extra + ('CMD ["node", "a.js"]\n' if "CMD" not in extra else ""))
        assert not fixes, extra
        assert len(skips) == 1 and where in skips[0].reason and "CAP_NET_BIND_SERVICE" in skips[0].reason


def test_port_in_the_npm_script_the_cmd_runs():
    doc = parse(APP + 'CMD ["npm", "run", "start:prod"]\n')
    ctx = Context(package=PackageJson({"scripts": {"start:prod": "PORT=80 node dist/main.js"}}))
    out = list(NonRoot().fix(doc, ctx))
    assert [type(o) for o in out] == [Skip] and "scripts.start:prod" in out[0].reason


def test_high_ports_keep_the_fix():
    out, fixes, skips = run(APP + "ENV PORT=3000\nEXPOSE 3000\nCMD [\"node\", \"a.js\"]\n")
    assert fixes and not skips and "USER node" in out


def test_step_down_in_the_entrypoint_script_or_the_command():
    script = {"docker/entrypoint.sh": "#!/bin/sh\n# gosu is not used here\nexec setpriv --reuid=node --regid=node "
                                      "--init-groups \"$@\"\n"}
    text = APP + 'COPY docker/entrypoint.sh /usr/local/bin/\nENTRYPOINT ["entrypoint.sh"]\nCMD ["node", "a.js"]\n'
    _, fixes, skips = run(text, script)
    assert not fixes and "`setpriv` in the entrypoint script docker/entrypoint.sh" in skips[0].reason
    _, fixes, skips = run(APP + 'CMD runuser -u node -- node a.js\n')
    assert not fixes and "`runuser`" in skips[0].reason
    _, fixes, skips = run(APP + 'CMD ["s6-setuidgid", "node", "node", "a.js"]\n')
    assert not fixes and "`s6-setuidgid`" in skips[0].reason


def test_a_comment_naming_gosu_is_not_a_step_down():
    script = {"start.sh": "#!/bin/sh\n# we used to exec gosu node here\nexec node server.js\n"}
    out, fixes, _ = run(APP + 'ENTRYPOINT ["./start.sh"]\n', script)
    assert fixes and "USER node" in out


def test_the_node_images_own_entrypoint_is_not_a_missing_script():
    out, fixes, _ = run(APP + 'ENTRYPOINT ["docker-entrypoint.sh"]\nCMD ["node", "a.js"]\n')
    assert fixes and "USER node" in out


def test_workdir_under_root():
    _, fixes, skips = run('FROM node:22\nWORKDIR /root\nCOPY . .\nCMD ["node", "/root/a.js"]\n')
    assert not fixes and "mode 0700" in skips[0].reason


def test_mkdir_dirs_join_the_workdir_chown_after_their_run():
    out, fixes, _ = run("FROM node:22\nWORKDIR /app\nRUN apt-get update && mkdir -p uploads /var/log/app /tmp/x\n"
                        "COPY . .\nRUN npm ci\nCMD [\"node\", \"a.js\"]\n")
    # the chown joins the RUN that made them (a second RUN next to it would be hadolint DL3059)
    assert "RUN apt-get update && mkdir -p uploads /var/log/app /tmp/x && chown node:node /app /app/uploads " \
           "/var/log/app\n" in out
    assert "chown -R" not in out
    assert "/var/log/app" in fixes[0].message


def test_volume_declared_before_the_chown_gets_a_note_not_a_chown():
    out, fixes, _ = run("FROM node:22\nVOLUME /data\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"a.js\"]\n")
    assert "RUN chown node:node /app\n" in out
    assert any("VOLUME /data" in n for n in fixes[0].notes)


def test_mkdir_after_user_runs_as_node_and_needs_nothing():
    out, _, _ = run("FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci && mkdir -p logs\nCMD [\"node\", \"a.js\"]\n")
    assert "RUN chown node:node /app\n" in out and "/app/logs" not in out


def test_folders_every_image_has_are_not_handed_out():
    out, _, _ = run("FROM node:22\nWORKDIR /opt/\nRUN mkdir -p /var/log\nWORKDIR /opt/app\nCOPY . .\nRUN npm ci\n"
                    "CMD [\"node\", \"a.js\"]\n")
    assert "RUN chown node:node /opt/app\n" in out and "/var/log &&" not in out and "chown node:node /opt/app /opt" not in out
