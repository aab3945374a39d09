"""`dtg validate`: the intake as a command. Registered on the main group by app/cli.py."""

from __future__ import annotations

import json
from pathlib import Path

import click

from app.intake.model import SpecKind
from app.intake.pipeline import intake_files
from app.intake.reading import UploadedFile, is_workbook
from app.intake.report import render_text
from app.intake.workbook import tab_name


def _parse_types(values: tuple[str, ...], files: tuple[Path, ...]) -> dict[str, SpecKind]:
    known_names = {path.name: path.name for path in files} | {str(path): path.name for path in files}
    overrides: dict[str, SpecKind] = {}
    for value in values:
        name, sep, kind = value.rpartition("=")
        # A workbook's tab is named "<workbook> [<tab>]", as the report shows it.
        workbook, bracket, tab = name.partition(" [")
        if bracket and tab.endswith("]") and is_workbook(workbook) and workbook in known_names:
            name = tab_name(known_names[workbook], tab[:-1])
            known_names[name] = name
        if not sep or name not in known_names:
            raise click.BadParameter(
                f"{value!r}: expected FILE=TYPE (or 'WORKBOOK [TAB]=TYPE') with FILE one of the given files.",
                param_hint="--type",
            )
        try:
            overrides[known_names[name]] = SpecKind(kind.strip().lower())
        except ValueError:
            choices = ", ".join(k.value for k in SpecKind)
            raise click.BadParameter(f"unknown type {kind!r}; one of: {choices}.", param_hint="--type") from None
    return overrides


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the detected files and the findings as JSON.")
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="FILE=TYPE",
    help="Set the type of a file, or of a workbook's tab as 'book.xlsx [Tab]=TYPE' (repeatable).",
)
def validate_command(files: tuple[Path, ...], as_json: bool, types: tuple[str, ...]) -> None:
    """Validate spec CSV files or workbooks (.xlsx, .ods). Exit status: 0 nothing blocks, 1 something blocks,
    2 misuse."""
    overrides = _parse_types(types, files)
    result = intake_files([UploadedFile(path.name, path.read_bytes()) for path in files], type_overrides=overrides)
    if as_json:
        click.echo(json.dumps(result.to_dict(include_model=False), indent=2, ensure_ascii=False))
    else:
        click.echo(render_text(result))
    raise SystemExit(1 if result.blocking else 0)
