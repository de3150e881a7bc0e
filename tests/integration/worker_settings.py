"""Settings for a worker started as a subprocess by the integration tests."""

from tests.settings import *  # noqa: F403

# A killed worker's task comes back after this many seconds, not an hour.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
GITLAB_SYNC_LOCK_TIMEOUT = 3
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
