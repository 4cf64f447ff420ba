"""Routing, content and credential errors, each in its API's own envelope."""

from __future__ import annotations

import pytest
from seed import ADMIN, DAFTRA


def test_unknown_routes(mock):
    response = mock.get("/api/v1/nothing-here", headers=ADMIN)
    assert response.status_code == 404
    assert response.json() == {"message": "The route api/v1/nothing-here could not be found."}
    response = mock.get("/api2/customers", headers=DAFTRA)
    assert response.status_code == 404 and response.json()["result"] == "failed"
    assert mock.get("/elsewhere").status_code == 404


def test_wrong_method_is_405_with_allow_before_auth(mock):
    response = mock.post("/api/v1/clients/1")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, PUT, DELETE, PATCH"
    assert response.json()["message"] == (
        "The POST method is not supported for route api/v1/clients/1. Supported methods: GET, HEAD, PUT, DELETE, PATCH."
    )
    options = mock.options("/api2/clients")
    assert options.status_code == 200 and options.headers["allow"] == "GET, HEAD, POST"


def test_head_answers_like_get_without_a_body(mock):
    response = mock.head("/api/v1/clients", headers=ADMIN)
    assert response.status_code == 200 and response.content == b""


@pytest.mark.parametrize(
    "content,content_type,rule_text",
    [
        (b'{"razon_social": ', "application/json", "The request body is not valid JSON"),
        (b"[1, 2]", "application/json", "The request body must be a JSON object."),
        (
            b'{"x": 1}',
            "text/plain",
            "The request body must be sent as application/json, application/x-www-form-urlencoded or multipart/form-data.",
        ),
        (b'{"x": NaN}', "application/json", "The request body is not valid JSON"),
    ],
)
def test_unreadable_bodies_are_422_in_the_envelope(mock, content, content_type, rule_text):
    response = mock.post("/api/v1/clients", headers={**ADMIN, "Content-Type": content_type}, content=content)
    assert response.status_code == 422
    body = response.json()
    assert body["success"] is False and body["message"] == "Errores de validación"
    assert body["errors"]["body"][0].startswith(rule_text)


def test_unreadable_daftra_body_is_400_in_its_envelope(mock):
    response = mock.post("/api2/clients", headers={**DAFTRA, "Content-Type": "application/json"}, content=b"{oops")
    assert response.status_code == 400
    assert response.json()["validation_errors"]["body"].startswith("The request body is not valid JSON")


def test_ids_that_name_nothing_are_404(mock):
    for raw in ("0", "-1", "abc", "99999999999999999999", "1.5"):
        response = mock.get(f"/api/v1/clients/{raw}", headers=ADMIN)
        assert response.status_code == 404, raw
        assert response.json() == {"message": f"No query results for model [App\\Models\\Client] {raw}"}


def test_bad_preferences_are_explained(mock):
    response = mock.post("/api/v1/clients", headers={**ADMIN, "Prefer": "code=418"}, json={})
    assert response.status_code == 422
    assert "418 is not documented" in response.json()["message"]


def test_spanish_messages_on_request(make_mock):
    response = make_mock(locale="es").post("/api/v1/clients", headers=ADMIN, json={"email": "x"})
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "tipo_documento": ["El campo tipo documento es obligatorio."],
        "numero_documento": ["El campo numero documento es obligatorio."],
        "razon_social": ["El campo razon social es obligatorio."],
        "email": ["El campo correo electrónico no es un correo válido."],
    }
