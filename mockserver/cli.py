"""The `mockserver` command."""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import secrets
import sys
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click
import uvicorn

from mockserver.config import DEFAULT_FIXTURES, DEFAULT_SPECS, ServerConfig, bundled
from mockserver.errors import ControlError, SpecError, StateError
from mockserver.harness.settings import PHASES
from mockserver.server.app import CONFIG_VARIABLE, config_to_json, serving_app
from mockserver.server.http import BoundedHttpTools
from mockserver.server.journal import MaskedAccessLog
from mockserver.state.backend import is_memory

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@click.group(context_settings={"auto_envvar_prefix": "MOCKSERVER", "help_option_names": ["-h", "--help"]})
def main() -> None:
    """OpenAPI-driven, stateful API mock server and contract-testing harness."""


def _read_config(ctx: click.Context, param: click.Parameter, path: Path | None) -> Path | None:
    """`--config FILE`: YAML or TOML whose keys are the options' long names."""
    if path is None:
        return None
    import yaml  # only for a config file: a start without one does not need PyYAML

    try:
        text = path.read_text()
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise click.BadParameter(f"{path} must map option names to values")
    # `session-idle` names the parameter `session_idle_seconds`: keys go by the long option name
    # (the parameter's own name is accepted too), with dashes or underscores
    known = {p.name.replace("_", "-"): p.name for p in ctx.command.params}
    known.update({opt.lstrip("-"): p.name for p in ctx.command.params for opt in p.opts if opt.startswith("--")})
    keys = {str(key).replace("_", "-"): value for key, value in data.items()}
    unknown = sorted(key for key in keys if key not in known)
    if unknown:
        raise click.BadParameter(f"{path}: unknown options {', '.join(unknown)}")
    values = {known[key]: value for key, value in keys.items()}
    ctx.default_map = {**(ctx.default_map or {}), **values}
    return path


def option(*names: str, **kwargs: Any) -> Callable[[Any], Any]:
    """A serve option that can also come from MOCKSERVER_<NAME> and the config file.

    Options that set a `ServerConfig` field take that field's default, so it is written once.
    """
    long_name = next(n for n in names if n.startswith("--")).split("/")[0].lstrip("-")
    name = next((n for n in names if not n.startswith("-")), long_name.replace("-", "_"))
    if "default" not in kwargs and name in CONFIG_DEFAULTS:
        kwargs["default"] = CONFIG_DEFAULTS[name]
    return click.option(
        *names,
        envvar=f"MOCKSERVER_{long_name.upper().replace('-', '_')}",
        show_envvar=True,
        show_default=True,
        **kwargs,
    )


def refuse_spec(exc: SpecError) -> NoReturn:
    """A spec that cannot be served: each problem on its own line (file, JSON pointer, reason), exit status 2."""
    for problem in exc.problems:
        click.echo(f"error: {problem.located()}", err=True)
    sys.exit(2)


CONFIG_DEFAULTS = {field.name: field.default for field in dataclasses.fields(ServerConfig)}
FOLDER = click.Path(exists=True, file_okay=False, path_type=Path)


