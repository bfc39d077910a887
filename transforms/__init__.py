"""The rewrite passes, one module each.  ``ALL`` is the single ordered registry: the pipeline runs
the transforms in this order (codes are permanent and independent of the order)."""

from __future__ import annotations

from dockerfix.fixer.transform import Transform

from .dfx001_exec_form import ExecForm
from .dfx002_pin_digest import PinDigest
from .dfx003_node_lts_tag import NodeLtsTag
from .dfx004_production_deps import ProductionDeps
from .dfx005_node_env import NodeEnv
from .dfx006_non_root import NonRoot
from .dfx007_init_process import InitProcess
from .dfx008_graceful_shutdown import GracefulShutdown
from .dfx009_secret_mounts import SecretMounts
from .dfx010_multi_stage import MultiStage
from .dfx011_dockerignore import Dockerignore
from .dfx012_slim_runtime import SlimRuntime

ALL: tuple[type[Transform], ...] = (
    NodeLtsTag,  # choose the tag first ...
    PinDigest,  # ... then pin what it points to
    SecretMounts,  # before the install rewrite: the install RUN gets its secret mount first
    MultiStage,  # split after FROM and the install are final; the passes below harden the production stage
    SlimRuntime,  # after the split, on the production stage; before init-process picks apt-get or apk
    ProductionDeps,
    NodeEnv,
    InitProcess,  # adds ENTRYPOINT/CMD in exec form itself, before exec-form looks
    ExecForm,
    NonRoot,
    GracefulShutdown,  # report-only, last: sees the final command
    Dockerignore,  # after every Dockerfile edit: sees the final COPY sources
)


def by_code() -> dict[str, type[Transform]]:
    return {t.code: t for t in ALL}
