"""The sandbox's configuration: where it listens, which app it installs, and how badly it behaves."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.adf.schema import SCHEMA_PATH
from app.settings import FORGE_EXAMPLE_APP_ID

DEFAULT_APP_URL = "http://127.0.0.1:8000"
DESCRIPTOR_PATH = "/atlassian-connect.json"
STATIC_DIR = Path(__file__).parent / "static"
# Where the manifest's Custom UI resource paths (build/forge-ui/...) are found: the repository root.
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class FaultConfig:
    """Injected misbehaviour of the REST API; every rate is a fraction of REST calls (0 to 1).

    Mutable on purpose: `POST /_sandbox/faults` changes it while the sandbox runs.
    """

    error_rate: float = 0.0
    timeout_rate: float = 0.0
    drop_after_create_rate: float = 0.0
    latency_ms: int = 0
    # Jira's search index trails its writes: an issue is visible to JQL only this long after it was created.
    search_lag_ms: int = 0
    # Longer than any sane client timeout, so a "timeout" fault really times the client out.
    timeout_seconds: float = 60.0
    # "disconnect": headers sent, then the connection is cut; "error": a 502 instead of the 201 body.
    drop_mode: str = "disconnect"
    seed: int | None = None

    def update(self, values: dict[str, object]) -> None:
        """Apply a partial update (from JSON), rejecting unknown names and out-of-range rates."""
        for name, value in values.items():
            if name not in self.__dataclass_fields__:
                raise ValueError(f"unknown fault setting {name!r}")
            if name.endswith("_rate") and not (isinstance(value, int | float) and 0 <= value <= 1):
                raise ValueError(f"{name} must be a number between 0 and 1")
            if name == "drop_mode" and value not in ("disconnect", "error"):
                raise ValueError("drop_mode must be 'disconnect' or 'error'")
            setattr(self, name, value)


@dataclass
class SandboxConfig:
    """Everything `create_sandbox_app` needs; the defaults suit `dtg sandbox` next to `dtg serve`."""

    host: str = "127.0.0.1"
    port: int = 8100
    # The URL our app sees as the tenant's baseUrl; defaults to http://host:port.
    base_url: str | None = None
    app_url: str = DEFAULT_APP_URL
    auto_install: bool = False
    install_wait_seconds: float = 30.0
    project_key: str = "DTG"
    project_id: str = "10000"
    project_name: str = "Drupal Site Build"
    # Off: the main project's create screen lacks "Linked issues", as on many Jira sites; links are separate calls.
    links_on_create_screen: bool = True
    cloud_id: str = "5f6e7d8c-0000-4000-8000-00000000d7a0"
    # The Forge mode's app id: the audience of the invocation tokens it signs (the app's DTG_FORGE_APP_ID).
    forge_app_id: str = FORGE_EXAMPLE_APP_ID
    # The folder the manifest's resource paths are relative to (`dtg forge-ui` builds them there).
    forge_resources_root: Path = REPO_ROOT
    # Install the Forge app (its lifecycle trigger) at start, in place of the Connect app (`dtg demo --forge`).
    forge_auto_install: bool = False
    state_dir: Path | None = None
    rate_limit_per_second: float | None = None
    rate_limit_burst: int = 100
    faults: FaultConfig = field(default_factory=FaultConfig)
    # Real Jira only answers JQL on issue properties the app indexes with a `jiraEntityProperties` module.
    require_indexed_properties: bool = True
    adf_schema_path: Path = SCHEMA_PATH

    @property
    def public_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def descriptor_url(self) -> str:
        """`app_url` itself when it names a JSON file, else the conventional descriptor path under it."""
        url = self.app_url.rstrip("/")
        return url if url.endswith(".json") else url + DESCRIPTOR_PATH
