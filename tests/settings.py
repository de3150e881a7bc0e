"""Settings for the test suite: the real settings, with the environment a test run needs."""

import os

os.environ.setdefault("SECRET_KEY", "stagegate-tests")
os.environ.setdefault("SECURE_HTTPS", "0")

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
