"""Facturación ubigeos (facturacion-documents.md 4 and 13.5): the upstream's whole data set, in-process."""

from __future__ import annotations

import pytest
from seed import ADMIN


def data(mock, path, **params):
    answer = mock.get(f"/api/v1/ubigeos/{path}", headers=ADMIN, params=params)
    assert answer.status_code == 200, answer.text
    assert answer.json()["success"] is True
    return answer.json()["data"]


def test_the_whole_data_set_is_served(mock):
    regions = data(mock, "regiones")
    assert len(regions) == 25 and len(data(mock, "provincias")) == 195 and len(data(mock, "distritos")) == 1874
    # ordered by name as MySQL's unicode collation orders it: Áncash right after Amazonas
    assert [r["nombre"] for r in regions[:3]] == ["Amazonas", "Áncash", "Apurímac"]
    assert {"id": "150000", "nombre": "Lima"} in regions


def test_provinces_of_a_region_embed_it(mock):
    lima = data(mock, "provincias", region_id="150000")
    assert len(lima) == 10 and {p["region_id"] for p in lima} == {"150000"}
    assert lima[0]["region"] == {"id": "150000", "nombre": "Lima"}
    names = [p["nombre"] for p in lima]
    assert names[:4] == ["Barranca", "Cajatambo", "Cañete", "Canta"], "ñ sorts as n, as MySQL's collation does"


def test_districts_filter_and_search(mock):
    found = data(mock, "distritos", provincia_id="150100", search="mira")
    assert [(d["id"], d["nombre"]) for d in found] == [("150122", "Miraflores"), ("150133", "San Juan de Miraflores")]
    assert found[0]["info_busqueda"] == "Miraflores / Lima  / Lima", "the double space is the upstream's data"
    assert found[0]["provincia"] == {"id": "150100", "nombre": "Lima", "region_id": "150000"}
    assert found[0]["region"] == {"id": "150000", "nombre": "Lima"}
    assert data(mock, "distritos", region_id="250000", provincia_id="150100") == []


def test_search_is_flat_and_limited_to_20(mock):
    found = data(mock, "search", q="miraflores")
    assert [d["id"] for d in found] == ["040110", "100506", "150122", "151021", "150133"]
    assert found[2] == {
        "id": "150122",
        "nombre": "Miraflores",
        "provincia": "Lima",
        "region": "Lima",
        "ubigeo_completo": "Lima - Lima - Miraflores",
    }
    assert len(data(mock, "search", q="an")) == 20


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "El campo de búsqueda es requerido"),
        ({"q": "a"}, "La búsqueda debe tener al menos 2 caracteres"),
        ({"q": "a" * 256}, "La búsqueda no puede exceder 255 caracteres"),
    ],
)
def test_search_refusals(mock, params, message):
    answer = mock.get("/api/v1/ubigeos/search", headers=ADMIN, params=params)
    assert answer.status_code == 422
    assert answer.json() == {"message": message, "errors": {"q": [message]}}


def test_a_district_by_its_code(mock):
    assert data(mock, "150101") == {
        "id": "150101",
        "nombre": "Lima",
        "provincia_id": "150100",
        "provincia": "Lima",
        "region_id": "150000",
        "region": "Lima",
        "ubigeo_completo": "Lima - Lima - Lima",
    }
    for code in ("150100", "abcdef"):  # a province's code is no district's
        missing = mock.get(f"/api/v1/ubigeos/{code}", headers=ADMIN)
        assert missing.status_code == 404 and missing.json() == {"success": False, "message": "Ubigeo no encontrado"}
    short = mock.get("/api/v1/ubigeos/15010", headers=ADMIN)
    assert short.status_code == 400
    assert short.json() == {"success": False, "message": "El código de ubigeo debe tener exactamente 6 dígitos"}
    assert mock.get("/api/v1/ubigeos/regiones").status_code == 401
