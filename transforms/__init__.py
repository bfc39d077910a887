"""The rewrite passes, one module each.  ``ALL`` is the single ordered registry: the pipeline runs
the transforms in this order, which is derived from what each transform says must run before it
(its ``after``), not written by hand."""

from __future__ import annotations

from dockerfix.fixer.transform import Transform, run_order

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

#: Every transform, by code (this order means nothing; codes are permanent).  A new transform is
#: one more name here.
REGISTERED: tuple[type[Transform], ...] = (
    ExecForm, PinDigest, NodeLtsTag, ProductionDeps, NodeEnv, NonRoot, InitProcess, GracefulShutdown,
    SecretMounts, MultiStage, Dockerignore, SlimRuntime,
)
#: The order the pipeline runs them in: a topological sort of each one's ``after``, ties by code.
ALL: tuple[type[Transform], ...] = run_order(REGISTERED)


def by_code() -> dict[str, type[Transform]]:
    return {t.code: t for t in ALL}
