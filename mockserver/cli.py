"""The `mockserver` command."""

from __future__ import annotations

from pathlib import Path

import click
import uvicorn

from .app import DEFAULT_FIXTURES, DEFAULT_SPECS, create_app
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
