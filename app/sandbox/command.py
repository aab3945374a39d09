"""`dtg sandbox`: run the Jira sandbox and install our app into it (registered by app/cli.py)."""

from __future__ import annotations

from pathlib import Path

import click
import uvicorn

from app.sandbox.app import create_sandbox_app
from app.sandbox.config import DEFAULT_APP_URL, FaultConfig, SandboxConfig

_RATE = click.FloatRange(0, 1)


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8100, show_default=True, type=int, help="Port to listen on.")
@click.option("--base-url", default=None, help="The sandbox's public URL, if not http://HOST:PORT.")
@click.option("--app-url", default=DEFAULT_APP_URL, show_default=True, help="Our app's base URL (or descriptor URL).")
@click.option(
    "--install/--no-install",
    default=True,
    show_default=True,
    help="Install the app once its descriptor answers (retrying for 30 s).",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep installations and issues in this folder across restarts.",
)
@click.option("--project-key", default="DTG", show_default=True, help="Key of the sandbox project.")
@click.option("--rate-limit", type=float, default=None, help="REST requests per second per app; unset: no limit.")
@click.option("--burst", type=int, default=100, show_default=True, help="Requests allowed in a burst.")
@click.option("--error-rate", type=_RATE, default=0.0, help="Fraction of REST calls answered 500/502/503.")
@click.option("--timeout-rate", type=_RATE, default=0.0, help="Fraction of REST calls that hang.")
@click.option("--timeout-seconds", type=float, default=60.0, show_default=True, help="How long a hang lasts.")
@click.option(
    "--drop-after-create-rate",
    type=_RATE,
    default=0.0,
    help="Fraction of create calls that create the issues but lose the answer.",
)
@click.option(
    "--drop-mode",
    type=click.Choice(["disconnect", "error"]),
    default="disconnect",
    show_default=True,
    help="Lose the answer by cutting the connection or by a 502.",
)
@click.option("--latency-ms", type=int, default=0, help="Delay added to every REST call.")
@click.option("--search-lag-ms", type=int, default=0, help="How long a new issue stays invisible to JQL searches.")
@click.option("--seed", type=int, default=None, help="Seed of the fault RNG, for reproducible runs.")
def sandbox_command(
    host: str,
    port: int,
    base_url: str | None,
    app_url: str,
    install: bool,
    state_dir: Path | None,
    project_key: str,
    rate_limit: float | None,
    burst: int,
    error_rate: float,
    timeout_rate: float,
    timeout_seconds: float,
    drop_after_create_rate: float,
    drop_mode: str,
    latency_ms: int,
    search_lag_ms: int,
    seed: int | None,
) -> None:
    """Run a local stand-in for Jira Cloud that installs the app as Jira does."""
    config = SandboxConfig(
        host=host,
        port=port,
        base_url=base_url,
        app_url=app_url,
        auto_install=install,
        state_dir=state_dir,
        project_key=project_key,
        rate_limit_per_second=rate_limit,
        rate_limit_burst=burst,
        faults=FaultConfig(
            error_rate=error_rate,
            timeout_rate=timeout_rate,
            timeout_seconds=timeout_seconds,
            drop_after_create_rate=drop_after_create_rate,
            drop_mode=drop_mode,
            latency_ms=latency_ms,
            search_lag_ms=search_lag_ms,
            seed=seed,
        ),
    )
    click.echo(f"Jira sandbox on {config.public_url}; start the app with")
    click.echo(f"  DTG_CONNECT_INSTALL_KEYS_URL={config.public_url}/connect-install-keys")
    click.echo(f"  DTG_ALL_JS_URL={config.public_url}/atlassian-connect/all.js")
    click.echo(f"  DTG_FRAME_ANCESTORS={config.public_url}")
    if install:
        click.echo(
            f"Installing from {config.descriptor_url} when it answers; then open "
            f"{config.public_url}/projects/{project_key}"
        )
    uvicorn.run(create_sandbox_app(config), host=host, port=port, log_level="info")
