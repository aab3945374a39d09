"""A site's configuration as the rest of the app uses it: tenant settings merged over the environment defaults.

Others call::

    effective_llm_config(ports, tenant_id) -> LLMConfig          # generation runs, cost estimates
    effective_status_mapping(tenant_settings, tenant_id) -> StatusMapping  # intake (the X column)
    effective_default_labels(ports, tenant_id) -> list[str]      # export: labels added to every ticket
    effective_existing_site(tenant_settings, tenant_id) -> bool  # generation: what rows marked d remove

The configure page calls `settings_view`, `save_settings` and `try_connection`. All of them are synchronous except
`try_connection`; call the others from a thread in async code (they read the database).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.db.tenant_settings import StoredSettings, TenantSettingsRepository
from app.domain.jira_limits import label_problem
from app.egress import CheckedURL, EgressPolicy, EgressRefusedError, check_url, pinned_client
from app.errors import AppError
from app.intake.model import Action
from app.intake.status import SPEC_TOOL_LEGEND, StatusMapping
from app.llm import ConnectivityResult, LLMConfig, LLMConfigError, check_connectivity
from app.llm.base import parse_provider
from app.llm.providers import PROVIDER_NAMES, PROVIDERS, provider_named
from app.offload import offload
from app.pipeline.ports import ConfigurationPorts
from app.settings import Settings

ACTIONS = tuple(str(action) for action in Action)
MAX_LABELS = 20
STATUS_CODE_MAX_LENGTH = 16
# The connectivity button should answer while the admin waits, not after the generation timeout.
CHECK_TIMEOUT_S = 20.0


class SettingsValidationError(AppError):
    """The configure form holds a value the app cannot use; the message says which and why."""


@dataclass(frozen=True)
class LLMChoice:
    """The language model part of the form; `new_api_key` is a key just typed (None keeps or drops the stored one)."""

    provider: str
    model: str = ""
    base_url: str | None = None
    new_api_key: str | None = None
    remove_api_key: bool = False

    @classmethod
    def from_json(cls, body: object) -> LLMChoice:
        """Raises: SettingsValidationError with a message the admin can act on."""
        body = _object(body)
        provider = _text(body, "provider")
        named = provider_named(provider)
        if named is None:
            raise SettingsValidationError(
                f"Unknown language model provider {provider!r}: choose one of {', '.join(PROVIDER_NAMES)}."
            )
        model = _text(body, "model")
        if len(model) > 128:
            raise SettingsValidationError("The model name is longer than 128 characters.")
        base_url = _text(body, "baseUrl") if PROVIDERS[named].needs_base_url else ""
        if base_url and not _is_http_url(base_url):
            raise SettingsValidationError(f"The base URL {base_url!r} is not an http:// or https:// address.")
        api_key = _text(body, "apiKey")
        if len(api_key) > 512 or any(c.isspace() for c in api_key):
            raise SettingsValidationError("The API key looks wrong: it has spaces or is longer than 512 characters.")
        remove = body.get("removeApiKey", False)
        if not isinstance(remove, bool):
            raise SettingsValidationError("removeApiKey must be true or false.")
        # The offline writer has no model, endpoint or key: keep nothing that suggests otherwise.
        if provider == "offline":
            return cls(provider, remove_api_key=True)
        return cls(provider, model, base_url or None, api_key or None, remove)


@dataclass(frozen=True)
class SettingsForm:
    llm: LLMChoice
    status_mapping: dict[str, str]
    default_labels: list[str]
    existing_site: bool = False

    @classmethod
    def from_json(cls, body: object) -> SettingsForm:
        """Raises: SettingsValidationError with a message the admin can act on."""
        body = _object(body)
        existing = body.get("existingSite", False)
        if not isinstance(existing, bool):
            raise SettingsValidationError("existingSite must be true or false.")
        return cls(
            LLMChoice.from_json(body),
            _status_mapping(body.get("statusMapping")),
            _labels(body.get("labels")),
            existing,
        )


@dataclass(frozen=True)
class SettingsView:
    """What the configure page shows. It never holds the key, only whether one is stored."""

    provider: str
    model: str
    base_url: str | None
    api_key_stored: bool
    server_key_applies: bool
    status_mapping: list[tuple[str, str]]
    default_labels: list[str]
    existing_site: bool
    updated_by: str | None
    updated_at: datetime | None
    configured: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "baseUrl": self.base_url,
            "apiKeyStored": self.api_key_stored,
            "serverKeyApplies": self.server_key_applies,
            "statusMapping": [{"status": code, "action": action} for code, action in self.status_mapping],
            "labels": self.default_labels,
            "existingSite": self.existing_site,
            "updatedBy": self.updated_by,
            "updatedAt": self.updated_at.isoformat() if self.updated_at else None,
            "configured": self.configured,
        }


def effective_llm_config(ports: ConfigurationPorts, tenant_id: int) -> LLMConfig:
    """The tenant's provider, or the environment's while its admin configured none.

    Raises: LLMConfigError when the result is incomplete (e.g. the environment names a provider without a key).
    """
    stored = ports.tenant_settings.get(tenant_id)
    if not stored.configured:
        return _llm_config(ports.settings, ports.settings.llm_provider)
    key = ports.tenant_settings.api_key(tenant_id) if stored.has_api_key else None
    return _llm_config(ports.settings, stored.provider, stored.model, stored.base_url, key)


def effective_status_mapping(tenant_settings: TenantSettingsRepository, tenant_id: int) -> StatusMapping:
    """The X column mapping the admin set, or the Drupal Spec Tool legend."""
    stored = tenant_settings.get(tenant_id).status_mapping
    return StatusMapping({code: Action(action) for code, action in stored.items()}) if stored else StatusMapping()


def effective_default_labels(ports: ConfigurationPorts, tenant_id: int) -> list[str]:
    """Labels the export adds to every ticket."""
    return ports.tenant_settings.get(tenant_id).default_labels


def effective_existing_site(tenant_settings: TenantSettingsRepository, tenant_id: int) -> bool:
    """Whether the admin said the spec describes an existing site (rows marked d are removal work wherever they are);
    False, a new build, until an admin says so."""
    return tenant_settings.get(tenant_id).existing_site


def settings_view(ports: ConfigurationPorts, tenant_id: int) -> SettingsView:
    return _view(ports.settings, ports.tenant_settings.get(tenant_id))


def save_settings(
    ports: ConfigurationPorts, *, tenant_id: int, account_id: str | None, form: SettingsForm
) -> SettingsView:
    """Validate and store the form, and record who changed what (never the key) in the audit trail.

    Raises: LLMConfigError (400) when the provider lacks a model, key or base URL; EgressRefusedError (400) when
    the base URL points somewhere the app does not call.
    """
    stored = ports.tenant_settings.get(tenant_id)
    choice = form.llm
    # Refuses a provider that could not run, or an endpoint the app must not call, before anything is stored.
    tenant_endpoint(ports.settings, _build(ports, tenant_id, stored, choice))
    # A key belongs to its provider and endpoint: switching either without a new key forgets the old one.
    remove_key = choice.remove_api_key or (not _same_endpoint(stored, choice) and not choice.new_api_key)
    saved = ports.tenant_settings.save(
        tenant_id,
        provider=choice.provider,
        model=choice.model,
        base_url=choice.base_url,
        status_mapping=form.status_mapping,
        default_labels=form.default_labels,
        existing_site=form.existing_site,
        updated_by=account_id,
        new_api_key=choice.new_api_key,
        remove_api_key=remove_key,
    )
    key_change = "replaced" if choice.new_api_key else "removed" if remove_key and stored.has_api_key else "kept"
    detail = {
        "provider": saved.provider,
        "model": saved.model,
        "base_url": saved.base_url,
        "api_key": key_change,
        "status_mapping": saved.status_mapping,
        "default_labels": saved.default_labels,
        "existing_site": saved.existing_site,
    }
    ports.audit.record(tenant_id=tenant_id, session_id=None, account_id=account_id, action="configured", detail=detail)
    return _view(ports.settings, saved)


async def try_connection(
    ports: ConfigurationPorts, http: httpx.AsyncClient, *, tenant_id: int, choice: LLMChoice
) -> ConnectivityResult:
    """One tiny call with the form's provider and the key just typed, else the stored one; never raises.

    A base URL the tenant typed is called only through the egress guard (`app.egress`), whose refusal is the answer.
    """
    stored = await offload(ports.tenant_settings.get, tenant_id)
    try:
        config = dataclasses.replace(await offload(_build, ports, tenant_id, stored, choice), timeout_s=CHECK_TIMEOUT_S)
        guarded = await offload(guarded_http_client, ports.settings, config)
    except (LLMConfigError, EgressRefusedError) as exc:
        return ConnectivityResult(False, exc.message)
    if guarded is None:
        return await check_connectivity(config, http)
    async with guarded:
        return await check_connectivity(config, guarded)


def tenant_endpoint(settings: Settings, config: LLMConfig) -> CheckedURL | None:
    """The checked base URL of `config` when a tenant typed it; None for a vendor's own endpoint or the operator's
    `DTG_LLM_BASE_URL`, which need no guard.

    Blocking (it resolves the host): call it from a thread in async code.
    Raises: EgressRefusedError.
    """
    if config.base_url is None or config.base_url == settings.llm_base_url:
        return None
    return check_url(config.base_url, EgressPolicy(settings.llm_allow_http, settings.allowed_llm_hosts))


def guarded_http_client(settings: Settings, config: LLMConfig) -> httpx.AsyncClient | None:
    """The HTTP client for `tenant_endpoint`, pinned to its checked address (the caller closes it), or None.

    Blocking, like `tenant_endpoint`. Raises: EgressRefusedError.
    """
    target = tenant_endpoint(settings, config)
    return None if target is None else pinned_client(target, timeout=config.timeout_s)


def _build(ports: ConfigurationPorts, tenant_id: int, stored: StoredSettings, choice: LLMChoice) -> LLMConfig:
    """The config the choice would run with: the key typed, else the stored one, but only towards the provider and
    base URL it was saved with (otherwise "Test connection" would hand the stored key to any URL an admin types)."""
    key = choice.new_api_key
    if key is None and stored.has_api_key and not choice.remove_api_key and _same_endpoint(stored, choice):
        key = ports.tenant_settings.api_key(tenant_id)
    return _llm_config(ports.settings, choice.provider, choice.model, choice.base_url, key)


def _same_endpoint(stored: StoredSettings, choice: LLMChoice) -> bool:
    return stored.provider == choice.provider and (stored.base_url or None) == (choice.base_url or None)


def _llm_config(
    settings: Settings, provider: str, model: str = "", base_url: str | None = None, api_key: str | None = None
) -> LLMConfig:
    """Fill what the tenant left empty from the environment, but only for the provider the environment names and
    only towards the environment's own endpoint: the operator's key must never be sent to Anthropic, or to a base
    URL a tenant's admin typed (that would hand the key to whoever runs that URL)."""
    same = provider == settings.llm_provider
    own_endpoint = same and (base_url or None) in (None, settings.llm_base_url)
    return LLMConfig(
        provider=parse_provider(provider),
        model=model or (settings.llm_model if same else ""),
        api_key=api_key or (settings.llm_api_key if own_endpoint else None),
        base_url=base_url or (settings.llm_base_url if same else None),
        concurrency=settings.llm_concurrency,
    )


