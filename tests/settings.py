"""Settings for the test suite: the app's own settings in development mode, and what only tests
want.

Development mode (DJANGO_DEVELOPMENT, README "Run it") is read when consultancy.settings is
imported, so it is set in the environment first; processes the tests start with these settings
(the integration tests' Celery workers) inherit it.
"""

import os

os.environ["DJANGO_DEVELOPMENT"] = "true"

from consultancy.settings import *  # noqa: F403

# PBKDF2 is slow on purpose (about 0.3 s a password here); the suite makes a user for most
# tests. The hasher is not what the tests check, so they use a fast one.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The suite's clock jumps hours and days between a sign-in and the page a test asks for; the
# session idle timeout (an hour by default) is tested on its own, with its own setting
# (tests/consultancy/test_settings_production.py).
SESSION_COOKIE_AGE = 14 * 24 * 60 * 60
