"""Settings: one frozen object built from the environment at each entry point and passed down.

Every setting has an embedded default so that `dtg serve` runs with no configuration at all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet

ATLASSIAN_ALL_JS = "https://connect-cdn.atl-paas.net/all.js"
ATLASSIAN_INSTALL_KEYS = "https://connect-install-keys.atlassian.com"
DEFAULT_JIRA_SITES = "*.atlassian.net *.jira.com *.jira-dev.com"
FORGE_JWKS = "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json"
# The nil app id of the committed manifest.yml; `forge register` gives the real one.
FORGE_EXAMPLE_APP_ID = "ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000000"
FORGE_API_HOSTS = "api.atlassian.com"


@dataclass(frozen=True)
class SettingDoc:
    env: str
    default: str
    help: str


# Datasette-style: settings are data with help text; a test checks the README documents each one.
SETTINGS_DOC = (
    SettingDoc("DTG_BASE_URL", "http://127.0.0.1:8000", "The public https URL Jira uses to reach the app."),
    SettingDoc("DTG_APP_KEY", "drupal-ticket-generator", "The Connect app key, unique per Atlassian site."),
    SettingDoc("DTG_DATA_DIR", "./data", "Folder for the SQLite database, the generated secret key and uploads."),
    SettingDoc("DTG_DATABASE_URL", "SQLite in the data folder", "SQLAlchemy URL, e.g. postgresql://user@host/db."),
    SettingDoc(
        "DTG_REDIS_URL", "unset", "Redis broker for `dtg worker` processes; unset runs a broker and worker in-process."
    ),
    SettingDoc(
        "DTG_SECRET_KEY",
        "generated into the data folder",
        "Fernet key that encrypts tenant shared secrets and API keys at rest.",
    ),
    SettingDoc(
        "DTG_CONNECT_INSTALL_KEYS_URL",
        ATLASSIAN_INSTALL_KEYS,
        "Where the public keys of signed install callbacks are fetched (the sandbox serves its own).",
    ),
    SettingDoc("DTG_ALL_JS_URL", ATLASSIAN_ALL_JS, "The Connect JavaScript API the pages load."),
    SettingDoc(
        "DTG_FRAME_ANCESTORS", "none", "Extra origins (space separated) allowed to frame the app, e.g. the sandbox."
    ),
    SettingDoc(
        "DTG_JIRA_SITES",
        DEFAULT_JIRA_SITES,
        "Hosts (space separated, * wildcards) of the Jira sites the app installs on; anything else is refused.",
    ),
    SettingDoc(
        "DTG_FORGE_APP_ID",
        FORGE_EXAMPLE_APP_ID,
        "The Forge app's id (an ARI from `forge register`): the audience every Forge Invocation Token must name.",
    ),
    SettingDoc(
        "DTG_FORGE_JWKS_URL", FORGE_JWKS, "Where the public keys of Forge Invocation Tokens are fetched (by kid)."
    ),
    SettingDoc(
        "DTG_FORGE_ISOLATED_CLOUD_JWKS_URL",
        "unset",
        "Keys of Forge tokens from Isolated Cloud (they carry icLabel); unset refuses such tokens.",
    ),
    SettingDoc(
        "DTG_FORGE_API_HOSTS",
        FORGE_API_HOSTS,
        "Hosts (space separated, * wildcards) a Forge token's apiBaseUrl may name; Jira calls go nowhere else.",
    ),
    SettingDoc(
        "DTG_JWT_MAX_LIFETIME_SECONDS",
        "3600",
        "Longest lifetime (exp - iat) of a Jira token the app accepts; Atlassian's tokens live minutes.",
    ),
    SettingDoc("DTG_WORKER_THREADS", "4", "Threads of the in-process worker and of each `dtg worker` process."),
    SettingDoc(
        "DTG_LLM_PROVIDER",
        "offline",
        "Default language model provider: offline, openai, anthropic or openai_compatible (admins may override).",
    ),
    SettingDoc("DTG_LLM_MODEL", "none", "Model name for the provider, e.g. gpt-4o-mini or claude-3-5-haiku-latest."),
    SettingDoc("DTG_LLM_API_KEY", "unset", "API key of the provider; never logged, never shown."),
    SettingDoc("DTG_LLM_BASE_URL", "unset", "Base URL of an OpenAI-compatible endpoint (local models)."),
    SettingDoc(
        "DTG_ALLOWED_LLM_HOSTS",
        "none",
        "Hosts (`*` wildcards) or IP networks that a tenant's OpenAI-compatible base URL may reach although they are "
        "not on the public internet (loopback, private, link-local, CGNAT); everything else internal is refused.",
    ),
    SettingDoc("DTG_LLM_ALLOW_HTTP", "false", "Let a tenant's OpenAI-compatible base URL use plain http:// (true)."),
    SettingDoc("DTG_LLM_CONCURRENCY", "8", "Language model calls in flight at once per generation run."),
    SettingDoc(
        "DTG_JIRA_REQUESTS_PER_SECOND",
        "10",
        "Pace of the export's calls to each Jira site, shared by all workers, so it stays under Jira's rate limit.",
    ),
    SettingDoc(
        "DTG_LOG_FORMAT",
        "json (text for `dtg demo`)",
        "Log lines as JSON objects (one per line, for a log collector) or as plain text.",
    ),
    SettingDoc("DTG_LOG_LEVEL", "INFO", "Lowest level logged: DEBUG, INFO, WARNING or ERROR."),
    SettingDoc(
        "DTG_REDIS_HEARTBEAT_TIMEOUT_MS",
        "15000",
        "How long a `dtg worker` may miss its Redis heartbeat before its unfinished messages go to another worker.",
    ),
)


@dataclass(frozen=True)
class Settings:
    base_url: str
    app_key: str
    data_dir: Path
    database_url: str
    redis_url: str | None
    connect_install_keys_url: str
    all_js_url: str
    frame_ancestors: tuple[str, ...]
    jira_sites: tuple[str, ...]
    worker_threads: int
    llm_provider: str = "offline"
    llm_model: str = ""
    llm_base_url: str | None = None
    llm_concurrency: int = 8
    allowed_llm_hosts: tuple[str, ...] = ()
    llm_allow_http: bool = False
    jwt_max_lifetime_s: int = 3600
    llm_api_key: str | None = field(default=None, repr=False)
    jira_requests_per_second: float = 10.0
    # None: each command's own default (JSON for serve, worker and scheduler; text for the demo).
    log_format: str | None = None
    log_level: str = "INFO"
    redis_heartbeat_timeout_ms: int = 15_000
    secret_key: str = field(default="", repr=False)
    forge_app_id: str = FORGE_EXAMPLE_APP_ID
    forge_jwks_url: str = FORGE_JWKS
    forge_isolated_cloud_jwks_url: str | None = None
    forge_api_hosts: tuple[str, ...] = (FORGE_API_HOSTS,)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `environ` (default `os.environ`); creates the data folder and secret key if needed."""
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("DTG_DATA_DIR") or "data").resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(
            base_url=(env.get("DTG_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
            app_key=env.get("DTG_APP_KEY") or "drupal-ticket-generator",
            data_dir=data_dir,
            database_url=normalise_database_url(env.get("DTG_DATABASE_URL") or f"sqlite:///{data_dir / 'dtg.sqlite3'}"),
            redis_url=env.get("DTG_REDIS_URL") or None,
            secret_key=env.get("DTG_SECRET_KEY") or _load_or_create_secret_key(data_dir),
            connect_install_keys_url=(env.get("DTG_CONNECT_INSTALL_KEYS_URL") or ATLASSIAN_INSTALL_KEYS).rstrip("/"),
            all_js_url=env.get("DTG_ALL_JS_URL") or ATLASSIAN_ALL_JS,
            frame_ancestors=tuple((env.get("DTG_FRAME_ANCESTORS") or "").split()),
            jira_sites=tuple((env.get("DTG_JIRA_SITES") or DEFAULT_JIRA_SITES).split()),
            worker_threads=int(env.get("DTG_WORKER_THREADS") or 4),
            llm_provider=env.get("DTG_LLM_PROVIDER") or "offline",
            llm_model=env.get("DTG_LLM_MODEL") or "",
            llm_api_key=env.get("DTG_LLM_API_KEY") or None,
            llm_base_url=env.get("DTG_LLM_BASE_URL") or None,
            llm_concurrency=int(env.get("DTG_LLM_CONCURRENCY") or 8),
            allowed_llm_hosts=tuple((env.get("DTG_ALLOWED_LLM_HOSTS") or "").split()),
            llm_allow_http=(env.get("DTG_LLM_ALLOW_HTTP") or "").lower() in ("1", "true", "yes"),
            jwt_max_lifetime_s=int(env.get("DTG_JWT_MAX_LIFETIME_SECONDS") or 3600),
            jira_requests_per_second=float(env.get("DTG_JIRA_REQUESTS_PER_SECOND") or 10),
            log_format=(env.get("DTG_LOG_FORMAT") or "").lower() or None,
            log_level=(env.get("DTG_LOG_LEVEL") or "INFO").upper(),
            redis_heartbeat_timeout_ms=int(env.get("DTG_REDIS_HEARTBEAT_TIMEOUT_MS") or 15_000),
            forge_app_id=env.get("DTG_FORGE_APP_ID") or FORGE_EXAMPLE_APP_ID,
            forge_jwks_url=env.get("DTG_FORGE_JWKS_URL") or FORGE_JWKS,
            forge_isolated_cloud_jwks_url=env.get("DTG_FORGE_ISOLATED_CLOUD_JWKS_URL") or None,
            forge_api_hosts=tuple((env.get("DTG_FORGE_API_HOSTS") or FORGE_API_HOSTS).split()),
        )


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whichever spelling the operator wrote."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _load_or_create_secret_key(data_dir: Path) -> str:
    path = data_dir / "secret.key"
    if not path.exists():
        # Written with O_EXCL so two processes starting together cannot end up with different keys.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(Fernet.generate_key().decode())
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty; delete it or set DTG_SECRET_KEY")
    return key