def _view(settings: Settings, stored: StoredSettings) -> SettingsView:
    provider = stored.provider if stored.configured else settings.llm_provider
    mapping = stored.status_mapping or {code: str(action) for code, action in SPEC_TOOL_LEGEND.items()}
    return SettingsView(
        provider=provider,
        model=stored.model if stored.configured else settings.llm_model,
        base_url=stored.base_url if stored.configured else settings.llm_base_url,
        api_key_stored=stored.has_api_key,
        server_key_applies=bool(settings.llm_api_key) and provider == settings.llm_provider,
        status_mapping=list(mapping.items()),
        default_labels=stored.default_labels,
        existing_site=stored.existing_site,
        updated_by=stored.updated_by,
        updated_at=stored.updated_at,
        configured=stored.configured,
    )


def _object(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SettingsValidationError("Send the settings as a JSON object.")
    return body


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SettingsValidationError(f"{name} must be text.")
    return value.strip()


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _status_mapping(rows: object) -> dict[str, str]:
    """`[{"status": "a", "action": "build"}, …]` -> {"a": "build"}; codes are matched trimmed and lower-case."""
    if not isinstance(rows, list) or not rows:
        raise SettingsValidationError("The status mapping needs at least one status and its action.")
    mapping: dict[str, str] = {}
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("status", ""), str):
            raise SettingsValidationError('Each status mapping row must look like {"status": "a", "action": "build"}.')
        code, action = row.get("status", "").strip().lower(), row.get("action")
        shown = f"status {code!r}" if code else "a blank status"
        if len(code) > STATUS_CODE_MAX_LENGTH:
            raise SettingsValidationError(f"The status {code!r} is longer than {STATUS_CODE_MAX_LENGTH} characters.")
        if code in mapping:
            raise SettingsValidationError(f"The mapping lists {shown} twice (statuses are matched ignoring case).")
        if action not in ACTIONS:
            raise SettingsValidationError(f"Unknown action {action!r} for {shown}: choose one of {', '.join(ACTIONS)}.")
        mapping[code] = str(action)
    return mapping


def _labels(value: object) -> list[str]:
    """Labels Jira takes (`label_problem`); duplicates dropped."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(label, str) for label in value):
        raise SettingsValidationError("labels must be a list of text.")
    labels: list[str] = []
    for label in (raw.strip() for raw in value):
        if (problem := label_problem(label)) is not None:
            raise SettingsValidationError(problem)
        if label and label not in labels:
            labels.append(label)
    if len(labels) > MAX_LABELS:
        raise SettingsValidationError(f"At most {MAX_LABELS} default labels, please ({len(labels)} given).")
    return labels
