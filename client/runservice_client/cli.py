"""`runservice`: the run service from a shell, one function per verb over RunClient.

Exit status: 0 done (for a run followed to its end: it completed), 1 the service refused the
request or could not be reached (one line on stderr), 2 bad usage, 3 the run failed, 4 it was canceled,
5 the run followed to its end (`start --wait --fail-on KINDS`) has findings of those kinds (before 3 and 4);
with `new` among KINDS, only findings no earlier run of the app met count.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from runservice_client.cli_app import app
from runservice_client.cli_format import event_line, findings_line, findings_table, run_lines, runs_table
from runservice_client.client import RunClient
from runservice_client.errors import RunServiceError
from runservice_client.models import NEW, Findings, Run, fail_on_kinds

EXIT_FOR_STATUS = {"completed": 0, "failed": 3, "canceled": 4}
EXIT_FINDINGS = 5  # the run has findings of a kind --fail-on names, whatever its status
as_json = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")
run_argument = click.argument("run_id", metavar="RUN")


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """A refused request or an unreachable service is one line on stderr and exit status 1, never a traceback."""
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except RunServiceError as error:
            raise click.ClickException(one_line(error)) from None
    return wrapper


def one_line(error: RunServiceError) -> str:
    problems = error.details if isinstance(error.details, list) else []
    named = "; ".join(f"{p['field']}: {p['problem']}" for p in problems if isinstance(p, dict) and "field" in p)
    text = f"{error.message} ({named})" if named else error.message
    head = f"{error.status} {error.code}" if error.status else error.code
    return " ".join(f"{head}: {text}".split())


def emit(data: Any) -> None:
    click.echo(json.dumps(data, default=str))


def finish(run: Run, as_json: bool, findings: Findings | None = None, fail_on: tuple[str, ...] = ()) -> None:
    """The finished run (and its findings, when asked for), then the exit status that says how it went."""
    failing = Findings(findings or ()).failing(fail_on)
    if as_json:
        emit(run if findings is None else {**run, "findings": findings})
    else:
        click.echo(f"{run.status}: {run.stop_reason}")
        if findings is not None:
            new = "new " if NEW in fail_on else ""  # --fail-on crash,new: "(fail on new crash 1)"
            counts = ", ".join(f"{new}{kind} {n}" for kind, n in failing.by_kind().items())
            verdict = f" (fail on {counts})" if failing else ""
            click.echo(findings_line(findings.by_kind()) + verdict)
    sys.exit(EXIT_FINDINGS if failing else EXIT_FOR_STATUS.get(run.status or "", 1))


def write_out(output: str, content: str) -> None:
    """Text to a file (and "wrote FILE" on stderr), or to stdout for -."""
    with click.open_file(output, "w") as out:
        out.write(content if content.endswith("\n") else content + "\n")
    if output != "-":
        click.echo(f"wrote {output}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", envvar="RUNSERVICE_URL", default="http://127.0.0.1:8000", show_default=True,
              show_envvar=True, callback=lambda _, __, url: http_url(url), help="Where the run service answers.")
@click.option("--api-key", envvar="RUNSERVICE_API_KEY", show_envvar=True, help="Sent as Authorization: Bearer.")
@click.pass_context
def main(ctx: click.Context, url: str, api_key: str | None) -> None:
    """Start, watch, pause and inspect exploration runs of the run service."""
    ctx.obj = ctx.with_resource(RunClient(url, api_key))


def http_url(url: str) -> str:
    if not url.startswith(("http://", "https://")) or not url.partition("://")[2].strip("/"):
        raise click.BadParameter(f"expected an http(s) URL, got {url!r}", param_hint="'--url'")
    return url


def key_value(_: Any, __: Any, values: tuple[str, ...]) -> dict[str, str]:
    pairs = [value.partition("=") for value in values]
    if bad := [key for key, sep, _ in pairs if not sep or not key]:
        raise click.BadParameter(f"expected KEY=VALUE, got {bad[0]!r}")
    return {key: value for key, _, value in pairs}


def capability_values(_: Any, __: Any, values: tuple[str, ...]) -> dict[str, Any]:
    """KEY=JSON pairs: the value parsed as JSON (3, true, {"serverCrashAfter": 150}, "5554"), else taken as the
    plain string it is (emulator-5554). A key given twice keeps its last value."""
    pairs = [value.partition("=") for value in values]
    if bad := [key for key, sep, _ in pairs if not sep or not key]:
        raise click.BadParameter(f"expected KEY=JSON, got {bad[0]!r}")
    return {key: json_or_text(value) for key, _, value in pairs}


def json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def finding_kinds(_: Any, __: Any, value: str | None) -> tuple[str, ...]:
    try:
        return fail_on_kinds(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@main.command()
@click.option("--apk", required=True, help="The app: an APK (or a simulator model) path on the Appium host.")
@click.option("--appium", required=True, help="URL of the Appium server that drives the device.")
@click.option("--package", help="The app's package name, e.g. com.example.notes (an .apk's manifest has it).")
@click.option("--activity", help="The activity to launch, e.g. .MainActivity (an .apk's default: its launchable one).")
@click.option("--max-steps", type=int, help="Step budget (1..1000; the service's default is 50).")
@click.option("--goal", help="Stop when a screen shows this.")
@click.option("--input", "inputs", multiple=True, callback=key_value, metavar="KEY=VALUE",
              help="Text to type into a field (by id, hint or content-desc); repeatable.")
@click.option("--policy", help="What chooses each action: dfs (the service's default), random, llm, "
              "or a plug-in installed on the service.")
@click.option("--permissions", type=click.Choice(["grant", "deny"]),
              help="How the agent answers Android's permission dialogs (the service's default: grant).")
@click.option("--avoid", "avoid", multiple=True, metavar="PATTERN",
              help="An element never acted on: id/<name> (its resource id's name) or text:<regex> (its text or "
              "content-desc, in full, ignoring case); repeatable, at most 50.")
@click.option("--capability", "capabilities", multiple=True, callback=capability_values, metavar="KEY=JSON",
              help="An Appium capability added to the run's session, e.g. appium:udid=emulator-5554 or "
              "'appium:simFaults={\"serverCrashAfter\": 150}': the value is parsed as JSON, else taken as a string; "
              "a W3C name or vendor-prefixed (appium:), not one the run sets; repeatable, at most 50.")
@click.option("--warm", is_flag=True, help="Begin from what earlier runs of the app found (memory warm): their "
              "screens, and their crashes and ANRs replayed to see which are fixed; get shows the version, what was "
              "known from memory and what is fixed.")
@click.option("--idempotency-key", help="Starting again with the same key answers the same run.")
@click.option("--wait", is_flag=True, help="Show a progress bar until the run ends; exit 0 only if it completed.")
@click.option("--fail-on", callback=finding_kinds, metavar="KINDS",
              help="With --wait: exit 5 if the run found any of these kinds (comma-separated: crash, anr, "
              "accessibility, new), and print its findings by kind. new counts only findings no earlier run of the "
              "app met: new alone fails on any new finding, crash,new on new crashes.")
@as_json
@click.pass_obj
@reports_errors
def start(client: RunClient, apk: str, appium: str, package: str | None, activity: str | None,
          max_steps: int | None, goal: str | None, inputs: dict[str, str], policy: str | None,
          permissions: str | None, avoid: tuple[str, ...], capabilities: dict[str, Any],
          warm: bool, idempotency_key: str | None, wait: bool,
          fail_on: tuple[str, ...], as_json: bool) -> None:
    """Start a run and print its id."""
    if fail_on and not wait:
        raise click.UsageError("--fail-on needs --wait: the findings are known once the run ends")
    apk = apk if "://" in apk or os.path.isabs(apk) else os.path.abspath(apk)  # the service wants absolute paths
    run = client.start(apk, appium, package, activity, max_steps, goal, inputs or None, idempotency_key, policy,
                       permissions, list(avoid) or None, capabilities or None, memory="warm" if warm else "cold")
    if not wait:
        return emit(run) if as_json else click.echo(run.id)
    if not as_json:
        click.echo(run.id)
    finished = client.wait(run.id, progress=not as_json)
    finish(finished, as_json, client.findings(run.id) if fail_on else None, fail_on)


@main.command()
@run_argument
@click.option("--after", type=int, default=0, show_default=True, help="Only the events after this sequence number.")
@as_json
@click.pass_obj
@reports_errors
def watch(client: RunClient, run_id: str, after: int, as_json: bool) -> None:
    """Print the run's events until it ends; exit like start --wait."""
    last = None
    for last in client.events(run_id, after):
        click.echo(json.dumps({"seq": last.seq, "event": last.name, "data": last.data}) if as_json
                   else event_line(last))
    sys.exit(EXIT_FOR_STATUS.get(last.name.removeprefix("run.") if last else "", 1))


