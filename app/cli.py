"""`dtg`: the command line. Thin: build Settings (and Services), call the same use cases as the web app."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from app.settings import Settings

if TYPE_CHECKING:
    from app.demo import HeadlessOptions

# Commands defined beside their library, loaded only when run: importing them pulls in the intake, generation and
# sandbox (networkx, jsonschema, uvicorn...), which `dtg --help` and the other commands never need.
# name -> (module:attribute, the one-line help `dtg --help` lists; tests/test_cli.py checks it matches the command)
LAZY_COMMANDS = {
    "generate": ("app.generation.command:generate_command", "Draft Jira tickets from spec CSV files or workbooks."),
    "sandbox": (
        "app.sandbox.command:sandbox_command",
        "Run a local stand-in for Jira Cloud that installs the app as Jira does.",
    ),
    "validate": ("app.intake.command:validate_command", "Validate spec CSV files or workbooks (.xlsx, .ods)."),
}


class LazyGroup(click.Group):
    """A group whose `LAZY_COMMANDS` are imported on first use; `--help` lists them from their declared help."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in LAZY_COMMANDS:
            return super().get_command(ctx, cmd_name)
        return load_command(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(map(len, self.list_commands(ctx)))
        rows = [
            (name, click.Command(name, help=text).get_short_help_str(limit))
            for name, (_, text) in LAZY_COMMANDS.items()
        ]
        rows += [(name, cmd.get_short_help_str(limit)) for name, cmd in self.commands.items() if not cmd.hidden]
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))


def load_command(name: str) -> click.Command:
    module_name, attribute = LAZY_COMMANDS[name][0].split(":")
    command = getattr(importlib.import_module(module_name), attribute)
    assert isinstance(command, click.Command)
    return command


