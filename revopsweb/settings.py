"""revopsweb settings, read from environment variables (see .env.example)."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
import django_stubs_ext
import pghistory
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_list, env_str

# Lets the app write the generic classes django-stubs types (ModelAdmin[Account],
# ModelForm[Plan]) in code that runs, not only in annotations.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Only reachable with DEBUG on: the quick start and the tests.
    SECRET_KEY = "insecure-dev-only-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "revopsweb",
    "accounts",
    "accounts.handovers",
    "accounts.churn",
    "billing",
    "leads",
    "leads.generation",
]

# django-pghistory (audit of input tables): each tracked model gets an event table
# filled by PostgreSQL triggers on insert, update and delete, so bulk upserts and
# set-based updates are recorded too; events cannot be edited or deleted.
PGHISTORY_DEFAULT_TRACKERS = (
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
)
PGHISTORY_APPEND_ONLY = True

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "revopsweb.middleware.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "revopsweb.middleware.ResolvedUserMiddleware",
    "revopsweb.middleware.HistoryMiddleware",
    "revopsweb.middleware.SlidingSessionMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "revopsweb.middleware.HtmxMessagesMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "revopsweb.urls"
WSGI_APPLICATION = "revopsweb.wsgi.application"
ASGI_APPLICATION = "revopsweb.asgi.application"

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
                "django.template.context_processors.csp",
                "accounts.context_processors.navigation",
            ],
            "builtins": [
                "django_htmx.templatetags.django_htmx",
                # money, number, day, month, moment: one format per kind (revopsweb/formats.py)
                "revopsweb.templatetags.formats",
            ],
        },
    },
]

# Django's form renderer without a template render per empty error list
# (revopsweb/form_renderer.py).
FORM_RENDERER = "revopsweb.form_renderer.FormRenderer"

# PostgreSQL is the only engine: production, tests, benchmarks and the quick
# start (scripts/run.sh starts a private embedded server and sets DATABASE_URL).
DATABASE_URL = env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/revopsweb")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        f"DATABASE_URL must name a PostgreSQL 15+ database, not {DATABASE_URL.split(':', 1)[0]}."
    )
# PostgreSQL's JIT compiles a plan whose estimated cost passes jit_above_cost
# (100,000 by default), about 200 ms per query here: more than a whole My book
# page takes without it, and pages never run the long analytic scans JIT pays
# off on. So connections turn it off unless DB_JIT says otherwise ("on", or
# "server" for the server's own setting). Measured by `python -m bench books`
# (README, Benchmarks).
DB_JIT = env_str("DB_JIT", "off")
if DB_JIT not in {"on", "off", "server"}:
    raise ImproperlyConfigured(f"DB_JIT must be on, off or server, not {DB_JIT!r}.")
if DB_JIT != "server":
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit={DB_JIT}".strip()
# The statements revopsweb.sql.CompiledOnce keeps (My book's and the account page's
# rows, the account page's lists, the tracker's) run as server-side prepared
# statements, so the server plans each once per connection instead of on every
# request: planning was most of the account page's database time (issue 20). The
# app's other statements bind on the client and are never prepared, whatever this
# says. Turn it off behind a pooler in transaction mode that does not track
# prepared statements.
DB_PREPARE = env_bool("DB_PREPARE", default=True)
if DB_PREPARE:
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # psycopg's own default; Django leaves it None, which disables preparing.
    _options["prepare_threshold"] = 5
    # A prepared statement's parameters here are ids (CompiledOnce's contract), whose
    # plan does not depend on which id. PostgreSQL's default (auto) still plans the
    # first five runs for their values and keeps doing so when the generic plan's
    # estimate comes out dearer: it did for My book's, the account page's and three
    # of the tracker's statements, which were planned again on every request (6 of
    # My book's 9 ms of SQL at 100,000 accounts). plan_cache_mode only touches
    # statements with parameters: these, and PL/pgSQL functions' own statements.
    _options["options"] = (
        f"{_options.get('options', '')} -c plan_cache_mode=force_generic_plan".strip()
    )

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend with the roles read in the user's own query (issue 20).
    # Sessions record their backend's path: the ones made by
    # "django.contrib.auth.backends.ModelBackend" before it end, once, at deploy.
    "accounts.backends.StaffBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after SESSION_IDLE_HOURS without a request (a working day by
# default). revopsweb.middleware.SlidingSessionMiddleware moves the expiry at
# most every five minutes instead of SESSION_SAVE_EVERY_REQUEST, which would
# add a session write to every page.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_HOURS", 10) * 3600
# Django's database sessions, read in one prepared statement (revopsweb/sessions.py).
SESSION_ENGINE = "revopsweb.sessions"
SESSION_SAVE_EVERY_REQUEST = False

# How many reverse proxies in front of the app append to X-Forwarded-For (the
# README's deployment: 1). Every per-client limit reads the client address
# through revopsweb.client.client_ip, which trusts exactly that many.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Login throttling: AXES_FAILURE_LIMIT failures lock that e-mail from that
# address for an hour (one combined parameter, so a colleague behind the same
# proxy and the same person elsewhere can still log in). The login form posts
# the e-mail as "username" (Django's AuthenticationForm), not USERNAME_FIELD.
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = 1  # hours
AXES_VERBOSE = False
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "revopsweb.client.login_username"
AXES_CLIENT_IP_CALLABLE = "revopsweb.client.client_ip"

LANGUAGE_CODE = "en-us"
# Dates printed without a filter follow the one format per kind (revopsweb/formats.py).
FORMAT_MODULE_PATH = ["revopsweb.locale_formats"]
# The company's time zone: month boundaries (monthly reset, MRR months) and
# quarter ends are computed in it.
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
# The quick start's own files (git-ignored): embedded PostgreSQL data, the
# Celery broker's folders when there is no Redis, logs. See scripts/run.sh.
QUICKSTART_DIR = Path(env_str("QUICKSTART_DIR", str(BASE_DIR / ".quickstart")))
if REDIS_URL:
    # The cache only makes pages faster, so a Redis outage must not make them
    # fail: django-redis turns a connection error into a logged miss (get
    # returns the default, set/add/incr do nothing) and the page computes.
    # Short timeouts keep a page from hanging on an unreachable host.
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": env_int("CACHE_TIMEOUT_SECONDS", 1),
                "SOCKET_TIMEOUT": env_int("CACHE_TIMEOUT_SECONDS", 1),
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    DJANGO_REDIS_LOGGER = "revopsweb.cache"
else:
    # Without Redis (the quick start) the web server, the worker and commands
    # still share one cache, so the jobs' Top 40 and revenue history serve the
    # pages. Its table is made by `manage.py createcachetable`.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "revopsweb_cache",
        }
    }

# A revenue page that finds its summaries out of date refreshes them itself when the
# monthly revenue table is at most this many MB (a refresh of every account's months
# then takes a few seconds: 4 s at 16 MB, 63 s at 265 MB, the 100,000-account seed);
# beyond it, the page asks the workers and says its figures are being updated
# (billing.cache.fresh_summary).
REVENUE_INLINE_REFRESH_MAX_MB = env_int("REVENUE_INLINE_REFRESH_MAX_MB", 16)

# The public contact form: submissions per client IP, in django-ratelimit's
# syntax. The client IP is revopsweb.client.client_ip's (TRUSTED_PROXY_COUNT),
# never a raw header: a proxy chain is a list, and a single client-sent value
# is forged. django_ratelimit is not an installed app: its system checks flag Django's
# own RedisCache as unsupported, though its incr() is atomic.
CONTACT_FORM_RATE = env_str("CONTACT_FORM_RATE", "20/h")
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_IP_META_KEY = "revopsweb.client.client_ip"
# With the cache (Redis) down the limit cannot count. Open: the form keeps
# taking leads during the outage (a lost lead costs more than a short flood,
# and /healthz reports the outage). false: every submission is refused (429).
RATELIMIT_FAIL_OPEN = env_bool("RATELIMIT_FAIL_OPEN", default=True)

# Celery. Without Redis (the quick start) the broker is a pair of folders
# (kombu's filesystem transport: no server to run) and results are not kept
# (nothing reads them; each job records a JobRun). scripts/run.sh creates the
# folders and runs the worker with beat.
# An empty variable (as in .env.example) means unset.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://localhost/"
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue = QUICKSTART_DIR / "broker" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_queue),
        "data_folder_out": str(_queue),
        "control_folder": str(QUICKSTART_DIR / "broker" / "control"),
    }
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
if CELERY_BROKER_URL.startswith("redis://"):
    # kombu's Redis transport with a fix that keeps the worker alive when
    # Redis restarts under unacknowledged messages (see revopsweb/broker.py).
    CELERY_BROKER_TRANSPORT = "revopsweb.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A delivered message not acknowledged within this time (its worker
        # died, or Redis restarted before the ack) goes back on its queue. Must
        # exceed the longest job and the longest countdown/ETA, or those run twice.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 3600),
    }
# A job running when the broker connection drops finishes its work (jobs are
# idempotent and resumable; cancelling halfway only wastes it).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TRACK_STARTED = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_RESULT_EXPIRES = 24 * 3600
# Exactly one beat: it holds a PostgreSQL advisory lock for its whole life and
# a second one refuses to start (revopsweb/beat.py).
CELERY_BEAT_SCHEDULER = "revopsweb.beat:SingleBeatScheduler"
# Scheduled jobs. Times are in CELERY_TIMEZONE (the company's time zone).
# Listed in the order of the day: the quick start's catch-up on start
# (revopsweb.schedule) runs each once in this order, so the month is open
# before the day's jobs count anything in it.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # The monthly reset opens the new ledger period just after midnight on the
    # 1st. It runs every day because it only acts on the first run of a month:
    # if beat or the worker was down on the 1st, the next day's run resets
    # once, for the right month.
    "leads-monthly-reset": {
        "task": "leads.tasks.reset_tracker_month",
        "schedule": crontab(minute=5, hour=0),
    },
    # Nightly churn early-warning signals, after the usage snapshots have landed.
    "detect-churn-signals": {
        "task": "accounts.churn.tasks.detect_churn_signals_task",
        "schedule": crontab(hour=2, minute=30),
    },
    # Time off first, early in the morning: members leaving today are off
    # before the day's leads arrive, returners are back and calibrated.
    "leads-time-off": {
        "task": "leads.tasks.apply_tracker_time_off",
        "schedule": crontab(minute=0, hour=5),
    },
    # Daily: reassign tasks untouched for STALE_TASK_DAYS, autoclose those
    # still untouched after their reassignment.
    "leads-stale-tasks": {
        "task": "leads.tasks.reassign_stale_tasks_task",
        "schedule": crontab(minute=30, hour=5),
    },
    # Re-rank the Top 40 by ARR into its cache (pages rank live when a month
    # has no cached ranking; this keeps them fast at 100k accounts).
    "refresh-top-accounts": {
        "task": "accounts.tasks.refresh_top_accounts_task",
        "schedule": 60 * 60,
    },
    # Lead rules (issue 18): after the time-off job, so the day's product-led
    # and new-business leads go to who is in today. A rerun the same day
    # raises nothing.
    "leads-generate-leads": {
        "task": "leads.generation.tasks.generate_leads_task",
        "schedule": crontab(minute=0, hour=6),
    },
    # Follow-ups (issue 18): Prospect disqualifications whose date has come
    # get their follow-up task; nurtured tasks whose date has come are back in
    # progress. After the time-off job, so follow-ups go to who is in.
    "leads-follow-ups": {
        "task": "leads.tasks.raise_follow_ups",
        "schedule": crontab(minute=15, hour=6),
    },
    # Revenue pages: the summaries refreshed from whatever changed since the
    # last refresh (an import's after-commit job usually got there first).
    "billing-refresh-revenue-cache": {
        "task": "billing.tasks.refresh_revenue_cache",
        "schedule": 60 * 60,
    },
    # Outbound notifications (revopsweb/outbox.py): send what is due, again
    # after a failed attempt's backoff, a lost enqueue or a dead worker.
    "revopsweb-sweep-deliveries": {
        "task": "revopsweb.tasks.sweep_deliveries_task",
        "schedule": 60,
    },
    # Job runs left "running" by a killed worker are marked died (each job's
    # next run does it too; this covers the daily and monthly ones).
    "revopsweb-sweep-dead-job-runs": {
        "task": "revopsweb.tasks.sweep_dead_job_runs_task",
        "schedule": 10 * 60,
    },
}

# Days a task may sit untouched before the stale job reassigns it (and, after
# a reassignment, autocloses it). sales/overview: 10.
STALE_TASK_DAYS = env_int("STALE_TASK_DAYS", 10)

# Outbound HTTP (webhooks) never waits longer than this.
OUTBOUND_HTTP_TIMEOUT_SECONDS = env_int("OUTBOUND_HTTP_TIMEOUT_SECONDS", 10)
# Outbound notifications (the outbox): a failed send is retried after
# OUTBOX_FIRST_RETRY_SECONDS, doubling up to OUTBOX_MAX_RETRY_SECONDS, and
# given up (shown as failed in the admin) after OUTBOX_MAX_ATTEMPTS sends.
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 10)
OUTBOX_FIRST_RETRY_SECONDS = env_int("OUTBOX_FIRST_RETRY_SECONDS", 60)
OUTBOX_MAX_RETRY_SECONDS = env_int("OUTBOX_MAX_RETRY_SECONDS", 3600)
# Incoming webhook of the #customer-churn channel; empty disables the post.
CHURN_WEBHOOK_URL = env_str("CHURN_WEBHOOK_URL", "")
# Incoming webhook of #sales-alerts: each failed payment attempt is posted there
# through the outbox (billing/dunning.py); empty: recorded, not posted.
SALES_ALERTS_WEBHOOK_URL = env_str("SALES_ALERTS_WEBHOOK_URL", "")

# Inputs (revopsweb.imports, revopsweb.jsonapi). Every import page refuses a file
# over IMPORT_MAX_UPLOAD_BYTES; files over IMPORT_SYNC_MAX_BYTES are checked and
# applied by a background job with a progress bar (the web request would time
# out). JSON API bodies over API_MAX_BODY_BYTES are answered 413 unread; it
# stays under Django's DATA_UPLOAD_MAX_MEMORY_SIZE so that limit never answers
# an API with an HTML page.
IMPORT_MAX_UPLOAD_BYTES = env_int("IMPORT_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
IMPORT_SYNC_MAX_BYTES = env_int("IMPORT_SYNC_MAX_BYTES", 256 * 1024)
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 2 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(API_MAX_BODY_BYTES, 2621440)

SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-ancestors": ["'none'"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusals": {"()": "revopsweb.logs.RefusalsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"filters": ["refusals"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
