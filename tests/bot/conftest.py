"""The ``world`` fixture (a clone, its bare ``origin`` and the fake GitHub server) is defined in
test_bot.py; shared here with the other bot tests.  ``verify_stack``/``verify_env`` (the real
dockerd of the e2e stack) come from tests/verify for ``dockerfix pr --verify``."""

from tests.verify.conftest import verify_env, verify_stack  # noqa: F401

from .test_bot import world  # noqa: F401
