"""Realism profiles: each quirk of the Facturación spec under `--profile upstream`, and its absence without it."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from broken_servers import facturacion_alone
from seed import ADMIN

from mockserver.spec.profiles import merge_patch

ROOT = Path(__file__).resolve().parents[1]
_numbers = itertools.count(81000000)


@pytest.fixture(scope="module")
def upstream():
    from inprocess import in_process

    with in_process(profile="upstream") as client:
        yield client


def client_body(**overrides):
    return {"tipo_documento": "1", "numero_documento": str(next(_numbers)), "razon_social": "CLIENTE", **overrides}


def create(mock, **overrides):
    return mock.post("/api/v1/clients", headers=ADMIN, json=client_body(**overrides))


def test_company_id_is_not_defaulted_upstream(mock, upstream):
    assert create(mock).json()["data"]["company_id"] == 1
    omitted = create(upstream)
    assert omitted.status_code == 404
    assert omitted.json()["message"] == "La empresa especificada no existe o está inactiva"


def test_an_unknown_company_is_a_validation_error_upstream(mock, upstream):
    assert create(mock, company_id=999).status_code == 404
    unknown = create(upstream, company_id=999)
    assert unknown.status_code == 422 and list(unknown.json()["errors"]) == ["company_id"]


def test_the_same_document_in_another_company_is_a_500_upstream(mock, upstream):
    taken = {"tipo_documento": "1", "numero_documento": "46779354"}  # client 2 of company 1
    assert create(mock, company_id=2, **taken).status_code == 201
    clash = create(upstream, company_id=2, **taken)
    assert clash.status_code == 500 and "SQLSTATE[23000]" in clash.json()["message"]
    assert clash.json()["success"] is False


def test_a_16_to_20_character_document_is_a_500_upstream(mock, upstream):
    assert create(mock, company_id=1, numero_documento="1234567890123456").status_code == 201
    long = create(upstream, company_id=1, numero_documento="1234567890123457")
    assert long.status_code == 500 and "SQLSTATE[22001]" in long.json()["message"]
    assert create(upstream, company_id=1, numero_documento="123456789012345").status_code == 201


def test_a_non_digit_ubigeo_is_accepted_upstream(mock, upstream):
    assert create(mock, company_id=1, ubigeo="abcdef").status_code == 422
    assert create(upstream, company_id=1, ubigeo="abcdef").status_code == 201
    assert create(upstream, company_id=1, ubigeo="abc").status_code == 422, "size:6 still holds"


def test_the_201_body_shows_only_what_was_sent_upstream(mock, upstream):
    full = create(mock, company_id=1).json()["data"]
    assert "activo" in full and "email" in full
    partial = create(upstream, company_id=1).json()["data"]
    assert set(partial) == {
        "id",
        "company_id",
        "tipo_documento",
        "numero_documento",
        "razon_social",
        "created_at",
        "updated_at",
        "company",
    }


def test_a_branch_update_naming_company_id_is_a_500_upstream(mock, upstream):
    assert mock.patch("/api/v1/branches/1", headers=ADMIN, json={"company_id": 1}).status_code == 200
    broken = upstream.patch("/api/v1/branches/1", headers=ADMIN, json={"company_id": 1})
    assert broken.status_code == 500
    assert broken.json() == {"message": "Property [company_id] does not exist on this collection instance."}
    assert upstream.patch("/api/v1/branches/1", headers=ADMIN, json={"telefono": "01-1"}).status_code == 200


def test_an_unknown_profile_is_refused(make_mock, tmp_path):
    specs = facturacion_alone(tmp_path)
    with pytest.raises(ValueError, match=r"no spec declares the profile 'nope' \(declared: upstream\)"):
        make_mock(profile="nope", specs_dir=specs)


def test_merge_patch_follows_rfc_7386():
    assert merge_patch({"a": 1, "b": {"c": 2, "d": 3}, "l": [1]}, {"b": {"c": None, "e": 4}, "l": [2]}) == {
        "a": 1,
        "b": {"d": 3, "e": 4},
        "l": [2],
    }


def test_a_quirk_of_an_undeclared_profile_is_refused():
    from mockserver.errors import SpecError
    from mockserver.spec.loader import load_yaml
    from mockserver.spec.openapi import load_spec

    path = ROOT / "specs" / "facturacion.yaml"
    raw = load_yaml(path)
    raw["x-mock"]["profiles"] = {"other": {"description": "another"}}
    with pytest.raises(SpecError) as refused:
        load_spec(path, raw)
    assert any(
        p.pointer.endswith("/x-mock/quirks/0/profile")
        and "'upstream' is not a profile of x-mock.profiles (other)" in p.reason
        for p in refused.value.problems
    )


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        (
            "POST",
            "/api/v1/companies/1/config/reset",
            "Error al resetear configuración: Call to undefined method App\\Models\\Company::getDefaultConfigurations()",
        ),
        (
            "POST",
            "/api/v1/companies/1/config/migrate",
            "Error al migrar empresa: Call to undefined method App\\Models\\Company::migrateToNewConfigStructure()",
        ),
        (
            "GET",
            "/api/v1/config/defaults",
            "Error al obtener configuraciones por defecto: "
            "Call to undefined method App\\Models\\Company::getDefaultConfigurations()",
        ),
    ],
)
def test_the_configuration_routes_that_always_fail_upstream(mock, upstream, method, path, message):
    assert mock.request(method, path, headers=ADMIN).status_code == 200
    failed = upstream.request(method, path, headers=ADMIN)
    assert failed.status_code == 500
    assert failed.json() == {"success": False, "message": message}


def test_gre_body_refusals_are_500_upstream(mock, upstream):
    path = "/api/v1/companies/1/gre-credentials/clear"
    assert mock.request("DELETE", path, headers=ADMIN, json={"environment": "x"}).status_code == 422
    caught = upstream.request("DELETE", path, headers=ADMIN, json={"environment": "x"})
    assert caught.status_code == 500
    assert caught.json()["message"].startswith("Error al limpiar credenciales: ")