@main.command("ls")
@click.option("--status", type=click.Choice(["queued", "running", "paused", "completed", "failed", "canceled"]))
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@as_json
@click.pass_obj
@reports_errors
def list_runs(client: RunClient, status: str | None, limit: int, as_json: bool) -> None:
    """List runs, newest first."""
    rows = list(client.runs(status=status, limit=limit))
    if as_json:
        return emit(rows)
    click.echo(runs_table(rows))


@main.command()
@run_argument
@as_json
@click.pass_obj
@reports_errors
def get(client: RunClient, run_id: str, as_json: bool) -> None:
    """Show a run's state, its policy, how it answers permission dialogs, what it avoids, the extra capabilities
    of its session (capabilities.KEY: JSON), its app's version, its memory (cold or warm; a warm run's fixed
    crashes and ANRs and its drift from the previous version), its metrics once it finished (a warm run's
    knownFromMemory among them), and its calls to a language model (requests, tokens, fallbacks by reason) so far."""
    run = client.get(run_id)
    usage = client.llm_usage(run_id)
    click.echo(json.dumps({**run, "llm": usage}, default=str) if as_json else "\n".join(run_lines(run, usage)))


def run_command(verb: str, help_text: str) -> None:
    @main.command(verb, help=help_text)
    @run_argument
    @as_json
    @click.pass_obj
    @reports_errors
    def command(client: RunClient, run_id: str, as_json: bool) -> None:
        answer = getattr(client, verb)(run_id)
        click.echo(json.dumps(answer) if as_json else f"{answer['runId']} {answer['status']}")


