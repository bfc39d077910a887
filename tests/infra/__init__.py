"""Test infrastructure for dockerfix's real-engine (e2e) tests.

* :mod:`tests.infra.oci`       - a small stdlib client for a Docker registry (push blobs, manifests,
                                 OCI indexes and Docker manifest lists; resolve tags).
* :mod:`tests.infra.baseimage` - builds test images that mirror the official ``node`` images (real
                                 Debian root filesystems + official Node builds; synthetic Alpine) and
                                 pushes them to the loopback registry.
* ``tests/infra/registry/``    - the private package the stack's verdaccio serves behind a token.
* :mod:`tests.infra.stack`     - brings the registry + private dockerd up/down (``scripts/containers.sh``)
                                 and reads the ``env.sh`` it writes.
* :mod:`tests.infra.engine`    - a ``docker()`` runner and helpers (build, run, HTTP, remove); what a
                                 running image is measured for is ``dockerfix verify``'s code.
"""
