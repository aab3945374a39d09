"""`dtg generate`: intake and ticket generation in process, tickets written as JSON. Registered by app/cli.py."""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from pathlib import Path

import click

from app.generation.generate import GenerationResult, draft_tickets, generate_tickets
from app.intake import Severity, UploadedFile, intake_files
from app.intake.command import _parse_types
from app.llm import LLMConfig, LLMConfigError, build_writer
from app.llm.base import parse_provider
from app.llm.providers import DEFAULT_PROVIDER, PROVIDER_NAMES, PROVIDERS


@click.command("generate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    default="tickets.json",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the tickets (JSON); '-' for standard output.",
)
@click.option(
    "--provider",
    type=click.Choice(PROVIDER_NAMES),
    default=DEFAULT_PROVIDER,
    show_default=True,
    help="Who writes the user stories and success criteria.",
)
@click.option("--model", default="", help="The model name (required for every provider but offline).")
@click.option(
    "--api-key-env",
    default=None,
    metavar="VAR",
    help="Environment variable holding the API key (default OPENAI_API_KEY or ANTHROPIC_API_KEY).",
)
@click.option("--base-url", default=None, help="Base URL of an OpenAI-compatible endpoint.")
@click.option("--site-name", default="", help="The site's name, for the writer.")
@click.option("--site-description", default="", help="One line about the site, for the writer.")
@click.option("--type", "types", multiple=True, metavar="FILE=TYPE", help="Set the type of a file (repeatable).")
@click.option(
    "--existing-site",
    is_flag=True,
    help="The spec describes a site that exists today: rows marked d are removal work wherever they are (the "
    "configure page's setting).",
)
def generate_command(
    files: tuple[Path, ...],
    out: Path,
    provider: str,
    model: str,
    api_key_env: str | None,
    base_url: str | None,
    site_name: str,
    site_description: str,
    types: tuple[str, ...],
    existing_site: bool,
) -> None:
    """Draft Jira tickets from spec CSV files or workbooks. Exit status: 0 written, 1 the spec has blocking findings
    or gives no ticket, 2 misuse."""
    name = parse_provider(provider)  # click.Choice has checked it already
    key_variable = api_key_env or PROVIDERS[name].key_variable
    key = os.environ.get(key_variable) if key_variable else None
    try:
        config = LLMConfig(provider=name, model=model, api_key=key, base_url=base_url)
    except LLMConfigError as exc:
        raise click.UsageError(exc.message) from None
    overrides = _parse_types(types, files)
    intake = intake_files([UploadedFile(path.name, path.read_bytes()) for path in files], type_overrides=overrides)
    if intake.blocking:
        click.echo("Cannot generate tickets; these findings block:", err=True)
        for finding in intake.findings:
            if finding.severity is Severity.BLOCKING:
                click.echo(f"  {finding.file or 'upload'}: {finding.message}", err=True)
        raise SystemExit(1)
    if not draft_tickets(intake, existing_site=existing_site).drafts:
        click.echo(f"Cannot generate tickets: {intake.why_no_tickets()}", err=True)
        raise SystemExit(1)

    async def run() -> GenerationResult:
        writer = build_writer(config)
        try:
            result = await generate_tickets(
                intake,
                writer=writer,
                site_name=site_name,
                site_description=site_description,
                concurrency=config.concurrency,
                existing_site=existing_site,
            )
        finally:
            await writer.aclose()
        return result

    result = asyncio.run(run())
    _summary(result)
    data = result.to_dict()
    payload = json.dumps({k: data[k] for k in ("tickets", "findings", "usage", "cycles")}, indent=2, ensure_ascii=False)
    if str(out) == "-":
        click.echo(payload)
    else:
        out.write_text(payload + "\n", encoding="utf-8")
        click.echo(f"Wrote {out}", err=True)


def _summary(result: GenerationResult) -> None:
    """Tickets per area, findings per severity, cycles and usage, on standard error."""
    click.echo(f"{len(result.tickets)} tickets:", err=True)
    for area, count in sorted(Counter(ticket.area for ticket in result.tickets).items()):
        click.echo(f"  {area}: {count}", err=True)
    severities = Counter(str(finding.severity) for finding in result.findings)
    click.echo("Findings: " + (", ".join(f"{n} {s}" for s, n in sorted(severities.items())) or "none"), err=True)
    for cycle in result.cycles:
        click.echo(
            f"Cycle broken: {', '.join(cycle.tickets)} ({len(cycle.relates_to)} links relate instead of block)",
            err=True,
        )
    usage = result.usage
    click.echo(
        f"Usage: {usage['input_tokens']} input and {usage['output_tokens']} output tokens, "
        f"${usage['cost_usd']:.4f}, {usage['flagged']} flagged",
        err=True,
    )
