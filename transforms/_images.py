"""Base images: what a stage is ultimately built from (distribution, shell, the official node
image), and the one definition of "a Node.js image"."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import Document, Stage
from dockerfix.fixer.imageref import ImageRef, ImageRefError
from dockerfix.fixer.imageref import parse as parse_image_ref

from ._stages import expand_args
from ._variants import DEBIAN_RELEASES

#: Package managers and the distro family they give away when an earlier RUN uses them.
_PKG_HINTS = (("apk", "alpine"), ("apt-get", "debian"), ("apt", "debian"))


@dataclass(frozen=True)
class BaseImage:
    """What a stage is ultimately built from.

    ``image`` is the image reference after following stage names and expanding ARG defaults
    (None when that is impossible; ``reason`` says why).  ``is_node`` is true for the official
    Docker Hub ``node`` image (any tag or digest).  ``distro`` is ``"alpine"``, ``"debian"`` or
    None (unknown); it comes from the image name and tag, else from package managers used by
    RUN lines of the stages involved.  ``distroless`` marks images without a shell or package
    manager (``gcr.io/distroless/*``, Chainguard).  ``chain`` lists the stages, nearest first.
    """

    image: str | None
    is_node: bool
    distro: str | None
    distroless: bool
    chain: tuple[Stage, ...] = field(repr=False)
    reason: str | None = None

    @property
    def tag(self) -> str | None:
        if self.image is None:
            return None
        try:
            return parse_image_ref(self.image).tag
        except ImageRefError:
            return None


def base_image(doc: Document, stage: Stage) -> BaseImage:
    """Classify the image a stage is built from (see :class:`BaseImage`)."""
    chain = doc.stage_chain(stage)
    root = chain[-1]
    raw = root.base
    image = expand_args(doc, raw) if "$" in raw else raw
    reason = None
    ref = None
    if image is None:
        reason = f"the base image `{raw}` depends on a build argument without a default"
    elif image.lower() == "scratch":
        reason = "the stage is built FROM scratch"
    else:
        try:
            ref = parse_image_ref(image)
        except ImageRefError as e:
            reason = f"the base image `{image}` is not a valid reference ({e})"
    is_node = ref is not None and is_official_node(ref)
    distroless = ref is not None and (
        ref.repository.startswith("gcr.io/distroless/") or ref.repository.startswith("cgr.dev/chainguard/")
    )
    distro = None
    if ref is not None and not distroless:
        tag = (ref.tag or "latest").lower()
        last = ref.path.rsplit("/", 1)[-1]
        if "alpine" in tag or last == "alpine":
            distro = "alpine"
        elif last in ("debian", "ubuntu") or any(c in tag for c in DEBIAN_RELEASES):
            distro = "debian"
        elif is_node and not any(w in tag for w in ("windows", "nanoserver")):
            distro = "debian"  # node:22, node:lts, node:22-slim, node:iron are Debian images
    if distro is None and not distroless:
        for st in reversed(chain):
            for ins in st.instructions:
                if ins.keyword != "RUN":
                    continue
                words = re.findall(r"[\w.-]+", ins.logical + "".join(h.body for h in ins.heredocs))
                for tool, family in _PKG_HINTS:
                    if tool in words:
                        distro = distro or family
    return BaseImage(image=image, is_node=is_node, distro=distro, distroless=distroless, chain=tuple(chain),
                     reason=reason)



def is_official_node(ref: ImageRef) -> bool:
    """The official Docker Hub ``node`` image (any tag or digest), also through a mirror that
    keeps its path (``mirror.example/library/node``): the image with the ``node`` user,
    ``docker-entrypoint.sh``, corepack and yarn.  Not every image with Node.js in it is this one
    (see :func:`is_node_image`)."""
    return ref.path == "library/node" or ref.path.endswith("/library/node")


def is_node_image(ref: str) -> bool:
    """Does the image ship Node.js (the official image or another)?  ``node``, ``node:22``,
    ``docker.io/library/node@sha256:...``, ``cgr.dev/chainguard/node``,
    ``gcr.io/distroless/nodejs22-debian12``..."""
    name = ref.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1].split(":", 1)[0].lower()
    return last == "node" or last.startswith("nodejs")


def repin_blocker(ctx: Context, new: str | None = None) -> str | None:
    """Why a pinned ``FROM`` cannot move to another tag in this run (its digest would be lost and
    nothing would pin the new tag), or None when digest pinning (DFX002) pins it in the same run.
    ``new``: the reference to be written; when its look-up has already failed, DFX002 could not
    pin it.  (Not looked up yet: DFX002 asks for it and the run is repeated with the answer.)"""
    if ctx.offline or ctx.digests is None:
        return f"digest look-up skipped: {'--offline' if ctx.offline else 'no registry client'}"
    if not ctx.applies("DFX002"):  # --select/--ignore and the configuration's select/ignore
        return "digest pinning (DFX002) is not selected to pin the new tag"
    if new is not None:
        try:
            answer = ctx.digest(parse_image_ref(new), tuple(ctx.config.platforms))
        except ImageRefError as e:
            return f"{new}: {e}"
        if isinstance(answer, Exception):
            return f"the digest of {new} could not be looked up: {answer}"
    return None
