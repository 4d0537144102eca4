"""Settings for the test suite: the app's own settings, and what only tests want."""

from consultancy.settings import *  # noqa: F403

# PBKDF2 is slow on purpose (about 0.3 s a password here); the suite makes a user for most
# tests. The hasher is not what the tests check, so they use a fast one.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