@main.command()
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    callback=_read_config,
    is_eager=True,
    expose_value=False,
    envvar="MOCKSERVER_CONFIG",
    show_envvar=True,
    help="YAML or TOML file of options (keys are the long names below); flags and variables win over it.",
)
@option("--host", default="127.0.0.1", help="Address to listen on.")
@option("--port", default=8000, type=int, help="Port to listen on.")
@option("--specs", "specs_dir", type=FOLDER, help="Folder of OpenAPI documents to serve.")
@option("--fixtures", "fixtures_dir", type=FOLDER, help="Folder of seed data, one YAML file per API.")
@option("--locale", help="Language of validation messages, where a spec offers it (e.g. es).")
@option(
    "--profile",
    help="Opt-in realism profile a spec declares (e.g. upstream): its operations' quirks, each with its source, apply.",
)
@option(
    "--admin-token",
    help="Token the admin API (/__mock/) asks for. Without one, a server on a non-loopback address makes one up and prints it.",
)
@option("--cors/--no-cors", help="Answer browsers' cross-origin requests.")
@option("--cors-origin", "cors_origins", multiple=True, help="An allowed origin; repeatable.")
@option("--delay", help="Latency for every request, ms: 250, 100-400 or lognormal:MEDIAN:SIGMA.")
@option("--fault", help="Fault for every request: reset, empty, malformed or an HTTP status.")
@option("--fault-rate", type=click.FloatRange(0, 1), help="Share of requests --fault hits.")
@option("--session-header", help="Header that names a caller's private state.")
@option("--session-limit", type=click.IntRange(0), help="Sessions kept; the least recently used goes first.")
@option(
    "--session-idle",
    "session_idle_seconds",
    type=click.FloatRange(0),
    help="Seconds after which an unused session is dropped.",
)
@option("--journal-size", type=click.IntRange(0), help="Requests the journal keeps.")
@option(
    "--max-body-bytes",
    type=click.IntRange(0),
    help="Largest request body an API reads; a larger one gets the API's 413.",
)
@option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Load the state from this file at start-up; save it on shutdown and every --state-interval.",
)
@option(
    "--state-interval",
    "state_interval_seconds",
    type=click.FloatRange(0.1),
    help="Seconds between saves of --state-file.",
)
@option(
    "--store",
    help="Where the state lives: memory (this process) or redis://HOST:PORT/DB (shared by every process and replica using it).",
)
@option(
    "--workers",
    default=1,
    type=click.IntRange(1),
    help="Server processes on this host; more than one needs --store redis://….",
)
@option("--reload/--no-reload", default=True, help="Reload specs and fixtures when their files change.")
@option("--seed", type=int, help="Seed for random delays, fault rates and dynamic answers.")
@option(
    "--log-level",
    default="info",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    help="Server log level.",
)
# Off by default: uvicorn's access line costs ~27 µs of CPU a request, over 10% of an answer on the fast
# path (README, "Request journal"); the journal records every request anyway.
@option("--access-log/--no-access-log", default=False, help="Log every request (uvicorn's access log).")
def serve(host: str, port: int, log_level: str, access_log: bool, workers: int, **options: Any) -> None:
    """Serve every spec in SPECS on one port, with state seeded from FIXTURES.

    Every option can also be set by the environment variable shown, or by a
    key in the --config file.
    """
    config = ServerConfig(**{**options, "cors_origins": tuple(options["cors_origins"])})
    if workers > 1 and is_memory(config.store):
        raise click.UsageError(
            f"--workers {workers} needs a shared state: with --store memory each process would keep its own "
            "records, and a caller would see a different state on each request. Use --store redis://HOST:PORT/DB."
        )
    if config.admin_token is None and host not in LOOPBACK:
        config.admin_token = secrets.token_urlsafe(24)
        click.echo(f"admin API token (set --admin-token to choose one): {config.admin_token}")
    try:
        app = serving_app(config)
    except SpecError as exc:
        refuse_spec(exc)
    except (StateError, ControlError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    for api in app.state.server.apis:
        click.echo(
            f"{api.name}: {api.spec.title} at http://{host}:{port}{api.prefix} "
            f"(docs: http://{host}:{port}/{api.name}/docs)"
        )
    click.echo(f"console and admin API: http://{host}:{port}/__mock/")
    logging.getLogger("uvicorn.access").addFilter(MaskedAccessLog())
    # The fastest stack uvicorn offers: httptools parses about twice as fast as
    # h11 and uvloop runs the loop. httptools answers a request target over its
    # own limit (about 64 KiB) with a plain 400 before an API sees it (README,
    # "Guarantees"); BoundedHttpTools caps the rest of the head at HEAD_BYTES.
    run = functools.partial(
        uvicorn.run,
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        http=BoundedHttpTools,
        loop="uvloop",
    )
    if workers > 1:  # each worker builds its own app from the same options
        os.environ[CONFIG_VARIABLE] = config_to_json(config)
        run("mockserver.server.app:app_from_environment", factory=True, workers=workers)
        return
    run(app)


@main.command()
@click.argument("paths", metavar="[SPEC_OR_DIR]...", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--fixtures",
    "fixtures_dir",
    type=FOLDER,
    default=DEFAULT_FIXTURES,
    show_default=True,
    help="Folder of seed data, one YAML file per API.",
)
def check(paths: tuple[Path, ...], fixtures_dir: Path) -> None:
    """Check specs (default: the bundled specs folder) and their fixtures.

    Prints one line per problem, FILE:LINE: #/json/pointer: message. Exit
    status: 0 when clean, 1 on problems, 2 on a usage error.
    """
    from mockserver.harness.check import check as run_check

    try:
        problems = run_check(paths or (DEFAULT_SPECS,), fixtures_dir)
    except SpecError as exc:  # a folder with no specs in it
        raise click.UsageError(str(exc)) from exc
    for problem in problems:
        click.echo(problem.located())
    click.echo(f"{len(problems)} problem(s) in {', '.join(map(str, paths or (DEFAULT_SPECS,)))}")
    sys.exit(1 if problems else 0)


#: the contract suite's layers, by the file that holds each
CONTRACT_LAYERS = {
    "conformance": "test_conformance.py",
    "stateful": "test_stateful.py",
    "rules": "test_business_rules.py",
}


class Header(click.ParamType[str]):
    """'Name: value'; MOCKSERVER_CONTRACT_HEADER holds one per line."""

    name = "header"
    envvar_list_splitter = "\n"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if ":" not in str(value):
            self.fail("takes 'Name: value'", param, ctx)
        return str(value)


def contract_option(*names: str, **kwargs: Any) -> Callable[[Any], Any]:
    """A contract option that can also come from MOCKSERVER_CONTRACT_<NAME>, as the suites' --contract-<name> can."""
    long_name = next(n for n in names if n.startswith("--")).lstrip("-")
    return click.option(
        *names, envvar=f"MOCKSERVER_CONTRACT_{long_name.upper().replace('-', '_')}", show_envvar=True, **kwargs
    )


@main.command()
@click.argument("api")
@contract_option("--spec", default=None, help="OpenAPI document (path or URL) to test instead of the bundled spec.")
@contract_option("--base-url", default=None, help="A deployment to test; without it a fresh mock is started.")
@contract_option(
    "--header", "headers", multiple=True, type=Header(), help="'Name: value' sent with every request; repeatable."
)
@contract_option("--login", default=None, help="JSON body for the login operation, for throw-away credentials.")
@contract_option("--read-only", is_flag=True, help="Only safe methods, for deployments where writes are not allowed.")
@contract_option("--seed", type=int, default=None, help="Generation seed (fixed by default, so runs repeat).")
@contract_option("--max-examples", type=int, default=None, help="Generated cases per operation.")
@contract_option(
    "--operation",
    "operations",
    multiple=True,
    help="operationId to test; repeatable. Default: every operation of the spec.",
)
@contract_option(
    "--phase",
    "phases",
    multiple=True,
    type=click.Choice(PHASES),
    help="Run only this phase of the conformance layer; repeatable. Default: examples, coverage and fuzzing.",
)
@contract_option(
    "--layer",
    "layers",
    multiple=True,
    type=click.Choice(sorted(CONTRACT_LAYERS)),
    help="Run only this layer of the suite; repeatable. Default: every layer.",
)
@contract_option(
    "--junit", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write a JUnit XML report here."
)
def contract(
    api: str,
    spec: str | None,
    base_url: str | None,
    headers: tuple[str, ...],
    login: str | None,
    read_only: bool,
    seed: int | None,
    max_examples: int | None,
    operations: tuple[str, ...],
    phases: tuple[str, ...],
    layers: tuple[str, ...],
    junit: Path | None,
) -> None:
    """Check that a deployment (or the mock) honours API's contract.

    Exit status: 0 when every contract holds, 1 when one fails, 2 on a usage
    or connection error.
    """
    # The harness needs the contract extras; import them only when it runs.
    import httpx
    import pytest

    from mockserver.harness.settings import Settings
    from mockserver.harness.target import find_spec

    if spec is None and api not in (known := Settings.all_apis()):
        raise click.UsageError(f"unknown API {api!r}; known: {', '.join(known)} (or give its --spec)")
    _login_body(login)  # a body that is no JSON object is a usage error here, not inside the suite
    suite = bundled("contract_tests")
    with tempfile.TemporaryDirectory(prefix="mockserver-contract-") as scratch:
        # The suite is given its settings as its own pytest options (see
        # mockserver/harness/settings.py), none through the environment.
        given: list[tuple[str, object]] = [("api", api), ("base-url", base_url), ("login", login), ("seed", seed)]
        local = _local_spec(spec, Path(scratch)) if spec else None
        given += [("spec", local), ("max-examples", max_examples)]
        unknown = set(operations) - {op.operation_id for op in find_spec(api, local).operations}
        if unknown:
            raise click.UsageError(f"no operation {', '.join(sorted(unknown))} in {api}'s spec")
        if base_url is not None:
            try:
                httpx.get(base_url, timeout=10)
            except httpx.HTTPError as exc:
                click.echo(f"cannot reach {base_url}: {exc}", err=True)
                sys.exit(2)
        given += [("header", header) for header in headers]
        given += [("operation", operation_id) for operation_id in operations]
        given += [("phase", phase) for phase in phases]
        args = [str(suite / CONTRACT_LAYERS[layer]) for layer in layers] or [str(suite)]
        args += [f"--contract-{name}={value}" for name, value in given if value is not None]
        args += ["--contract-read-only"] if read_only else []
        args += [
            "-p",
            "no:cacheprovider",
            "-q",
            "-rf",
            "--tb=short",
            # pytest's own note that httpx imported anyio before the run began
            "-W",
            "ignore::pytest.PytestAssertRewriteWarning",
        ]
        if junit is not None:
            args.append(f"--junitxml={junit}")
        from mockserver.harness.progress import PytestProgress

        code = pytest.main(args, plugins=[PytestProgress(f"contract {api}")])
    sys.exit(0 if code == 0 else 1 if code == 1 else 2)


def _local_spec(spec: str, scratch: Path) -> Path:
    """The --spec document as a file: a path as it is, a URL downloaded into `scratch` under its own name."""
    if "://" not in spec:
        if not Path(spec).is_file():
            raise click.BadParameter(f"{spec} is not a file", param_hint="--spec")
        return Path(spec).resolve()
    import httpx

    try:
        response = httpx.get(spec, timeout=30, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        click.echo(f"cannot download {spec}: {exc}", err=True)
        sys.exit(2)
    # the file name's suffix tells the loader the format; a bare URL is JSON or YAML, which YAML reads both
    path = scratch / (Path(httpx.URL(spec).path).name or "openapi.yaml")
    path.write_bytes(response.content)
    return path


#: `--spec` of the QA commands: the OpenAPI document to use instead of the API's bundled one
SPEC_OPTION = click.option(
    "--spec",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="OpenAPI document instead of the bundled one.",
)


def _headers(given: tuple[str, ...]) -> dict[str, str]:
    return {name.strip(): value.strip() for name, _, value in (header.partition(":") for header in given)}


def _login_body(given: str | None) -> dict[str, Any] | None:
    """--login's JSON body, refused as a usage error unless it is an object."""
    from mockserver.harness.settings import login_body

    try:
        return login_body(given)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _reachable(url: str) -> None:
    """Exit 2 unless the deployment answers at all."""
    import httpx

    try:
        httpx.get(url, timeout=10)
    except httpx.HTTPError as exc:
        click.echo(f"cannot reach {url}: {exc}", err=True)
        sys.exit(2)


def _model(api: str, spec: Path | None) -> Any:
    from mockserver.harness.target import find_model

    try:
        return find_model(api, spec)
    except LookupError as exc:
        raise click.UsageError(str(exc)) from exc
    except SpecError as exc:
        refuse_spec(exc)


@main.command()
@click.argument("api")
@click.option("--target", required=True, help="The deployment to compare with a fresh mock of API.")
@click.option(
    "--header",
    "headers",
    multiple=True,
    type=Header(),
    help="'Name: value' sent to the deployment with every request; repeatable. Default: the seeded credential.",
)
@click.option(
    "--login",
    default=None,
    envvar="MOCKSERVER_DRIFT_LOGIN",
    show_envvar=True,
    help="JSON body for the spec's login operation: the run logs in on the deployment and uses the credential it issues.",
)
@click.option("--read-only", is_flag=True, help="Only safe requests: no record is created on the deployment.")
@SPEC_OPTION
@click.option("--operation", "operations", multiple=True, help="operationId to probe; repeatable. Default: all.")
@click.option(
    "--report",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write drift.md, drift.html, drift.xml (JUnit) and drift.json in.",
)
def drift(
    api: str,
    target: str,
    headers: tuple[str, ...],
    login: str | None,
    read_only: bool,
    spec: Path | None,
    operations: tuple[str, ...],
    report: Path | None,
) -> None:
    """Where the deployment at TARGET answers differently from a fresh mock of API.

    The same requests go to both (documented examples, credentials, each
    create's link workflow, the x-mock rules, every constraint's edges) and
    the answers are compared: status, envelope, messages, fields and their
    types, side effects. Values x-mock.drift names volatile are not compared.
    What the run creates on the deployment is removed at the end.

    Exit status: 0 when there is no drift, 1 on drift, 2 on a usage or connection error.
    """
    import httpx

    from mockserver.harness import drift as drifting
    from mockserver.harness import drift_report, probes
    from mockserver.harness.progress import Reporter
    from mockserver.harness.target import find_spec, seed_credentials

    try:
        unknown = set(operations) - {op.operation_id for op in find_spec(api, spec).operations}
    except LookupError as exc:
        raise click.UsageError(str(exc)) from exc
    except SpecError as exc:
        refuse_spec(exc)
    if unknown:
        raise click.UsageError(f"no operation {', '.join(sorted(unknown))} in {api}'s spec")
    login_body = _login_body(login)
    _reachable(target)
    model = _model(api, spec)
    chosen = probes.build(model.spec, operations, read_only=read_only)
    sent = _headers(headers) if headers or login_body is not None else seed_credentials(model)[0]
    try:
        with (
            drifting.mock_in_process(model) as mock,
            drifting.deployment(model, target, sent, login_body) as deployment,
            Reporter(f"drift {api}", len(chosen)) as progress,
        ):
            refused = drifting.refused_credentials(mock, deployment, chosen)
            if refused is not None:
                click.echo(f"{refused} (--header)", err=True)
                sys.exit(2)
            try:
                run = drifting.run(
                    mock,
                    deployment,
                    chosen,
                    lambda probe, done, total, found: progress.update(done, found, probe.label),
                )
            finally:
                left = deployment.clean_up()
            run.left = left
    except drifting.LoginRefused as exc:
        click.echo(f"{exc} (--login)", err=True)
        sys.exit(2)
    except httpx.HTTPError as exc:
        click.echo(f"the deployment stopped answering: {exc}", err=True)
        sys.exit(2)
    click.echo(drift_report.text(run))
    if report is not None:
        for path in drift_report.write(run, report):
            click.echo(f"report: {path}")
    sys.exit(1 if run.findings else 0)


@main.command()
@click.argument("api")
@click.option("--target", required=True, help="The deployment to forward every request to.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, type=int, show_default=True, help="Port to listen on.")
@click.option("--errors", is_flag=True, help="Answer a violating exchange with the API's error envelope (502), for CI.")
@SPEC_OPTION
@click.option(
    "--report",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write proxy.md, proxy.html, proxy.xml (JUnit) and proxy.json in when the proxy stops.",
)
@click.option("--har", type=click.Path(dir_okay=False, path_type=Path), help="Record every exchange to this HAR file.")
def proxy(
    api: str, target: str, host: str, port: int, errors: bool, spec: Path | None, report: Path | None, har: Path | None
) -> None:
    """Forward requests to TARGET unchanged, checking each exchange against API's spec.

    A violating answer carries X-Mock-Violations; every exchange is in
    /__proxy/journal, and in the report and HAR written when the proxy stops
    (Ctrl-C). Credentials are masked everywhere.
    """
    import json as json_module

    from mockserver.harness import proxy_report
    from mockserver.harness.progress import Reporter
    from mockserver.harness.proxy import Exchange, Traffic, proxy_app

    model = _model(api, spec)
    progress = Reporter(f"proxy {api}")
    seen = {"exchanges": 0, "violations": 0}

    def on_exchange(exchange: Exchange) -> None:
        seen["exchanges"] += 1
        seen["violations"] += bool(exchange.violations)
        progress.update(seen["exchanges"], seen["violations"], f"{exchange.method} {exchange.url} {exchange.status}")

    def on_stop(traffic: Traffic) -> None:
        progress.__exit__(None, None, None)
        click.echo(proxy_report.summary(traffic))
        if report is not None:
            for path in proxy_report.write(traffic, target, report):
                click.echo(f"report: {path}")
        if har is not None:
            har.write_text(json_module.dumps(proxy_report.har(traffic), indent=2, ensure_ascii=False), encoding="utf-8")
            click.echo(f"HAR: {har}")

    app = proxy_app(model, target, errors=errors, on_exchange=on_exchange, on_stop=on_stop)
    click.echo(f"proxy for {api} at http://{host}:{port}, forwarding to {target}")
    with progress:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, http="h11")


@main.command()
@click.argument("har", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--api", required=True, help="The API the traffic was sent to.")
@click.option(
    "--to", "to", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Fixtures file to write."
)
@SPEC_OPTION
@click.option(
    "--base",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Fixtures whose tables the traffic did not show (credentials and their principals) are kept. Default: the API's bundled fixtures.",
)
@click.option("--no-base", is_flag=True, help="Write only what the traffic showed.")
def record(har: Path, api: str, to: Path, spec: Path | None, base: Path | None, no_base: bool) -> None:
    """Turn the answers recorded in HAR (`mockserver proxy --har`) into a fixtures file for API.

    Serve it with `mockserver serve --fixtures DIR`, the file named as the
    spec's x-mock.fixtures (e.g. DIR/facturacion.yaml).
    """
    from mockserver.harness import record as recorder

    model = _model(api, spec)
    try:
        recording = recorder.record(model, har)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    chosen = None if no_base else base or model.spec.fixtures_file(DEFAULT_FIXTURES)
    left_out = recorder.write(model, recording, to, chosen if chosen is not None and chosen.exists() else None)
    for note in left_out:
        click.echo(note, err=True)
    counts = ", ".join(f"{len(by_id)} {resource}" for resource, by_id in recording.records.items()) or "no records"
    click.echo(f"{to}: {counts} recorded")
