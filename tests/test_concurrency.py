"""Concurrent writes against a live server: every outcome is one that some
serial order of the same requests would have produced."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from hostile import DAFTRA_API, FACTURACION
from seed import ADMIN, DAFTRA

# live (every test here): the interleavings looked for are those of uvicorn serving a couple of hundred
# connections at once, each read from its own socket

DUPLICATE = "Ya existe un cliente con el mismo tipo y número de documento en esta empresa"


def together(url: str, requests: list[tuple[str, str, dict[str, str], Any]]) -> list[httpx.Response]:
    """Send every request at once, each on its own connection, and return the answers in order."""

    async def run() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
            return await asyncio.gather(
                *(client.request(method, path, headers=headers, json=body) for method, path, headers, body in requests)
            )

    return asyncio.run(run())


def test_200_creates_of_one_document_store_exactly_one(server, http):
    document = {
        "company_id": 1,
        "tipo_documento": "6",
        "numero_documento": "20999999991",
        "razon_social": "CARRERA S.A.C.",
    }
    answers = together(server.url, [("POST", "/api/v1/clients", ADMIN, document)] * 200)

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] + [400] * 199
    refused = [answer.json() for answer in answers if answer.status_code == 400]
    assert all(body == {"success": False, "message": DUPLICATE} for body in refused)
    stored = [c for c in FACTURACION.records(http) if c["numero_documento"] == document["numero_documento"]]
    created = next(answer.json()["data"] for answer in answers if answer.status_code == 201)
    assert [c["id"] for c in stored] == [created["id"]]


def test_concurrent_updates_and_soft_deletes_of_one_record_never_tear_it(server, http):
    created = http.post(
        "/api/v1/clients",
        headers=ADMIN,
        json={"tipo_documento": "1", "numero_documento": "40000001", "razon_social": "ORIGINAL"},
    ).json()["data"]
    path = f"/api/v1/clients/{created['id']}"
    updates = [
        (
            "PUT",
            path,
            ADMIN,
            {
                "company_id": 1,
                "tipo_documento": "1",
                "numero_documento": "40000001",
                "razon_social": f"NAME {i}",
                "telefono": f"{i}",
            },
        )
        for i in range(60)
    ]
    deletes = [("DELETE", path, ADMIN, None)] * 5
    answers = together(server.url, updates[:30] + deletes + updates[30:])

    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers if a.status_code != 200]
    final = http.get(path, headers=ADMIN).json()["data"]
    # One update's fields, never a mix of two; a soft delete sent with them leaves it inactive.
    assert final["razon_social"] == f"NAME {final['telefono']}"
    assert final["activo"] is False


def test_concurrent_updates_and_deletes_of_one_record_agree_with_a_serial_order(server, http):
    created = http.post("/api2/clients.json", headers=DAFTRA, json={"Client": {"business_name": "Original"}}).json()
    path = f"/api2/clients/{created['id']}.json"
    updates = [
        ("PUT", path, DAFTRA, {"Client": {"business_name": f"Name {i}", "first_name": f"{i}"}}) for i in range(60)
    ]
    deletes = [("DELETE", path, DAFTRA, None)] * 5
    answers = together(server.url, updates[:30] + deletes + updates[30:])

    update_statuses = {answer.status_code for answer in answers[:30] + answers[35:]}
    delete_statuses = sorted(answer.status_code for answer in answers[30:35])
    assert update_statuses <= {200, 404}
    assert delete_statuses == [200, 404, 404, 404, 404]  # deleted once; the others found nothing
    for answer in answers:
        if answer.status_code == 404:
            assert answer.json() == {"result": "failed", "code": 404, "message": "Item not found"}
    assert http.get(path, headers=DAFTRA).status_code == 404
    assert all(c["id"] != int(created["id"]) for c in DAFTRA_API.records(http))


def test_concurrent_updates_leave_one_whole_update(server, http):
    created = http.post("/api2/clients.json", headers=DAFTRA, json={"Client": {"business_name": "Original"}}).json()
    path = f"/api2/clients/{created['id']}.json"
    answers = together(
        server.url,
        [("PUT", path, DAFTRA, {"Client": {"business_name": f"Name {i}", "first_name": f"{i}"}}) for i in range(100)],
    )

    assert all(answer.status_code == 200 for answer in answers)
    final = http.get(path, headers=DAFTRA).json()["data"]["Client"]
    assert final["business_name"] == f"Name {final['first_name']}"


def test_client_numbers_stay_unique_and_gap_free_under_concurrent_creates(server, http):
    def numbers() -> list[int]:
        return [int(c["client_number"]) for c in DAFTRA_API.records(http)]

    # the first number may lie past the highest listed one: an earlier test of this module deletes a client
    highest = max(numbers())
    answers = together(
        server.url,
        [("POST", "/api2/clients.json", DAFTRA, {"Client": {"business_name": f"Parallel {i}"}}) for i in range(150)],
    )

    assert all(answer.status_code == 202 for answer in answers)
    issued = sorted(int(answer.json()["client_number"]) for answer in answers)
    assert issued[0] > highest
    assert issued == list(range(issued[0], issued[0] + 150))
    assert len({answer.json()["id"] for answer in answers}) == 150
    assert sorted(numbers())[-150:] == issued


def test_concurrent_invoice_creates_on_one_serie_take_distinct_gap_free_numbers(server, http):
    document = {
        "company_id": 1,
        "branch_id": 1,
        "serie": "F900",
        "fecha_emision": "2025-09-15",
        "moneda": "PEN",
        "forma_pago_tipo": "Contado",
        "client": {"tipo_documento": "6", "numero_documento": "20100070970", "razon_social": "CLIENTE"},
        "detalles": [
            {
                "codigo": "P",
                "descripcion": "X",
                "unidad": "NIU",
                "cantidad": 1,
                "mto_valor_unitario": 10,
                "tip_afe_igv": "10",
            }
        ],
    }
    answers = together(server.url, [("POST", "/api/v1/invoices", ADMIN, document)] * 100)
    assert [answer.status_code for answer in answers] == [201] * 100
    numbers = sorted(answer.json()["data"]["numero_completo"] for answer in answers)
    # the serie is new: its counter is created by the first create, and every number is taken once
    assert numbers == [f"F900-{n:06d}" for n in range(1, 101)]
