"""The `mockserver` command."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import uvicorn

from .app import DEFAULT_FIXTURES, DEFAULT_SPECS, PROJECT_ROOT, create_app
from .spec import SpecError


@click.group(context_settings={"auto_envvar_prefix": "MOCKSERVER", "help_option_names": ["-h", "--help"]})
def main() -> None:
    """OpenAPI-driven, stateful API mock server and contract-testing harness."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--specs", "specs_dir", default=DEFAULT_SPECS, show_default=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path), help="Folder of OpenAPI documents to serve.")
@click.option("--fixtures", "fixtures_dir", default=DEFAULT_FIXTURES, show_default=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path), help="Folder of seed data, one YAML file per API.")
@click.option("--locale", default=None, help="Language of validation messages, where a spec offers it (e.g. es).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]), help="Server log level.")
@click.option("--access-log/--no-access-log", default=True, show_default=True, help="Log every request.")
def serve(host: str, port: int, specs_dir: Path, fixtures_dir: Path, locale: str | None, log_level: str, access_log: bool) -> None:
    """Serve every spec in SPECS on one port, with state seeded from FIXTURES."""
    try:
        app = create_app(specs_dir, fixtures_dir, locale)
    except SpecError as exc:
        raise click.ClickException(str(exc)) from exc
    for api in app.state.apis:
        click.echo(f"{api.name}: {api.spec.raw['info']['title']} at http://{host}:{port}{api.prefix}")
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=access_log)


#: the contract suite's layers, by the file that holds each
CONTRACT_LAYERS = {"conformance": "test_conformance.py", "stateful": "test_stateful.py", "rules": "test_business_rules.py"}


@main.command()
@click.argument("api")
@click.option("--base-url", default=None, help="A deployment to test; without it a fresh mock is started.")
@click.option("--header", "headers", multiple=True, help="'Name: value' sent with every request (credentials); repeatable.")
@click.option("--login", default=None, help="JSON body for the login operation, for throw-away credentials.")
@click.option("--read-only", is_flag=True, help="Only safe methods, for deployments where writes are not allowed.")
@click.option("--seed", type=int, default=None, help="Generation seed (fixed by default, so runs repeat).")
@click.option("--max-examples", type=int, default=None, help="Generated cases per operation.")
@click.option("--layer", "layers", multiple=True, type=click.Choice(sorted(CONTRACT_LAYERS)),
              help="Run only this layer of the suite; repeatable. Default: every layer.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write a JUnit XML report here.")
def contract(api: str, base_url: str | None, headers: tuple[str, ...], login: str | None, read_only: bool,
             seed: int | None, max_examples: int | None, layers: tuple[str, ...], junit: Path | None) -> None:
    """Check that a deployment (or the mock) honours API's contract.

    Exit status: 0 when every contract holds, 1 when one fails, 2 on a usage
    or connection error.
    """
    # The harness needs the test extras; import them only when it runs.
    import httpx
    import pytest

    from .contract.settings import Settings

    known = Settings.all_apis()
    if api not in known:
        raise click.UsageError(f"unknown API {api!r}; known: {', '.join(known)}")
    if any(":" not in header for header in headers):
        raise click.UsageError("--header takes 'Name: value'")
    if base_url is not None:
        try:
            httpx.get(base_url, timeout=10)
        except httpx.HTTPError as exc:
            click.echo(f"cannot reach {base_url}: {exc}", err=True)
            sys.exit(2)
    env = {"CONTRACT_API": api, "CONTRACT_BASE_URL": base_url, "CONTRACT_HEADER": "\n".join(headers) or None,
           "CONTRACT_LOGIN": login, "CONTRACT_READ_ONLY": "1" if read_only else None,
           "CONTRACT_SEED": seed, "CONTRACT_MAX_EXAMPLES": max_examples}
    for name, value in env.items():
        if value is not None:
            os.environ[name] = str(value)
    suite = PROJECT_ROOT / "contract_tests"
    paths = [str(suite / CONTRACT_LAYERS[layer]) for layer in layers] or [str(suite)]
    args = [*paths, "-p", "no:cacheprovider", "-q", "-rf", "--tb=short",
            # pytest's own note that httpx imported anyio before the run began
            "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    if junit is not None:
        args.append(f"--junitxml={junit}")
    code = pytest.main(args)
    sys.exit(0 if code == 0 else 1 if code == 1 else 2)
