"""Test infrastructure for dockerfix's real-engine (e2e) tests.

* :mod:`tests.infra.oci`       - a small stdlib client for a Docker registry (push blobs, manifests,
                                 OCI indexes and Docker manifest lists; resolve tags).
* :mod:`tests.infra.baseimage` - builds offline stand-ins for the official ``node`` images from the
                                 host's node/npm/busybox and pushes them to the loopback registry.
* :mod:`tests.infra.stack`     - brings the registry + private dockerd up/down (``scripts/containers.sh``)
                                 and reads the ``env.sh`` it writes.
* :mod:`tests.infra.engine`    - a ``docker()`` runner and helpers (build, run, PID 1, uid, stop timing).
"""
