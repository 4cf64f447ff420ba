"""`mockserver check`: each kind of problem it promises to find, found where it is."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mockserver.cli import main
from mockserver.config import DEFAULT_FIXTURES, DEFAULT_SPECS
from mockserver.errors import SpecError
from mockserver.server.app import create_app

SPEC = DEFAULT_SPECS / "facturacion.yaml"
CLIENT = "#/paths/~1api~1v1~1clients~1{client}"
SEARCH = "#/paths/~1api~1v1~1clients~1search-by-document/post/requestBody/content/application~1json/example"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", *args])


def edited(folder: Path, source: Path, old: str, new: str) -> Path:
    """A copy of a file in `folder` with one passage replaced (line numbers kept when `new` keeps them)."""
    text = source.read_text()
    assert text.count(old) == 1, old
    folder.mkdir(exist_ok=True)
    copy = folder / source.name
    copy.write_text(text.replace(old, new))
    for data in source.parent.glob(f"{source.stem}-*.json"):  # data files a fixtures file reads beside it
        shutil.copy(data, folder)
    with_templates(folder)
    return copy


def with_search_line(folder: Path, line: str) -> Path:
    """A copy of the spec with one more line in the search-by-document operation, after its operationId."""
    operation_id = "      operationId: searchClientByDocument\n"
    return edited(folder, SPEC, operation_id, operation_id + line)


def with_templates(folder: Path) -> None:
    """The file templates the bundled specs name, beside a copy of them."""
    shutil.copytree(DEFAULT_SPECS / "templates", folder / "templates", dirs_exist_ok=True)


def line_of(path: Path, text: str, after: int = 0) -> int:
    """The number of the first line after `after` that holds `text`."""
    lines = enumerate(path.read_text().splitlines(), 1)
    return next(number for number, line in lines if number > after and text in line)


def test_bundled_specs_are_clean() -> None:
    result = run(str(DEFAULT_SPECS))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("0 problem(s)")


def test_a_duplicate_key_is_named_with_its_line(tmp_path: Path) -> None:
    copy = with_search_line(tmp_path, "      operationId: findClient\n")
    result = run(str(copy))
    assert result.exit_code == 1
    line = line_of(copy, "operationId: findClient")
    assert f"{copy}:{line}: #/paths/~1api~1v1~1clients~1search-by-document/post/operationId: " in result.output
    assert f"duplicate key 'operationId' (first at line {line - 1})" in result.output


def test_an_openapi_problem_is_found_right_after_a_clean_check_of_the_same_spec(tmp_path: Path) -> None:
    # The validator's answer is remembered for the document without its x-mock declarations: edited
    # declarations reuse it, an edited OpenAPI part never does.
    declared = edited(tmp_path / "declared", SPEC, "message: Login exitoso", "message: Sesión iniciada")
    assert run(str(declared)).exit_code == 0
    broken = with_search_line(tmp_path / "broken", "      deprecated: sometimes\n")
    result = run(str(broken))
    assert result.exit_code == 1
    line = line_of(broken, "deprecated: sometimes")
    where = "#/paths/~1api~1v1~1clients~1search-by-document/post/deprecated"
    assert f'{broken}:{line}: {where}: OpenAPI 3.1: "sometimes" is not of type "boolean"' in result.output, (
        result.output
    )


def test_an_example_that_breaks_its_schema(tmp_path: Path) -> None:
    copy = edited(
        tmp_path,
        SPEC,
        'example: {company_id: 1, tipo_documento: "6", numero_documento: "20100047218"}',
        'example: {company_id: uno, tipo_documento: "6", numero_documento: "20100047218"}',
    )
    result = run(str(copy))
    assert result.exit_code == 1
    line = line_of(copy, "company_id: uno")
    assert f"{copy}:{line}: {SEARCH}/company_id: example does not match its schema: 'uno' is not of type" in (
        result.output
    )


def test_a_link_to_nothing(tmp_path: Path) -> None:
    copy = edited(
        tmp_path,
        SPEC,
        "            UpdateClient:\n              operationId: updateClient\n"
        '              parameters: {client: "$request.path.client"}\n            DeactivateClient:',
        "            UpdateClient:\n              operationId: updateClient\n"
        '              parameters: {client: "$request.path.cliente"}\n            DeactivateClient:',
    )
    copy = edited(
        tmp_path,
        copy,
        "description: Updated\n          links:\n            GetClient:\n              operationId: getClient\n",
        "description: Updated\n          links:\n            GetClient:\n              operationId: getClients\n",
    )
    result = run(str(copy))
    assert result.exit_code == 1
    links = f"{CLIENT}/get/responses/200/links"
    assert f"{links}/UpdateClient/parameters/client: getClient has no path parameter 'cliente'" in result.output
    assert f"{CLIENT}/put/responses/200/links/GetClient: link to unknown operationId 'getClients'" in result.output


def test_a_fixture_record_that_breaks_its_schema(tmp_path: Path) -> None:
    spec_dir, fixtures = tmp_path / "specs", tmp_path / "fixtures"
    spec_dir.mkdir()
    fixtures.mkdir()
    shutil.copy(SPEC, spec_dir)
    with_templates(spec_dir)
    seeded = edited(
        fixtures, DEFAULT_FIXTURES / "facturacion.yaml", 'numero_documento: "46779354"', "numero_documento: 46779354"
    )
    result = run(str(spec_dir), "--fixtures", str(fixtures))
    assert result.exit_code == 1
    line = line_of(seeded, "numero_documento: 46779354")
    assert f"{seeded}:{line}: #/clients/1/numero_documento: clients record does not match its schema" in result.output


def test_a_request_example_the_mock_refuses(tmp_path: Path) -> None:
    # client 2's document: the update example (on client 1) now collides with it
    copy = edited(
        tmp_path,
        SPEC,
        '              tipo_documento: "6"\n              numero_documento: "20555555551"',
        '              tipo_documento: "1"\n              numero_documento: "46779354"',
    )
    result = run(str(copy))
    assert result.exit_code == 1
    line = line_of(copy, "example:", after=line_of(copy, "summary: Update a client"))
    for method in ("put", "patch"):  # PATCH shares PUT's body and answers
        assert (
            f"{copy}:{line}: {CLIENT}/{method}/requestBody/content/application~1json/example: "
            "request example answered 400, documented 200" in result.output
        )


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nowhere.yaml"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_every_x_mock_problem_is_a_line_of_its_own(tmp_path: Path) -> None:
    copy = edited(
        tmp_path,
        SPEC,
        '        secret: {password: "${body.password}"}\n        credential: bearerAuth\n',
        '        secret: {password: "${body.password}"}\n        credential: bearerAut\n',
    )
    copy = edited(
        tmp_path,
        copy,
        "        failure: {status: 401, example: invalid_credentials}\n",
        "        failure: {status: 401, example: invalid_credential}\n",
    )
    result = run(str(copy))
    assert result.exit_code == 1
    login = "#/paths/~1api~1auth~1login/post/x-mock"
    assert f"{copy}:{line_of(copy, 'credential: bearerAut')}: {login}/credential: names no security scheme" in (
        result.output
    )
    assert f"{copy}:{line_of(copy, 'example: invalid_credential}')}: {login}/failure/example: " in result.output
    assert result.output.splitlines()[-1].startswith("2 problem(s)")


def test_only_the_files_named_are_checked(tmp_path: Path) -> None:
    good = tmp_path / SPEC.name
    shutil.copy(SPEC, good)
    with_templates(tmp_path)
    broken = tmp_path / "broken.yaml"
    broken.write_text(SPEC.read_text().replace("credential: bearerAuth", "credential: nope"))
    result = run(str(good))
    assert result.exit_code == 0, result.output
    assert str(broken) not in result.output


def test_a_broken_sibling_leaves_the_request_examples_of_the_others_checked(tmp_path: Path) -> None:
    copy = edited(
        tmp_path,
        SPEC,
        '              tipo_documento: "6"\n              numero_documento: "20555555551"',
        '              tipo_documento: "1"\n              numero_documento: "46779354"',
    )
    (tmp_path / "broken.yaml").write_text(SPEC.read_text().replace("credential: bearerAuth", "credential: nope"))
    result = run(str(tmp_path))
    assert result.exit_code == 1
    assert f"{tmp_path / 'broken.yaml'}:" in result.output
    assert f"{copy}:" in result.output and "request example answered 400, documented 200" in result.output


def _fixtures(tmp_path: Path, old: str, new: str) -> tuple[Path, Path]:
    """The bundled spec in its own folder, with a fixtures folder whose facturacion.yaml is edited."""
    spec_dir, fixtures = tmp_path / "specs", tmp_path / "fixtures"
    spec_dir.mkdir()
    fixtures.mkdir()
    shutil.copy(SPEC, spec_dir)
    with_templates(spec_dir)
    return spec_dir, edited(fixtures, DEFAULT_FIXTURES / "facturacion.yaml", old, new)


def test_fixtures_that_are_not_tables_are_a_located_problem(tmp_path: Path) -> None:
    spec_dir, seeded = _fixtures(tmp_path, "clients:\n", "clients: 1\nclientes:\n")
    result = run(str(spec_dir), "--fixtures", str(seeded.parent))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    line = line_of(seeded, "clients: 1")
    assert f"{seeded}:{line}: #/clients: fixtures must map each resource name to a list of records" in result.output

    seeded.write_text("- id: 1\n")
    result = run(str(spec_dir), "--fixtures", str(seeded.parent))
    assert result.exit_code == 1, result.output
    assert f"{seeded}:1: #: fixtures must map each resource name to a list of records" in result.output


def test_a_duplicate_fixture_id_is_located_for_check_and_serve(tmp_path: Path) -> None:
    spec_dir, seeded = _fixtures(tmp_path, "clients:\n  - id: 1\n", "clients:\n  - id: 2\n")
    result = run(str(spec_dir), "--fixtures", str(seeded.parent))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    where = f"{seeded}:{line_of(seeded, 'id: 2', after=line_of(seeded, 'clients:') + 2)}: #/clients/1: "
    assert f"{where}duplicate clients id 2 (first at #/clients/0)" in result.output
    with pytest.raises(SpecError) as refused:
        create_app(specs_dir=spec_dir, fixtures_dir=seeded.parent, reload=False)
    assert refused.value.file == str(seeded) and refused.value.pointer == "/clients/1"


@pytest.mark.parametrize(
    ("old", "new", "where", "reason"),
    [
        ("    user_id: 1\n  - id: 2\n", "    user_id: 99\n  - id: 2\n", "#/tokens/0/user_id", "names no seeded users"),
        ("    token: 1|sunat_demo_admin_token\n", "", "#/tokens/0", "the tokens credential has no token"),
    ],
)
def test_a_seeded_credential_that_cannot_be_used_is_a_located_problem(
    tmp_path: Path, old: str, new: str, where: str, reason: str
) -> None:
    spec_dir, seeded = _fixtures(tmp_path, old, new)
    result = run(str(spec_dir), "--fixtures", str(seeded.parent))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert any(
        line.startswith(f"{seeded}:") and f" {where}: " in line and reason in line
        for line in (result.output.splitlines())
    ), result.output