run_command("cancel", "Cancel a run: a queued one at once, a running one at its next node.")
run_command("pause", "Pause a run: it frees its device; resume continues it where it stopped.")
run_command("resume", "Queue a paused run again; it continues with the same steps and screen graph.")


@main.command()
@run_argument
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default="-", show_default=True,
              help="Where to write the picture (SVG); - is stdout.")
@as_json
@click.pass_obj
@reports_errors
def graph(client: RunClient, run_id: str, output: str, as_json: bool) -> None:
    """Write the run's screen graph as SVG (or print it as JSON with --json)."""
    write_out(output, json.dumps(client.graph(run_id)) if as_json else client.graph_svg(run_id))


@main.command()
@run_argument
@click.option("--test", "test_of", metavar="FINDING", help="Write that crash's or ANR's test.py instead: a pytest "
              "test that replays its path with Appium-Python-Client and fails while the bug is there.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default="-", show_default=True,
              help="Where to write the list or the test; - is stdout.")
@as_json
@click.pass_obj
@reports_errors
def findings(client: RunClient, run_id: str, test_of: str | None, output: str, as_json: bool) -> None:
    """List what broke in the run (crashes, ANRs, accessibility problems), each NEW or known since the version an
    earlier run met it in (HISTORY), or write one finding's test."""
    if test_of and as_json:
        raise click.UsageError("--json lists the findings; --test writes a test file: choose one")
    if test_of:
        return write_out(output, client.finding_test(run_id, test_of))
    found = client.findings(run_id)
    write_out(output, json.dumps(found) if as_json else findings_table(found))


@main.command()
@run_argument
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default="-", show_default=True,
              help="Where to write the report; - is stdout.")
@click.pass_obj
@reports_errors
def report(client: RunClient, run_id: str, output: str) -> None:
    """Write the run as JUnit XML for CI: a failing testcase per crash or ANR, one per accessibility rule."""
    write_out(output, client.report(run_id))


@main.command()
@click.argument("base", metavar="BASE_RUN")
@click.argument("head", metavar="HEAD_RUN")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Also write the picture of the difference (SVG) here.")
@click.pass_obj
@reports_errors
def diff(client: RunClient, base: str, head: str, output: str | None) -> None:
    """Compare the screen graphs of two runs (JSON)."""
    emit(client.diff(base, head))
    if output:
        with open(output, "w") as out:
            out.write(client.diff_svg(base, head))


main.add_command(app)  # `runservice app import-droidbot | export | map` (cli_app.py)
