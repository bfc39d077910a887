"""The ``world`` fixture (a clone, its bare ``origin`` and the fake GitHub server) is defined in
test_bot.py; shared here with the other bot tests."""

from .test_bot import world  # noqa: F401
