"""Django settings for regie: every value comes from the environment (see ``regie.lib.env``).

The embedded default needs no configuration at all: SQLite under ``var/``, demo keys under
``var/keys``, both roles (hub and number service) in one process. ``docs/configuration.md`` is
generated from the declarations below.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext

from regie.lib.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_path,
    env_proxy_header,
    env_secret,
    env_secret_list,
    env_str,
    loopback_demo,
)

django_stubs_ext.monkeypatch()

SRC_DIR = Path(__file__).resolve().parent
BASE_DIR = SRC_DIR.parent.parent

VAR_DIR = env_path(
    "REGIE_VAR_DIR",
    BASE_DIR / "var",
    "Where the embedded default keeps its SQLite database, keys and working files.",
    documented="var/ in the checkout",
)

ROLE = env_choice(
    "REGIE_ROLE",
    "all",
    ("all", "hub", "nummervoorziening", "oversight"),
    "Which deployable this process serves: the school hub, the number service, the sector "
    "dashboard for supervisors (oversight), or all of them (demo).",
)

DEBUG = env_bool("REGIE_DEBUG", False, "Django debug mode. Never in production.")

_configured_secret_key = env_secret(
    "REGIE_SECRET_KEY",
    None,
    "Django's secret key (sessions, CSRF). When unset, a random key is generated once and kept in "
    "$REGIE_VAR_DIR/secret-key (fine for one server; set it explicitly for several).",
)


def _generated_secret_key(path: Path) -> str:
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(key)
        return key


SECRET_KEY = _configured_secret_key or _generated_secret_key(VAR_DIR / "secret-key")
SECRET_KEY_FALLBACKS = env_secret_list(
    "REGIE_SECRET_KEY_FALLBACKS",
    "Earlier secret keys, still accepted while the secret key is rotated: sessions and signed "
    "values made with them stay valid, and identity-provider secrets sealed with them still open "
    "(save each provider again to reseal it). Remove them when that is done.",
)
IDENTIFIER_KEY = (
    env_secret(
        "REGIE_IDENTIFIER_KEY",
        None,
        "The key of the per-supplier keyed ids (OneRoster sourcedIds, teachers' sub). Unset: the "
        "secret key. Before rotating the secret key, set this to the current secret key, or every "
        "supplier sees new ids for schools, classes and teachers.",
    )
    or SECRET_KEY
)

ALLOWED_HOSTS = env_list(
    "REGIE_ALLOWED_HOSTS", ["127.0.0.1", "localhost"], "Host names this server answers to."
)

DATABASES = {
    "default": dj_database_url.parse(
        env_str(
            "DATABASE_URL",
            f"sqlite:///{VAR_DIR / 'regie.sqlite3'}",
            "Database URL: SQLite by default; postgres://user:pass@host/name for PostgreSQL.",
            documented="sqlite:///$REGIE_VAR_DIR/regie.sqlite3",
        ),
        conn_max_age=60,  # a connection per worker thread, not per request (SQLite too)
        conn_health_checks=True,  # a restarted database costs one reconnect, not failed requests
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file (not memory), so that server and worker subprocesses in tests share it; one per test
    # run, so that runs side by side do not clobber each other.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-regie-{os.getpid()}.sqlite3")}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",  # the form widgets' templates, for FORM_RENDERER below
    # Logins (regie.accounts): throttling and two-factor authentication.
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ninja",  # the number service's API docs: django-ninja's own Swagger files, no CDN
    "regie.jobs",
    "regie.core",
    "regie.audit",
    "regie.nummervoorziening",
    "regie.accounts",
    "regie.roster",
    "regie.agreements",
    "regie.gateway",
    "regie.orders",
    "regie.transparency",
    "regie.portal",
    "regie.retention",
    "regie.oversight",
    "regie.sector",
    "regie.ops",
]

# Background jobs (regie.jobs): on PostgreSQL the queue is procrastinate's, whose migrations are
# PostgreSQL's own SQL; on SQLite the embedded runner's table stands in, and procrastinate's app
# (its migrations, models and admin pages) is not installed at all.
if DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    INSTALLED_APPS.insert(INSTALLED_APPS.index("regie.jobs"), "procrastinate.contrib.django")
# Jobs are declared with regie.jobs's @job in each app's ``jobs`` module, not procrastinate's.
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = None
JOBS_LEASE_SECONDS = env_int(
    "REGIE_JOBS_LEASE_SECONDS",
    600,
    "SQLite's embedded job runner: how long a runner may hold a job before another takes it over "
    "(crash recovery). Longer than the longest job.",
    minimum=1,
)
JOBS_STALLED_SECONDS = env_int(
    "REGIE_JOBS_STALLED_SECONDS",
    30,
    "PostgreSQL's job queue: a worker silent for this long (no heartbeat) is taken for dead, and "
    "the periodic jobs.retry_stalled runs its jobs again.",
    minimum=3,
)
JOBS_SCHEDULE = env_str(
    "REGIE_JOBS_SCHEDULE",
    "regie.ops.schedule.SCHEDULE",
    "The periodic jobs a worker runs: the dotted path of a tuple of regie.jobs Periodic.",
)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # web security: the Content-Security-Policy of every response (see "Web security" below)
    "regie.gateway.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Logins (regie.accounts): who verified a second factor, who still must (before any page),
    # and the lockout page of a throttled login (django-axes).
    "django_otp.middleware.OTPMiddleware",
    "regie.accounts.middleware.SecondFactorMiddleware",
    "axes.middleware.AxesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before any check
    "regie.accounts.backends.AccountBackend",
]

ROOT_URLCONF = "regie.urls"
WSGI_APPLICATION = "regie.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # regie's colours for the admin: admin/base_site.html here comes before the admin's own
        "DIRS": [SRC_DIR / "core" / "admin_templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "regie.accounts.context_processors.navigation",
                "regie.oversight.context_processors.incident_banner",
            ],
        },
    },
]

# Form widgets are rendered with TEMPLATES above, so core/admin_templates can give Django's admin
# widgets labels they lack (admin/widgets/split_datetime.html).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", "Nederlands"), ("en", "English")]
LOCALE_PATHS = [SRC_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

# The sector dashboard's deployable (REGIE_ROLE=oversight) serves none of the hub's pages: its
# logins are the supervisors', on its own login page.
LOGIN_URL = "sector:login" if ROLE == "oversight" else "login"
LOGIN_REDIRECT_URL = "sector:dashboard" if ROLE == "oversight" else "after-login"
# Messages in the session, not a cookie: the admin shows a new client's secret once as a message.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
LOGOUT_REDIRECT_URL = "home"

STATIC_URL = "static/"
STATIC_ROOT = env_path(
    "REGIE_STATIC_ROOT",
    VAR_DIR / "static",
    "Where `regie collectstatic` puts static files for a separate web server (optional).",
    documented="$REGIE_VAR_DIR/static",
)
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# WhiteNoise serves the admin's and the apps' static files straight from the packages, so the
# embedded default needs no collectstatic and no separate web server.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SESSION_COOKIE_HTTPONLY = True
# Django's database sessions, read with a query compiled once per process (regie.accounts.sessions).
SESSION_ENGINE = "regie.accounts.sessions"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Web security: TLS and the Content-Security-Policy ------------------------------------------
# (its own block: the login throttling and two-factor settings live elsewhere in this file)
# The system check regie.W001-W003 (core/checks.py) warns when the TLS settings are off outside
# the embedded demo on loopback (REGIE_ROLE=all, loopback host names only), which is served over
# plain http and is the only place whose defaults leave cookies without the Secure flag.

SECURE_COOKIES = env_bool(
    "REGIE_SECURE_COOKIES",
    not loopback_demo(ROLE, ALLOWED_HOSTS),
    "Send the session, CSRF and language cookies with the Secure flag (over HTTPS only). On by "
    "default, except for the embedded demo on loopback (REGIE_ROLE=all and only loopback "
    "REGIE_ALLOWED_HOSTS), which is served over plain http.",
    documented="true (false for the demo on loopback)",
)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = SECURE_COOKIES
SECURE_HSTS_SECONDS = env_int(
    "REGIE_HSTS_SECONDS",
    365 * 24 * 3600,
    "Strict-Transport-Security: how long browsers must use HTTPS only for this host, in "
    "seconds. Sent on HTTPS responses only (behind a proxy: see REGIE_PROXY_SSL_HEADER). 0 "
    "switches HSTS off.",
    minimum=0,
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool(
    "REGIE_HSTS_INCLUDE_SUBDOMAINS",
    True,
    "Strict-Transport-Security covers the host's subdomains too.",
)
SECURE_HSTS_PRELOAD = env_bool(
    "REGIE_HSTS_PRELOAD",
    False,
    "Strict-Transport-Security says the domain may be on browsers' preload list. Only for a "
    "registrable domain whose every subdomain is on HTTPS for good; submitting it to the list is "
    "a separate step. Off by default: a hub usually lives on a subdomain of a school board.",
)
SECURE_PROXY_SSL_HEADER = env_proxy_header(
    "REGIE_PROXY_SSL_HEADER",
    "The request header in which the TLS-terminating proxy says that the visitor came over "
    "HTTPS: Name=value, or a name alone for the value https. With `regie serve` use "
    "X-Forwarded-Ssl=on (it drops X-Forwarded-Proto from the proxy, with either server). Unset: "
    "no header is believed, and behind a proxy regie sees plain http (no HSTS, and the OAuth "
    "endpoints refuse). Set it only when the proxy always sets this header itself, overwriting "
    "what a visitor sent.",
)

# Content-Security-Policy (django-csp; regie.gateway.csp adds to form-action where the OIDC flows
# send a browser after a form). No inline script or style anywhere, and no other origin: every
# script and style sheet is a static file of this site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int(
    "REGIE_MAX_REQUEST_BYTES",
    64 * 1024 * 1024,
    "Largest request body accepted, in bytes (a 100,000-item batch is about 20 MB of JSON).",
    minimum=1024,
)

# --- Gateway (OpenID Connect provider for suppliers) ---------------------------------------------

OIDC_ISSUER = env_str(
    "REGIE_OIDC_ISSUER",
    "http://127.0.0.1:8000/oidc",
    "Issuer identifier of the hub's OpenID Connect provider: its public base URL plus /oidc.",
)
OIDC_KEYS_DIR = env_path(
    "REGIE_OIDC_KEYS_DIR",
    VAR_DIR / "oidc-keys",
    "Directory with the provider's signing keys (ES256, RS256; never in the database).",
    documented="$REGIE_VAR_DIR/oidc-keys",
)
# --- Orders to suppliers (regie.orders; the wire format is regie.lib.supplier_orders) ------------

ORDER_RETRY_SCHEDULE = [
    int(seconds)
    for seconds in env_list(
        "REGIE_ORDER_RETRY_SCHEDULE",
        ["0", "5", "300", "1800", "7200", "18000", "36000", "36000", "86400"],
        "Seconds before each attempt to deliver an order to a supplier (Standard Webhooks' "
        "schedule plus a day); after the last failed attempt the order has failed.",
    )
]
ORDER_DEADLINE_DAYS = env_int(
    "REGIE_ORDER_DEADLINE_DAYS",
    30,
    "Default deadline of an order to a supplier, in days (an erasure: without undue delay).",
    minimum=1,
)
ORDER_TIMEOUT_SECONDS = env_int(
    "REGIE_ORDER_TIMEOUT_SECONDS",
    10,
    "How long the hub waits for a supplier's answer to an order before the attempt failed.",
    minimum=1,
)
# --- The parents' and pupils' portal (regie.portal) ---------------------------------------------

PORTAL_REQUESTS_PER_DAY = env_int(
    "REGIE_PORTAL_REQUESTS_PER_DAY",
    5,
    "How many rights requests one portal login may file in 24 hours (more are refused).",
    minimum=1,
)

# --- Retention (regie.retention) ----------------------------------------------------------------

SIMULATED_CLOCK = env_bool(
    "REGIE_SIMULATED_CLOCK",
    False,
    "Let `regie clock advance` move the day retention acts on (the demo and tests only; never in "
    "production).",
)
RETENTION_BATCH_SIZE = env_int(
    "REGIE_RETENTION_BATCH_SIZE",
    500,
    "How many pupils the retention run handles in one transaction (a killed run continues from "
    "the last batch it finished).",
    minimum=1,
)

# --- Oversight (regie.oversight at the hub; regie.sector, the sector dashboard) ----------------

OVERSIGHT_URL = env_str(
    "REGIE_OVERSIGHT_URL",
    "",
    "Where the hub sends its signed aggregate reports: the sector dashboard's intake URL (for "
    "example https://sector.example/sector/api/reports). Empty: reports are made, signed and "
    "committed to the log, but not sent.",
)
OVERSIGHT_STALE_DAYS = env_int(
    "REGIE_OVERSIGHT_STALE_DAYS",
    14,
    "The sector dashboard flags a registered hub whose last accepted report is older than this.",
    minimum=1,
)

# --- The provable audit log (regie.audit's tree; checkpoints and witnesses: regie.transparency) -

LOG_KEY_FILE = env_path(
    "REGIE_LOG_KEY_FILE",
    VAR_DIR / "log-key",
    "The audit log's checkpoint signing key (a C2SP note private key, Ed25519; never in the "
    "database). `regie log key` makes it and prints its public key.",
    documented="$REGIE_VAR_DIR/log-key",
)
LOG_ORIGIN = env_str(
    "REGIE_LOG_ORIGIN",
    "",
    "The audit log's origin: the first line of its checkpoints and its key's name, a schema-less "
    "URL such as hub.board.example/log. Empty: the OIDC issuer's host and port, then /log.",
)
LOG_WITNESS_TIMEOUT_SECONDS = env_int(
    "REGIE_LOG_WITNESS_TIMEOUT_SECONDS",
    10,
    "How long the hub waits for a witness to cosign a checkpoint.",
    minimum=1,
)

OIDC_CODE_TTL_SECONDS = env_int(
    "REGIE_OIDC_CODE_TTL_SECONDS",
    60,
    "How long an authorization code may be exchanged (RFC 6749 advises at most 10 minutes).",
    minimum=1,
)
OIDC_TOKEN_TTL_SECONDS = env_int(
    "REGIE_OIDC_TOKEN_TTL_SECONDS",
    600,
    "Lifetime of ID and access tokens; a retired signing key stays published this long.",
    minimum=10,
)

# --- Number service (Nummervoorziening) ------------------------------------------------------

NV_KEYS_DIR = env_path(
    "REGIE_NV_KEYS_DIR",
    VAR_DIR / "keys",
    "Directory with the number service's versioned secret keys (never in the database).",
    documented="$REGIE_VAR_DIR/keys",
)
NV_PSEUDONYM_BASE = env_str(
    "REGIE_NV_PSEUDONYM_BASE",
    "https://nummervoorziening.regie.example",
    "Base URI of the stampseudonyms and ECK iDs this number service issues.",
)
NV_REGISTRY_FILE = env_str(
    "REGIE_NV_REGISTRY_FILE",
    "",
    "TOML file with the chains and sectors the number service knows; empty for the built-in one.",
)
NV_BATCH_MAX_ITEMS = env_int(
    "REGIE_NV_BATCH_MAX_ITEMS",
    100_000,
    "Most items one batch may hold; a larger batch is refused as a whole.",
    minimum=1,
)
NV_BATCH_CHUNK_SIZE = env_int(
    "REGIE_NV_BATCH_CHUNK_SIZE",
    5_000,
    "Items a worker processes and commits at once; a killed worker redoes at most one chunk.",
    minimum=1,
)
NV_BATCH_RESULT_TTL_SECONDS = env_int(
    "REGIE_NV_BATCH_RESULT_TTL_SECONDS",
    24 * 3600,
    "How long a batch and its results are kept before they are removed unretrieved.",
    minimum=1,
)
NV_BATCH_LEASE_SECONDS = env_int(
    "REGIE_NV_BATCH_LEASE_SECONDS",
    60,
    "How long a worker may hold a chunk before another worker takes it over (crash recovery).",
    minimum=1,
)
NV_DEFAULT_DAILY_BATCH_QUOTA = env_int(
    "REGIE_NV_DEFAULT_DAILY_BATCH_QUOTA",
    100,
    "Batches a newly registered client may submit per day (changeable per client).",
    minimum=0,
)
NV_AUTH = env_choice(
    "REGIE_NV_AUTH",
    "api-key",
    ("api-key", "mtls"),
    "How number-service clients authenticate: an API key (embedded default) or an mTLS client "
    "certificate whose subject a trusted proxy passes on.",
)
NV_MTLS_SUBJECT_HEADER = env_str(
    "REGIE_NV_MTLS_SUBJECT_HEADER",
    "X-SSL-Client-S-DN",
    "With REGIE_NV_AUTH=mtls: the request header in which the TLS-terminating proxy passes the "
    "verified client certificate's subject DN (its serialNumber is the OIN).",
)
NV_TRUSTED_PROXIES = env_list(
    "REGIE_NV_TRUSTED_PROXIES",
    ["127.0.0.1", "::1"],
    "With REGIE_NV_AUTH=mtls: addresses of the proxies whose certificate header is believed.",
)
HPGN_SALT = env_str(
    "REGIE_HPGN_SALT",
    "rktYml0MIp9TC9u6Ny6uqw==",
    "Base64 salt of the first-step PGN hash; per environment, not secret. The default is the "
    "old public test salt of the national chain.",
)

# --- Hub side ------------------------------------------------------------------------------------

NV_CLIENT_URL = env_str(
    "REGIE_NV_URL",
    "http://127.0.0.1:8000/nummervoorziening",
    "Where the hub reaches the number service's HTTP API.",
)
NV_CLIENT_API_KEY = env_secret("REGIE_NV_API_KEY", None, "The hub's API key at the number service.")
NV_CLIENT_TIMEOUT_SECONDS = env_int(
    "REGIE_NV_TIMEOUT_SECONDS", 30, "Timeout of one call from the hub to the number service."
)

# --- Roster imports ------------------------------------------------------------------------------

IMPORT_DIR = env_path(
    "REGIE_IMPORT_DIR",
    VAR_DIR / "imports",
    "Where uploaded LAS exports wait (readable by the hub only) between preview and apply.",
    documented="$REGIE_VAR_DIR/imports",
)
IMPORT_UPLOAD_TTL_HOURS = env_int(
    "REGIE_IMPORT_UPLOAD_TTL_HOURS",
    24,
    "How long an uploaded export that was checked but not applied is kept; then it is deleted.",
    minimum=1,
)
ECK_CHAIN_ID = env_str(
    "REGIE_ECK_CHAIN_ID",
    "http://purl.edustandaard.nl/begrippenkader/e7ec7d3c-c235-4513-bfb6-e54e66854795",
    "The ECK iD chain (ketenId) the hub asks ECK iDs for: the chain of digital learning materials.",
)
IMPORT_MAX_UPLOAD_BYTES = env_int(
    "REGIE_IMPORT_MAX_UPLOAD_BYTES",
    256 * 1024 * 1024,
    "Largest LAS export accepted for import, in bytes, as uploaded (a zip or an XML file).",
    minimum=1024,
)
IMPORT_MAX_UNCOMPRESSED_BYTES = env_int(
    "REGIE_IMPORT_MAX_UNCOMPRESSED_BYTES",
    512 * 1024 * 1024,
    "Most bytes the files in one OneRoster zip may hold together once unpacked (zip-bomb guard).",
    minimum=1024,
)
IMPORT_MASS_REMOVAL_PERCENT = env_int(
    "REGIE_IMPORT_MASS_REMOVAL_PERCENT",
    20,
    "Safety stop: an import that would mark more than this percentage of a school's active "
    "pupils as left (or all of them) is applied only when confirmed: a checkbox in the preview "
    "that names the numbers, or `regie import --allow-mass-removal`. 0: every removal; 100: only "
    "an export that removes all of a school's pupils.",
    minimum=0,
)
IMPORT_MAX_COMPRESSION_RATIO = env_int(
    "REGIE_IMPORT_MAX_COMPRESSION_RATIO",
    200,
    "Highest unpacked-to-packed size ratio of one file in a zip (zip-bomb guard).",
    minimum=1,
)

# --- Logins: throttling (django-axes) and two-factor authentication (django-otp) ----------------
# regie.accounts.throttling and regie.accounts.second_factor; docs/login.md explains the limits.

LOGIN_FAILURE_LIMIT = env_int(
    "REGIE_LOGIN_FAILURE_LIMIT",
    5,
    "Failed logins with one username from one address after which that username is locked out "
    "at that address.",
    minimum=1,
)
LOGIN_USER_FAILURE_LIMIT = env_int(
    "REGIE_LOGIN_USER_FAILURE_LIMIT",
    20,
    "Failed logins with one username from all addresses together after which that username is "
    "locked out everywhere (guessing from many addresses).",
    minimum=1,
)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int(
    "REGIE_LOGIN_ADDRESS_FAILURE_LIMIT",
    100,
    "Failed logins from one address (any username, and refused logins through a school's "
    "identity provider) after which that address is locked out. High on purpose: a whole school "
    "often shares one address, and the failures of someone who then logs in correctly stop "
    "counting.",
    minimum=1,
)
LOGIN_LOCKOUT_MINUTES = env_int(
    "REGIE_LOGIN_LOCKOUT_MINUTES",
    15,
    "How long a failed login counts, from the last failure with that username at that address; "
    "so also how long a lockout lasts. Administrators can lift one earlier (docs/login.md).",
    minimum=1,
)
LOGIN_ADDRESS_HEADER = env_str(
    "REGIE_LOGIN_ADDRESS_HEADER",
    "",
    "Behind a reverse proxy: the request header in which it passes the client's address, such as "
    "X-Forwarded-For (the rightmost address that is not a trusted proxy counts). Empty: the "
    "address of the connection, for a hub that clients reach directly.",
)
LOGIN_TRUSTED_PROXIES = env_list(
    "REGIE_LOGIN_TRUSTED_PROXIES",
    ["127.0.0.1", "::1"],
    "With REGIE_LOGIN_ADDRESS_HEADER: addresses of the proxies whose header is believed.",
)
REQUIRE_2FA = env_bool(
    "REGIE_REQUIRE_2FA",
    True,
    "Privacy officers, board and school admins and administrators (admin site) log in with a "
    "second factor: a code from an authenticator app, or a recovery code. `regie demo` switches "
    "it off unless this is set.",
)
OTP_TOTP_ISSUER = env_str(
    "REGIE_OTP_ISSUER",
    "regie",
    "The name under which authenticator apps list the hub's codes.",
)

AXES_ENABLED = True
AXES_HANDLER = "regie.accounts.throttling.LoginThrottle"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], ["username"], ["ip_address"]]
AXES_FAILURE_LIMIT = 1  # LoginThrottle counts the rules reached, each with its own limit above
AXES_COOLOFF_TIME = "regie.accounts.throttling.lockout_duration"  # REGIE_LOGIN_LOCKOUT_MINUTES
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a lockout ends when it said it would
AXES_RESET_ON_SUCCESS = True  # LoginThrottle: the failures of that username only
AXES_CLIENT_IP_CALLABLE = "regie.accounts.throttling.client_address"
AXES_LOCKOUT_CALLABLE = "regie.accounts.throttling.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "csrfmiddlewaretoken"]
AXES_DISABLE_ACCESS_LOG = True  # no record of every successful login
AXES_ENABLE_ACCESS_FAILURE_LOG = False  # failures are audit events (accounts.login.failed)
AXES_ENABLE_ADMIN = False  # regie.accounts.admin shows lockouts, and audits lifting one
AXES_VERBOSE = False
OTP_TOTP_THROTTLE_FACTOR = 1  # after n wrong codes the next try waits 2^(n-1) seconds
OTP_STATIC_THROTTLE_FACTOR = 1
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- Guardians' logins and e-mail (regie.accounts.invitations, regie.portal.notifications) -----

INVITATION_DAYS = env_int(
    "REGIE_INVITATION_DAYS",
    14,
    "How many days a guardian's invitation link (to make a portal login) stays valid.",
    minimum=1,
)
_EMAIL = env_choice(
    "REGIE_EMAIL_BACKEND",
    "folder",
    ("folder", "smtp"),
    "How the hub sends e-mail to guardians (invitations, rights requests): `folder` writes each "
    "message as a file into REGIE_EMAIL_FOLDER (the demo; nothing leaves the machine), `smtp` "
    "hands it to the mail server REGIE_EMAIL_HOST.",
)
EMAIL_FILE_PATH = env_path(
    "REGIE_EMAIL_FOLDER",
    VAR_DIR / "mail",
    "With REGIE_EMAIL_BACKEND=folder: the folder the messages are written to.",
    documented="$REGIE_VAR_DIR/mail",
)
EMAIL_HOST = env_str(
    "REGIE_EMAIL_HOST", "localhost", "With REGIE_EMAIL_BACKEND=smtp: the mail server's host name."
)
EMAIL_PORT = env_int(
    "REGIE_EMAIL_PORT", 587, "With REGIE_EMAIL_BACKEND=smtp: the mail server's port.", minimum=1
)
EMAIL_HOST_USER = env_str(
    "REGIE_EMAIL_USER", "", "With REGIE_EMAIL_BACKEND=smtp: the user name at the mail server."
)
EMAIL_HOST_PASSWORD = (
    env_secret(
        "REGIE_EMAIL_PASSWORD", None, "With REGIE_EMAIL_BACKEND=smtp: the password at the server."
    )
    or ""
)
_EMAIL_TLS = env_choice(
    "REGIE_EMAIL_TLS",
    "starttls",
    ("starttls", "tls", "none"),
    "With REGIE_EMAIL_BACKEND=smtp: STARTTLS on a plain connection (port 587), TLS from the "
    "start (port 465), or none (only for a mail server on this machine).",
)
EMAIL_USE_TLS = _EMAIL_TLS == "starttls"
EMAIL_USE_SSL = _EMAIL_TLS == "tls"
EMAIL_TIMEOUT = 30
EMAIL_BACKEND = {
    "folder": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}[_EMAIL]
DEFAULT_FROM_EMAIL = env_str(
    "REGIE_EMAIL_FROM",
    "regie <noreply@regie.example>",
    "The sender of the hub's e-mail to guardians: an address of the board's own domain.",
)

# --- Server and background work ------------------------------------------------------------------

SERVER_THREADS = env_int(
    "REGIE_SERVER_THREADS",
    0,
    "Request threads per process of `regie serve`. 0 chooses by role: 16 for REGIE_ROLE=all, "
    "enough that a hub request waiting on the number service in the same process never starves "
    "it; 2 for the other roles, where more threads in one process contend for Python's "
    "interpreter lock and serve fewer requests (docs/performance.md): use more processes "
    "(`--processes`) for more cores.",
    minimum=0,
)
SERVER = env_choice(
    "REGIE_SERVER",
    "granian",
    ("granian", "waitress"),
    "The HTTP server of `regie serve`: granian (an HTTP stack in Rust; the app in worker "
    "processes, `--processes` of them sharing the port, beside a supervising process that runs "
    "the background worker) or waitress (pure Python, one process per port). Chosen by numbers: "
    "docs/performance.md, section WSGI servers for the hub.",
)
INPROCESS_WORKER = env_bool(
    "REGIE_INPROCESS_WORKER",
    True,
    "Run the background worker inside `regie serve` (embedded default); switch off when separate "
    "`regie worker` processes run.",
)

LOG_LEVEL = env_choice(
    "REGIE_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"), "Log level."
)
LOG_FORMAT = env_choice(
    "REGIE_LOG_FORMAT", "console", ("console", "json"), "Log lines for people or for machines."
)

LOGGING_CONFIG = None  # regie.lib.logging configures structlog and the standard library at once.

from regie.lib.logging import configure_logging  # noqa: E402

configure_logging(level=LOG_LEVEL, json=LOG_FORMAT == "json")
