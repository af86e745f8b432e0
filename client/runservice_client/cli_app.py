"""`runservice app`: recorded apps (APP_MODEL.md "Recorded real apps"), which the simulator serves: one
imported from DroidBot's output folder, or a run of the service exported, to explore again offline; and an
app's map: what the service's runs of it found, version by version.

Exit status as the rest of the command: 0 written, 1 the service refused or could not be reached,
2 bad usage (a folder that is not DroidBot's output among it). Errors are one line on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from runservice_client.cli_format import app_map_lines
from runservice_client.client import RunClient
from runservice_client.droidbot import NotDroidBotOutput, read_droidbot
from runservice_client.errors import RunServiceError

output_dir = click.option("-o", "--output", "out", required=True, metavar="DIR",
                          type=click.Path(file_okay=False, writable=True, path_type=Path),
                          help="The folder to write model.json (and its screens' files) into; made when missing.")


class BadInput(click.ClickException):
    exit_code = 2  # bad usage, as click's own errors; shown as one line, without the usage text


@click.group("app")
def app() -> None:
    """Recorded apps for the simulator: import DroidBot's output, or export a run; an app's map across runs."""


@app.command("import-droidbot")
@click.argument("folder", metavar="OUTPUT_DIR", type=click.Path(path_type=Path))
@output_dir
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def import_droidbot(folder: Path, out: Path, as_json: bool) -> None:
    """Turn a DroidBot output folder into a recorded app.

    DroidBot's folder (utg.js, states/, events/) becomes DIR/model.json and DIR/screens/: one screen per
    content-free state, its recorded events as transitions. What cannot be read, and
    events that are no transitions, are skipped with a warning on stderr."""
    try:
        imported = read_droidbot(folder)
    except NotDroidBotOutput as error:
        raise BadInput(str(error)) from None
    model_path = imported.write(out)
    for warning in imported.warnings:
        click.echo(f"warning: {warning}", err=True)
    summary = {"model": str(model_path), "screens": len(imported.model["screens"]),
               "transitions": len(imported.model["transitions"]), "states": imported.states,
               "events": imported.events, "warnings": imported.warnings}
    click.echo(json.dumps(summary) if as_json else
               f"wrote {model_path}: {summary['screens']} screens, {summary['transitions']} transitions "
               f"(from {imported.states} states and {imported.events} events; {len(imported.warnings)} warnings)")


@app.command()
@click.argument("run_id", metavar="RUN")
@output_dir
@click.pass_obj
def export(client: RunClient, run_id: str, out: Path) -> None:
    """Write a run as a recorded app.

    DIR/model.json, page sources and screenshots inline: the screens the run perceived and the actions
    between them, to explore again without the device."""
    try:
        model = client.app_model(run_id)
    except RunServiceError as error:
        raise click.ClickException(" ".join(str(error).split())) from None
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.json").write_text(json.dumps(model, ensure_ascii=False) + "\n")
    click.echo(f"wrote {out / 'model.json'}: {_count(model, 'screens')} screens, "
               f"{_count(model, 'transitions')} transitions")


@app.command("map")
@click.argument("package", metavar="PACKAGE")
@click.option("--json", "as_json", is_flag=True, help="Print the whole map as JSON instead.")
@click.pass_obj
def show_map(client: RunClient, package: str, as_json: bool) -> None:
    """Show what the runs of an app found, version by version.

    Its versions (oldest first) with their runs and the screens each saw, and its findings with the first
    and last version that met them. --json adds the screens and the actions with their outcomes per version."""
    try:
        app_map = client.app_map(package)
    except RunServiceError as error:
        raise click.ClickException(" ".join(str(error).split())) from None
    click.echo(json.dumps(app_map) if as_json else "\n".join(app_map_lines(app_map)))


def _count(model: dict[str, Any], key: str) -> int:
    return len(model.get(key) or ())
