"""Stagegate settings: one module, every deployment difference comes from the environment."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp import constants as csp_constants
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "stagegate-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_filters",
    "template_partials",
    "csp",
    "axes",
    "proposals",
    "reviews",
    "gitlab_sync",
    "dashboard",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.gitlab",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "accounts",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Marks changes made through the API or the admin as such in the proposal's history.
    "proposals.history.HistoryOriginMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.csp_nonce",
                "proposals.context_processors.proposal_rights",
                "reviews.context_processors.unread_notifications",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves the web, the worker and beat at once: readers must not block the writer
    # (WAL), a write takes its lock when its transaction starts rather than failing half-way (IMMEDIATE),
    # and a writer waits its turn instead of raising "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FORMS_URLFIELD_ASSUME_HTTPS = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username/address pair before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "proposals:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# Security headers; the cookie flags follow HTTPS, which production always has.
SECURE_HTTPS = env_bool("SECURE_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_HTTPS else None
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts only from Stagegate itself and with the per-response nonce
# that {% htmx_script %} puts on its tags; no inline script or style, nothing from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_constants.SELF],
        "script-src": [csp_constants.SELF, csp_constants.NONCE],
        "style-src": [csp_constants.SELF],
        "img-src": [csp_constants.SELF, "data:"],
        "connect-src": [csp_constants.SELF],
        "object-src": [csp_constants.NONE],
        "base-uri": [csp_constants.NONE],
        "form-action": [csp_constants.SELF],
        "frame-ancestors": [csp_constants.NONE],
    },
}

# Login throttling (django-axes): this many failed logins for one username from one address lock that pair
# out for the cool-off; a locked-out login gets 429 whatever the password.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Behind a reverse proxy, set TRUSTED_PROXY_COUNT to the number of proxies of ours in front of Stagegate
# (1 for one nginx or load balancer): the lockout then keys on the address the outermost proxy saw, taken
# from X-Forwarded-For; anything a client writes further left is ignored. 0 (the default) trusts no header
# and keys on the connecting address. See README, "Deploying behind a proxy".
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# With late acks, a task cut off by a lost broker connection is redelivered; stop running the old copy.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {
    "gitlab-sync-sweep": {"task": "gitlab_sync.tasks.sweep", "schedule": 60.0},
    "gitlab-sync-reconcile": {"task": "gitlab_sync.tasks.reconcile", "schedule": 300.0},
    # Comments deleted on GitLab touch nothing the reconcile lists by: a count of every issue's notes, hourly.
    "gitlab-sync-recount-comments": {"task": "gitlab_sync.tasks.recount_comments", "schedule": 3600.0},
    "reviews-send-pending-notifications": {"task": "reviews.tasks.send_pending_notifications", "schedule": 300.0},
    # Expired waivers, the reviewers' digest and escalation: once a day, safe to run twice.
    "reviews-daily": {"task": "reviews.tasks.daily_reviews", "schedule": 86400.0},
}

# GitLab: the sync stays off until a URL and a token are both set.
GITLAB_URL = os.environ.get("GITLAB_URL", "").rstrip("/")
GITLAB_TOKEN = os.environ.get("GITLAB_TOKEN", "")
GITLAB_PROJECT = os.environ.get("GITLAB_PROJECT", "")
GITLAB_WEBHOOK_SECRET = os.environ.get("GITLAB_WEBHOOK_SECRET", "")
GITLAB_SYNC_ENABLED = bool(GITLAB_URL and GITLAB_TOKEN and GITLAB_PROJECT)
GITLAB_TIMEOUT = float(os.environ.get("GITLAB_TIMEOUT", "10"))
# A burst of autosaves pushes at once, then at most once per this many seconds.
GITLAB_PUSH_MIN_INTERVAL = float(os.environ.get("GITLAB_PUSH_MIN_INTERVAL", "10"))
GITLAB_RETRY_BASE = float(os.environ.get("GITLAB_RETRY_BASE", "5"))
# A push enqueued this long ago that never ran is presumed lost; the sweep enqueues it again.
GITLAB_ENQUEUE_STALE_AFTER = float(os.environ.get("GITLAB_ENQUEUE_STALE_AFTER", "120"))
# GitLab's internal notes stay on the IssueComment rows (flagged internal), off the timeline, unless this is on;
# then the timeline shows them only to those proposals/access.py's may_see_internal_notes allows.
GITLAB_INTERNAL_NOTES_ON_TIMELINE = os.environ.get("GITLAB_INTERNAL_NOTES_ON_TIMELINE", "") == "1"
# Issues per page when reconcile walks the project (GitLab's maximum is 100).
GITLAB_RECONCILE_PAGE_SIZE = int(os.environ.get("GITLAB_RECONCILE_PAGE_SIZE", "100"))
# GitLab never sends more than 25 MB (WebHookService::REQUEST_BODY_SIZE_LIMIT); an Issue Hook carries the
# description (up to 1,048,576 characters) three times with <, >, & escaped to six bytes each.
GITLAB_WEBHOOK_MAX_BYTES = int(os.environ.get("GITLAB_WEBHOOK_MAX_BYTES", str(25 * 1024 * 1024)))

# Sign in with GitLab (django-allauth): on when GITLAB_URL and the OAuth application's id and secret are set.
# Local accounts stay for admins and development; nobody signs up with a password.
GITLAB_OAUTH_CLIENT_ID = os.environ.get("GITLAB_OAUTH_CLIENT_ID", "")
GITLAB_OAUTH_SECRET = os.environ.get("GITLAB_OAUTH_SECRET", "")
GITLAB_SIGN_IN_ENABLED = bool(GITLAB_URL and GITLAB_OAUTH_CLIENT_ID and GITLAB_OAUTH_SECRET)
GITLAB_SIGN_IN_GROUPS = env_list("GITLAB_SIGN_IN_GROUPS", "author")
# Who may sign in with GitLab: members of any of these GitLab groups or projects ("group:ai-wg",
# "project:ai/stagegate"). Empty: anyone with an account on the GitLab instance. Needs the read_api scope.
GITLAB_SIGN_IN_MEMBERS_OF = env_list("GITLAB_SIGN_IN_MEMBERS_OF", "")
SOCIALACCOUNT_PROVIDERS = {
    "gitlab": {
        "GITLAB_URL": GITLAB_URL or "https://gitlab.com",
        "SCOPE": ["read_user", "read_api"] if GITLAB_SIGN_IN_MEMBERS_OF else ["read_user"],
        "APPS": [{"client_id": GITLAB_OAUTH_CLIENT_ID, "secret": GITLAB_OAUTH_SECRET}]
        if GITLAB_SIGN_IN_ENABLED
        else [],
    }
}
if GITLAB_SIGN_IN_ENABLED:
    # The GitLab button posts to Stagegate, which redirects to GitLab; browsers hold that redirect to form-action.
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(GITLAB_URL)
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapter.SocialAccountAdapter"
ACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # never attach a GitLab login to a local account by e-mail alone
# A local account and a GitLab one may share an address (often the same person); they stay separate accounts.
ACCOUNT_UNIQUE_EMAIL = False
SOCIALACCOUNT_STORE_TOKENS = False

# The JSON API at /api/: token or session auth, the pages' permission rules, OpenAPI at /api/schema/.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Stagegate API",
    "DESCRIPTION": "AI project proposals, their Operational Requirements Reviews and the working group's figures.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The OpenAPI document describes every operation: only signed-in users (token or session) read it.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # A timeline entry's kind beside a decision's kind: each its own named enum.
    "ENUM_NAME_OVERRIDES": {
        "ActivityKindEnum": "proposals.models.Activity.Kind",
        "KindEnum": "reviews.models.Decision.Kind",
    },
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "stagegate@localhost")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# The dashboard calls a proposal or review stale after this many days without activity.
STALE_AFTER_DAYS = int(os.environ.get("STALE_AFTER_DAYS", "14"))
# The dashboard's portfolio summary: refreshed by the worker this often, ignored (figures live) past this age.
DASHBOARD_SUMMARY_EVERY = int(os.environ.get("DASHBOARD_SUMMARY_EVERY", "60"))
DASHBOARD_SUMMARY_MAX_AGE = int(os.environ.get("DASHBOARD_SUMMARY_MAX_AGE", "600"))
CELERY_BEAT_SCHEDULE["dashboard-portfolio-summary"] = {
    "task": "dashboard.tasks.refresh_portfolio_summary",
    "schedule": float(DASHBOARD_SUMMARY_EVERY),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # django-axes logs every successful login at INFO; failures and lockouts stay at WARNING.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# Design thumbnails on the proposal page are GitLab's images: the browser loads them from GitLab itself.
if GITLAB_URL:
    from urllib.parse import urlsplit as _urlsplit

    _gitlab_origin = "{0.scheme}://{0.netloc}".format(_urlsplit(GITLAB_URL))
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(_gitlab_origin)