@click.group(cls=LazyGroup)
@click.version_option(package_name="drupal-ticket-generator", prog_name="dtg")
def main() -> None:
    """Drupal Ticket Generator: turn a Drupal spec export into linked Jira issues."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--forwarded-allow-ips",
    default=None,
    help="Proxies whose X-Forwarded-For/-Proto headers are trusted (default: 127.0.0.1, or $FORWARDED_ALLOW_IPS).",
)
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Web processes on the one port (more than one needs DTG_REDIS_URL and PostgreSQL).",
)
def serve(host: str, port: int, forwarded_allow_ips: str | None, processes: int) -> None:
    """Run the web app (and, without DTG_REDIS_URL, a worker and the clean-up schedule in the same process)."""
    import uvicorn

    from app.launch import web_app
    from app.logs import configure_logging

    settings = Settings.from_env()
    if processes > 1 and (not settings.redis_url or settings.is_sqlite):
        # Each process caches tenants and runs no worker of its own only when Redis tells them all of a change.
        raise click.UsageError("--processes above 1 needs DTG_REDIS_URL and a PostgreSQL DTG_DATABASE_URL.")
    configure_logging(settings, default_format="json")
    click.echo(f"Drupal Ticket Generator on http://{host}:{port} (public URL {settings.base_url})", err=True)
    uvicorn.run(
        # uvicorn starts each of several processes by importing the app's factory.
        web_app(settings) if processes == 1 else "app.launch:web_process",
        factory=processes > 1,
        workers=processes,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        log_config=None,  # app.logs configured the handlers: JSON lines, secrets redacted
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
    )


@main.command()
@click.option("--port", default=8000, show_default=True, type=int, help="Port of the app.")
@click.option("--sandbox-port", default=8100, show_default=True, type=int, help="Port of the Jira sandbox.")
@click.option(
    "--headless",
    is_flag=True,
    help="Run the whole flow on a spec without a browser, print a summary, exit 1 if anything failed.",
)
@click.option(
    "--spec",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder of spec CSV exports for --headless (default: the UWEC sample in ../shared).",
)
@click.option(
    "--project",
    default="DTG",
    show_default=True,
    help="Sandbox project for --headless: DTG (company-managed), TEAM (team-managed) or REQ (required fields).",
)
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="ID=VALUE",
    help="A value for a field the project requires (as the admin sets on the configure page), e.g. "
    "customfield_10050=Web. Repeatable.",
)
@click.option("--dry-run", is_flag=True, help="With --headless: print each create request, export nothing.")
@click.option(
    "--revise",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="With --headless: after the export, apply this folder (CSV files or a workbook) as the spec's revision "
    "and print the plan's and the result's counts.",
)
@click.option(
    "--forge",
    is_flag=True,
    help="Through the Forge front: the sandbox installs the Forge app and frames its Custom UI (built first).",
)
def demo(
    port: int,
    sandbox_port: int,
    headless: bool,
    spec: Path | None,
    project: str,
    fields: tuple[str, ...],
    dry_run: bool,
    revise: Path | None,
    forge: bool,
) -> None:
    """Run the app and the Jira sandbox together, install the app, and print where to open it."""
    import asyncio

    if headless:
        from app.demo import HeadlessOptions

        options = HeadlessOptions(
            project_key=project.upper(),
            field_defaults=dict(_field_value(f) for f in fields),
            dry_run=dry_run,
            revise_dir=revise,
            forge=forge,
        )
        _headless_demo(port, sandbox_port, spec, options)
        return
    if spec is not None or dry_run or fields or project != "DTG" or revise is not None:
        raise click.UsageError("--spec, --project, --field, --dry-run and --revise go with --headless.")

    from app.launch import serve_demo

    def ready(url: str | None) -> None:
        if url is None:
            click.echo("The sandbox could not install the app; see the log above.", err=True)
        else:
            click.echo(f"\nDrupal Ticket Generator is installed in the Jira sandbox. Open:\n\n    {url}\n")
            click.echo("Press Ctrl+C to stop.")

    if forge:
        from app.forge.custom_ui import CustomUIBuildError, build

        try:
            build()
        except CustomUIBuildError as exc:
            raise click.ClickException(exc.message) from exc
    asyncio.run(serve_demo(app_port=port, sandbox_port=sandbox_port, on_ready=ready, forge=forge))


def _field_value(option: str) -> tuple[str, str]:
    field_id, equals, value = option.partition("=")
    if not equals or not field_id.strip():
        raise click.BadParameter(f"{option!r} is not ID=VALUE", param_hint="--field")
    return field_id.strip(), value.strip()


def _headless_demo(port: int, sandbox_port: int, spec: Path | None, options: HeadlessOptions) -> None:
    import asyncio
    import tempfile

    from app.demo import default_spec_dir, run_headless

    spec_dir = spec or default_spec_dir()
    if spec_dir is None:
        raise click.UsageError("The UWEC sample is not at ../shared/sample_data/uwec; pass --spec DIR.")
    environ = dict(os.environ)
    with contextlib.ExitStack() as cleanup:
        if not environ.get("DTG_DATA_DIR"):  # a throwaway database, so the demo leaves nothing behind
            environ["DTG_DATA_DIR"] = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="dtg-demo-"))
        report = asyncio.run(
            run_headless(
                environ,
                app_port=port,
                sandbox_port=sandbox_port,
                spec_dir=spec_dir,
                echo=click.echo,
                options=options,
            )
        )
    for line in report.lines():
        click.echo(line)
    sys.exit(0 if report.ok else 1)


@main.command(context_settings={"ignore_unknown_options": True})
@click.option("--processes", default=2, show_default=True, type=int, help="Worker processes.")
@click.option("--threads", default=None, type=int, help="Threads per process (default DTG_WORKER_THREADS).")
def worker(processes: int, threads: int | None) -> None:
    """Run Dramatiq worker processes on the Redis broker (DTG_REDIS_URL)."""
    settings = Settings.from_env()
    if not settings.redis_url:
        raise click.UsageError("DTG_REDIS_URL is not set: without Redis, `dtg serve` runs its own worker.")
    threads = threads or settings.worker_threads
    args = [sys.executable, "-m", "dramatiq", "workers.entry", "--processes", str(processes), "--threads", str(threads)]
    os.execv(sys.executable, args)


@main.command()
def scheduler() -> None:
    """Enqueue the clean-up every hour (run one per deployment); without DTG_REDIS_URL, run it in this process."""
    from app.launch import run_scheduler
    from app.logs import configure_logging

    settings = Settings.from_env()
    configure_logging(settings, default_format="json")
    run_scheduler(settings)


@main.command("check-worker")
@click.option("--timeout", default=20.0, show_default=True, help="Seconds to wait for a worker.")
def check_worker(timeout: float) -> None:
    """Send a ping through the broker and wait until a worker has handled it."""
    from app.container import build_services
    from app.pipeline.workers_check import request_ping, wait_for_ping
    from workers.broker import configure_broker
    from workers.queue import DramatiqJobQueue

    settings = Settings.from_env()
    if not settings.redis_url:
        raise click.UsageError("DTG_REDIS_URL is not set: the embedded worker runs inside `dtg serve`.")
    services = build_services(settings, DramatiqJobQueue(configure_broker(settings)))
    task_id = request_ping(services.tasks, services.jobs, tenant_id=None)
    if not wait_for_ping(services.tasks, task_id, timeout=timeout):
        click.echo(f"No worker answered within {timeout:g} s. Is `dtg worker` running?", err=True)
        sys.exit(1)
    click.echo("A worker answered.")


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    from app.db.migrate import upgrade

    upgrade(Settings.from_env().database_url, revision)
    click.echo(f"Database at {revision}.")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Roll migrations back to REVISION (`base` empties the database)."""
    from app.db.migrate import downgrade

    downgrade(Settings.from_env().database_url, revision)
    click.echo(f"Database at {revision}.")


@main.command("forge-manifest")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the manifest here (default: print it).",
)
def forge_manifest(output: Path | None) -> None:
    """Write the Forge manifest for this deployment (DTG_BASE_URL as the remote, DTG_FORGE_APP_ID as app.id)."""
    from app.forge.manifest import ManifestSettingsError, manifest_text, render_manifest

    settings = Settings.from_env()
    try:
        text = manifest_text(render_manifest(base_url=settings.base_url, app_id=settings.forge_app_id))
    except ManifestSettingsError as exc:
        raise click.ClickException(exc.message) from exc
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Forge manifest written to {output}.", err=True)


@main.command("forge-ui")
def forge_ui() -> None:
    """Build the Forge Custom UI resources the manifest names (build/forge-ui/...; needs npm, nothing from a CDN)."""
    from app.forge.custom_ui import CustomUIBuildError, build

    try:
        built = build()
    except CustomUIBuildError as exc:
        raise click.ClickException(exc.message) from exc
    for resource in built:
        click.echo(f"{resource.key}: {resource.folder}")


if __name__ == "__main__":
    main()
