"""The `insights` command line: worker, demo, simulate, produce and query."""

import asyncio
import logging
import math
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import orjson
import typer

from streams.compiled import StaleCompiledModuleError, refuse_stale
from streams.core.days import first_kept_day
from streams.core.requests import InvalidParameterError

app = typer.Typer(
    help="Organization Insights: distinct active users per org, product, plan and day.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
P = ParamSpec("P")
R = TypeVar("R")


def one_line_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn every expected failure into one clear line on stderr and exit status 1."""

    @wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException, KeyboardInterrupt):
            raise  # a usage error (typer.BadParameter) prints the usage and exits 2
        except Exception as error:  # the CLI boundary: everything becomes one line
            typer.echo(f"insights: error: {error}", err=True)
            raise typer.Exit(1) from None

    return run


@app.command()
@one_line_errors
def worker() -> None:
    """Run the Faust worker against INSIGHTS_KAFKA_BOOTSTRAP and INSIGHTS_REDIS_URL."""
    from insights.worker import run_worker
    from streams.settings import load_settings

    settings = load_settings()
    settings.kafka(), settings.redis()
    run_worker(settings)


@app.command()
@one_line_errors
def demo(
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port of the reader (0 picks a free one).")
    ] = 0,
    no_traffic: Annotated[bool, typer.Option("--no-traffic", help="Start idle.")] = False,
    env_file: Annotated[Path | None, typer.Option(help="Also write the settings here.")] = None,
) -> None:
    """Start an embedded broker, redis-server, worker, reader and live traffic on loopback;
    Ctrl-C (or SIGTERM) stops everything."""
    from insights.demo import run_demo

    run_demo(port=port, traffic=not no_traffic, env_file=env_file)


@app.command()
@one_line_errors
def simulate(
    out: Annotated[Path, typer.Option(help="JSONL file to write.")],
    orgs: Annotated[int, typer.Option(min=1)] = 3,
    users: Annotated[int, typer.Option(min=1, help="Users per organization.")] = 2000,
    days: Annotated[int, typer.Option(min=1)] = 30,
    seed: Annotated[int, typer.Option()] = 1,
    truth: Annotated[
        Path | None, typer.Option(help="Also write the exact expected answers.")
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="Last day YYYY-MM-DD (default yesterday, UTC).")
    ] = None,
) -> None:
    """Write realistic events (and, with --truth, the exact expected counts)."""
    from insights.progress import progress_bar
    from insights.simulation import SimulationSpec, write_jsonl
    from insights.simulation import simulate as run
    from streams.settings import load_settings

    today = datetime.now(UTC).date()
    try:
        end_day = date.fromisoformat(end) if end else today - timedelta(days=1)
    except ValueError as error:
        message = f"{end!r} is not a YYYY-MM-DD date ({error})"
        raise typer.BadParameter(message, param_hint="--end") from None
    check_days_complete(end_day, today)
    check_within_retention(end_day, days, today, load_settings().retention_days)
    spec = SimulationSpec(orgs=orgs, users=users, days=days, seed=seed, end_day=end_day)
    with progress_bar() as progress:
        result = run(spec, progress)
        written = write_jsonl(result.lines, out, progress)
    if truth is not None:
        truth.write_bytes(orjson.dumps(result.truth))
    typer.echo(f"wrote {written} lines to {out}" + (f", truth to {truth}" if truth else ""))


def check_days_complete(end_day: date, today: date) -> None:
    """Refuse today or later: the simulation fills whole days, the worker rejects events more
    than 5 minutes ahead, and the truth file would call a day complete that is still going on."""
    if end_day >= today:
        raise typer.BadParameter(
            f"{end_day} is not over yet (today is {today}, UTC): the simulation writes whole days, "
            f"so the last one can be {today - timedelta(days=1)} at the latest",
            param_hint="--end",
        )


def check_within_retention(end_day: date, days: int, today: date, retention_days: int) -> None:
    """Refuse a simulation reaching past the days the service keeps: the worker rejects those
    events as too old, so the truth file would promise counts no query can show."""
    oldest_kept = first_kept_day(today, retention_days)
    first = end_day - timedelta(days=days - 1) if days <= (end_day - date.min).days else date.min
    if first < oldest_kept:
        raise typer.BadParameter(
            f"{days} days ending {end_day} start on {first}, before {oldest_kept}, the oldest of "
            f"the {retention_days} days kept (INSIGHTS_RETENTION_DAYS): the worker would reject "
            "those events as too old",
            param_hint="--days",
        )


def positive_seconds(value: float) -> float:
    """A timeout must be a finite number of seconds above zero."""
    if not math.isfinite(value) or value <= 0:
        raise typer.BadParameter(f"{value} is not a number of seconds above 0")
    return value


@app.command()
@one_line_errors
def produce(
    files: Annotated[list[Path], typer.Argument(help="JSONL files.")],
    topic: Annotated[str | None, typer.Option(help="Send raw to this topic.")] = None,
    wait: Annotated[bool, typer.Option(help="Return once the worker processed it all.")] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait with --wait.", callback=positive_seconds)
    ] = 300.0,
) -> None:
    """Publish JSONL lines, routed by `type` (control events first)."""
    from insights.producer import read_and_produce
    from insights.progress import progress_bar
    from streams.settings import load_settings
    from streams.topics import TopicNames

    settings = load_settings()
    consumed = TopicNames.from_settings(settings).inputs()
    if wait and topic is not None and topic not in consumed:
        raise typer.BadParameter(
            f"no worker consumes {topic}, so --wait would never end; the worker reads "
            + ", ".join(consumed),
            param_hint="--topic",
        )
    with progress_bar() as progress:
        report = read_and_produce(settings, files, topic, wait, timeout, progress)
    suffix = " and the worker processed them" if wait else ""
    typer.echo(f"produced {report.sent} records{suffix}")


@app.command()
@one_line_errors
def query(
    org: Annotated[str, typer.Option(help="Organization id.")],
    product: Annotated[str, typer.Option(help="A product or all.")] = "all",
    start: Annotated[str | None, typer.Option(help="First day YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option(help="Last day YYYY-MM-DD.")] = None,
    interval: Annotated[str, typer.Option(help="day, week or month.")] = "day",
) -> None:
    """Print the reader API's JSON for one org, straight from Redis."""
    from insights.queries import run_query
    from streams.settings import load_settings

    try:
        document: dict[str, Any] = asyncio.run(
            run_query(load_settings(), org, product, start, end, interval)
        )
    except InvalidParameterError as error:
        option = "--org" if error.parameter == "org_id" else f"--{error.parameter}"
        raise typer.BadParameter(error.message, param_hint=option) from None
    sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")


@app.command("demo-traffic", hidden=True)
@one_line_errors
def demo_traffic() -> None:
    """Feed the demo stack simulated history, then live events (started by `insights demo`)."""
    from insights.demo_traffic import run_traffic
    from streams.settings import load_settings

    asyncio.run(run_traffic(load_settings()))


def org_id(value: str) -> str:
    """An org id that could never be valid is a usage error, before anything connects."""
    from streams.core.requests import ORG_ID

    if not ORG_ID.fullmatch(value):
        raise typer.BadParameter(f"{value!r} is not an org id (1-64 characters of A-Z a-z 0-9 _ -)")
    return value


OrgOption = Annotated[str, typer.Option(help="Organization id.", callback=org_id)]

token_app = typer.Typer(help="Create, list and revoke reader tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("create")
@one_line_errors
def token_create(
    org: OrgOption,
    label: Annotated[str, typer.Option(help="A note to recognise the token by.")] = "",
) -> None:
    """Create a reader token (stored hashed); the token is printed alone on the last line."""
    from insights.token_commands import create

    create(org, label)


@token_app.command("list")
@one_line_errors
def token_list(org: OrgOption) -> None:
    """List an organization's tokens (ids, not the tokens)."""
    from insights.token_commands import list_tokens

    list_tokens(org)


@token_app.command("revoke")
@one_line_errors
def token_revoke(
    org: OrgOption,
    token_id: Annotated[str, typer.Option("--id", help="Token id from `insights token list`.")],
) -> None:
    """Revoke one token."""
    from insights.token_commands import revoke

    revoke(org, token_id)


@app.command()
@one_line_errors
def reader(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port to bind (0 picks a free one).")
    ] = 8080,
) -> None:
    """Run the HTTP reader (API, CSV, dashboard, /metrics) against INSIGHTS_REDIS_URL."""
    from reader.server import serve
    from streams.settings import load_settings

    settings = load_settings()
    settings.redis()
    serve(settings, host, port)


def main() -> None:
    """Console-script entry point."""
    # Client libraries log connection failures themselves; our one error line already says it.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        refuse_stale()  # an edited hot-path module must not run as its older compiled copy
    except StaleCompiledModuleError as error:
        typer.echo(f"insights: error: {error}", err=True)
        raise SystemExit(1) from None
    app()
