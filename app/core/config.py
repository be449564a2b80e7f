"""Settings read from the environment; see docs/deployment.md for production values."""

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INSTANCE = Path(os.environ.get("INSTANCE_PATH", ROOT / "instance"))


def _local_secret_key() -> str:
    """A key generated once and kept in instance/, so local sessions survive restarts."""
    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _database_url(default: str) -> str:
    url = os.environ.get("DATABASE_URL", default)
    # Hosting panels often hand out postgres:// URLs; SQLAlchemy wants the driver named.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _env_int(name: str) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else 0


def _env_list(name: str) -> list[str] | None:
    """A comma-separated list, or None when unset (Flask then accepts any host)."""
    value = os.environ.get(name, "").strip()
    return [item.strip() for item in value.split(",") if item.strip()] or None


class Config:
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{INSTANCE / 'reportflow.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    # An import sends the editor's text with the file, as a multipart field: a report at the
    # saving limit is 600 KB of UTF-8, over Flask's 500 KB for one field. The request as a whole
    # stays bounded by MAX_CONTENT_LENGTH, as a form without a file always was.
    MAX_FORM_MEMORY_SIZE = MAX_CONTENT_LENGTH
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Licensed official fonts (仿宋_GB2312, 方正小标宋…) dropped here are used in PDFs.
    FONT_DIR = os.environ.get("FONT_DIR", str(INSTANCE / "fonts"))
    PDF_CACHE_DIR = os.environ.get("PDF_CACHE_DIR", str(INSTANCE / "pdf-cache"))
    EXPORT_DIR = os.environ.get("EXPORT_DIR", str(INSTANCE / "exports"))
    # Lay PDFs out in a helper process per worker, so that the layout's CPU and garbage stay
    # out of the worker (its GIL, heap and collections; app/pdf/workers.py, write_aside).
    PDF_LAYOUT_ASIDE = os.environ.get("PDF_LAYOUT_ASIDE", "1") != "0"
    # A PDF longer than this (characters of text) that is not in the cache is made by a job
    # (RQ, or the helper process pool) while the user sees a page that reloads itself: laid
    # out in the request it would hold a sync worker for seconds (~1 s at 5,000-10,000
    # characters on a loaded 2-core host, 12 s at 199,000; docs/benchmarks.md).
    PDF_INLINE_MAX_CHARS = _env_int("PDF_INLINE_MAX_CHARS") or 8000
    # How many such PDFs one user may have in the making at once (more: 429, wait).
    PDF_JOBS_PER_USER = _env_int("PDF_JOBS_PER_USER") or 2
    # Lay each approved version out for the volumes in the background (app/pdf/plates.py).
    PDF_PLATES_AHEAD = os.environ.get("PDF_PLATES_AHEAD", "1") != "0"
    # The certificate that signs approved PDFs: a PKCS#12 file and its passphrase (production:
    # see docs/deployment.md; `flask --app wsgi pki init` writes a development one into PKI_DIR).
    PKI_DIR = os.environ.get("PKI_DIR", str(INSTANCE / "pki"))
    PDF_SIGNING_PKCS12 = os.environ.get("PDF_SIGNING_PKCS12", str(Path(PKI_DIR) / "signing.p12"))
    PDF_SIGNING_PASSPHRASE = os.environ.get("PDF_SIGNING_PASSPHRASE") or None
    # /verify is open to anyone: uploads per address, and the largest file it reads.
    VERIFY_LIMIT = os.environ.get("VERIFY_LIMIT", "30 per minute")
    VERIFY_MAX_BYTES = _env_int("VERIFY_MAX_BYTES") or 8 * 1024 * 1024
    # Optional: RQ runs compilations (start `rq worker reportflow`); without it, a thread does.
    REDIS_URL = os.environ.get("REDIS_URL") or None
    # A running compilation writes a heartbeat this often; after 6 missed beats (1 minute)
    # it counts as interrupted (its worker died) and is shown failed (app/compilations/jobs.py).
    COMPILE_HEARTBEAT_SECONDS = float(os.environ.get("COMPILE_HEARTBEAT_SECONDS") or 10)
    # Behind a reverse proxy: how many proxies set each X-Forwarded-* header (0 = trust none).
    PROXY_FIX_X_FOR = _env_int("PROXY_FIX_X_FOR")
    PROXY_FIX_X_PROTO = _env_int("PROXY_FIX_X_PROTO")
    PROXY_FIX_X_HOST = _env_int("PROXY_FIX_X_HOST")
    PROXY_FIX_X_PORT = _env_int("PROXY_FIX_X_PORT")
    PROXY_FIX_X_PREFIX = _env_int("PROXY_FIX_X_PREFIX")
    # Host names the app answers to, e.g. "reports.example.gov.cn,.example.gov.cn"; others get 400.
    TRUSTED_HOSTS = _env_list("TRUSTED_HOSTS")
    # Without Redis each worker process counts on its own: the limits multiply by their number.
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per 10 minutes")
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 10 minutes")
    # A browser that has logged in as the account before has this limit of its own.
    LOGIN_LIMIT_PER_DEVICE = os.environ.get("LOGIN_LIMIT_PER_DEVICE", "5 per 10 minutes")
    # Wrong current passwords when changing one's own password, per account.
    PASSWORD_CHECK_LIMIT = os.environ.get("PASSWORD_CHECK_LIMIT", "5 per 10 minutes")
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
    SESSION_ABSOLUTE_HOURS = int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12"))
    # E-mail copies of notifications; off unless MAIL_SERVER is set.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = _env_int("MAIL_PORT") or 25
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "").lower() in ("1", "true", "yes")
    MAIL_USE_SSL = os.environ.get("MAIL_USE_SSL", "").lower() in ("1", "true", "yes")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "reportflow@localhost")
    MAIL_TIMEOUT = _env_int("MAIL_TIMEOUT") or 10
    # The address users reach the app at, for links in mails sent outside a request.
    PUBLIC_URL = os.environ.get("PUBLIC_URL") or None


class ProductionConfig(Config):
    ENV_NAME = "production"
    DEBUG = False
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    MAIL_SERVER = None
    PDF_LAYOUT_ASIDE = False  # tests/test_pdf.py covers the helper process
    PDF_PLATES_AHEAD = False  # tests/test_pdf_volume.py turns it on where it is tested
    # The heartbeat thread writes on a connection of its own, which the rolled-back tests do
    # not have (they share one connection): it never beats there. tests/test_pdf_volume.py
    # sets it short where it checks the heartbeat (a committed test).
    COMPILE_HEARTBEAT_SECONDS = 3600.0
    SQLALCHEMY_DATABASE_URI = _database_url(
        os.environ.get("TEST_DATABASE_URL", "sqlite:///:memory:")
    )
    WTF_CSRF_ENABLED = False
    # Limits stay on (one Limiter serves every app in the process) but out of the way;
    # tests/test_sessions.py lowers them where it checks them.
    LOGIN_LIMIT_PER_ADDRESS = "100000 per minute"
    LOGIN_LIMIT_PER_ACCOUNT = "100000 per minute"
    LOGIN_LIMIT_PER_DEVICE = "100000 per minute"
    PASSWORD_CHECK_LIMIT = "100000 per minute"
    VERIFY_LIMIT = "100000 per minute"


def load_config() -> type[Config]:
    return ProductionConfig if os.environ.get("REPORTFLOW_ENV") == "production" else Config
