"""Facturación invoices and boletas: totals, numbering, SUNAT simulated and the files, in-process."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

import pytest
from pypdf import PdfReader
from seed import ADMIN

pytestmark = pytest.mark.both_backends  # tests/conftest.py: on memory and on Redis

CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
CLIENT = {"tipo_documento": "6", "numero_documento": "20100070970", "razon_social": "CLIENTE DEMO S.A.C."}


def line(cantidad: float, valor: float, tip: str = "10", **extra: Any) -> dict[str, Any]:
    return {
        "codigo": "P",
        "descripcion": "Producto",
        "unidad": "NIU",
        "cantidad": cantidad,
        "mto_valor_unitario": valor,
        "porcentaje_igv": 18,
        "tip_afe_igv": tip,
        **extra,
    }


def invoice(*lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "company_id": 1,
        "branch_id": 1,
        "serie": "F001",
        "fecha_emision": "2025-09-15",
        "moneda": "PEN",
        "forma_pago_tipo": "Contado",
        "client": CLIENT,
        "detalles": list(lines),
        **extra,
    }


def boleta(*lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = invoice(*lines, **{"serie": "B001", "metodo_envio": "individual", **extra})
    body.pop("forma_pago_tipo")
    return {**body, "client": {"tipo_documento": "1", "numero_documento": "44556677", "razon_social": "JUAN PEREZ"}}


def created(mock, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = mock.post(path, json=body, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]


# The reference's test vectors (facturacion-documents.md 9.4):
# gravadas, exoneradas, inafectas, gratuitas, igv gratuitas, igv, base ivap, ivap, icbper, total
VECTORS = {
    "factura gravada": (
        "/api/v1/invoices",
        invoice(line(2, 2542.37), line(1, 847.46)),
        ("5932.20", "0.00", "0.00", "0.00", "0.00", "1067.79", "0.00", "0.00", "0.00", "6999.99"),
    ),
    "factura gratuita": (
        "/api/v1/invoices",
        invoice(line(2, 100, "11"), line(1, 50, "13")),
        ("0.00", "0.00", "0.00", "250.00", "45.00", "0.00", "0.00", "0.00", "0.00", "0.00"),
    ),
    "factura mixta": (
        "/api/v1/invoices",
        invoice(line(10, 650), line(4, 100, "20"), line(5, 50, "30"), line(3, 100, "11")),
        ("6500.00", "400.00", "250.00", "300.00", "54.00", "1170.00", "0.00", "0.00", "0.00", "8320.00"),
    ),
    "factura ivap": (
        "/api/v1/invoices",
        invoice(line(100, 120, "17", porcentaje_igv=4)),
        ("0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "12000.00", "480.00", "0.00", "12480.00"),
    ),
    "boleta mixta completa": (
        "/api/v1/boletas",
        boleta(line(2, 100), line(3, 50, "20"), line(4, 20, "30"), line(1, 25, "15")),
        ("200.00", "150.00", "80.00", "25.00", "4.50", "36.00", "0.00", "0.00", "0.00", "466.00"),
    ),
    "boleta icbper": (
        "/api/v1/boletas",
        boleta(line(5, 15), line(3, 0.5, factor_icbper=1)),
        ("76.50", "0.00", "0.00", "0.00", "0.00", "13.77", "0.00", "0.00", "3.00", "93.27"),
    ),
}
FIGURES = (
    "mto_oper_gravadas",
    "mto_oper_exoneradas",
    "mto_oper_inafectas",
    "mto_oper_gratuitas",
    "mto_igv_gratuitas",
    "mto_igv",
    "mto_base_ivap",
    "mto_ivap",
    "mto_icbper",
    "mto_imp_venta",
)


@pytest.mark.parametrize("name", VECTORS)
def test_the_reference_vectors_hold(mock, name):
    path, body, expected = VECTORS[name]
    document = created(mock, path, body)
    assert tuple(document[figure] for figure in FIGURES) == expected
    shown = mock.get(f"{path}/{document['id']}", headers=ADMIN).json()["data"]
    assert tuple(shown[figure] for figure in FIGURES) == expected


def test_a_create_answers_as_upstream_and_drops_what_it_drops(mock):
    document = created(mock, "/api/v1/invoices", invoice(line(3, 0.5, factor_icbper=1), scenario="x", correlativo="9"))
    # invoices drop factor_icbper (no rule for it), so no ICBPER; the figures are decimal:2 strings
    assert document["mto_icbper"] == "0.00" and "factor_icbper" not in document["detalles"][0]
    assert document["fecha_emision"] == "2025-09-15T05:00:00.000000Z"  # a Lima date, serialised in UTC
    assert "estado_sunat" not in document and "scenario" not in document  # database defaults come on show
    assert document["leyendas"][0] == {"code": "1000", "value": "NÚMERO EN LETRAS CON 77/100 SOLES"}
    assert document["client"]["numero_documento"] == CLIENT["numero_documento"]
    shown = mock.get(f"/api/v1/invoices/{document['id']}", headers=ADMIN).json()
    assert shown["message"] == "Factura obtenida correctamente"
    assert shown["data"]["estado_sunat"] == "PENDIENTE" and shown["data"]["respuesta_sunat"] is None


def test_free_lines_have_their_legend_and_a_zero_total(mock):
    document = created(mock, "/api/v1/invoices", invoice(line(2, 100, "11")))
    assert {"code": "1002", "value": "TRANSFERENCIA GRATUITA DE UN BIEN Y/O SERVICIO PRESTADO GRATUITAMENTE"} in (
        document["leyendas"]
    )
    assert document["detalles"][0]["mto_precio_unitario"] == 0


def test_validation_speaks_the_requests_words(mock):
    empty = mock.post("/api/v1/invoices", json={}, headers=ADMIN)
    assert empty.status_code == 422
    errors = empty.json()["errors"]
    assert errors["company_id"] == ["La empresa es requerida."]
    assert errors["moneda"] == ["La moneda es requerida."]
    assert errors["detalles"] == ["Los detalles son requeridos."]
    assert empty.json()["message"].startswith("La empresa es requerida. (and ")
    wrong = mock.post("/api/v1/invoices", json=invoice(line(1, 1), moneda="EUR", branch_id=2), headers=ADMIN)
    # the branch of another company: the request's after-hook runs beside the failed rule, its message last
    assert list(wrong.json()["errors"].items()) == [
        ("moneda", ["La moneda debe ser PEN o USD."]),
        ("branch_id", ["La sucursal no pertenece a la empresa seleccionada."]),
    ]
    other = mock.post("/api/v1/invoices", json=invoice(line(1, 1), branch_id=2), headers=ADMIN)
    assert other.status_code == 422
    assert other.json()["errors"] == {"branch_id": ["La sucursal no pertenece a la empresa seleccionada."]}
    boleta_line = mock.post("/api/v1/boletas", json=boleta({**line(1, 1), "tip_afe_igv": None}), headers=ADMIN)
    assert boleta_line.json()["errors"] == {"detalles.0.tip_afe_igv": ["El tipo de afectación IGV es requerido."]}


def test_the_branch_company_after_hook_runs_beside_failed_rules(mock):
    # the issue's example: branch 2 is company 2's, and serie, forma_pago_tipo and detalles are missing
    sent = {k: v for k, v in invoice(branch_id=2).items() if k not in ("serie", "forma_pago_tipo", "detalles")}
    answer = mock.post("/api/v1/invoices", json=sent, headers=ADMIN)
    assert answer.status_code == 422
    assert list(answer.json()["errors"].items()) == [
        ("serie", ["La serie es requerida."]),
        ("forma_pago_tipo", ["El tipo de forma de pago es requerido."]),
        ("detalles", ["Los detalles son requeridos."]),
        ("branch_id", ["La sucursal no pertenece a la empresa seleccionada."]),
    ]
    assert answer.json()["message"] == "La serie es requerida. (and 3 more errors)"
    # an empty body: the hook's message joins branch_id's own "required" (reference 9.2)
    empty = mock.post("/api/v1/invoices", json={}, headers=ADMIN).json()["errors"]
    assert empty["branch_id"] == ["La sucursal es requerida.", "La sucursal no pertenece a la empresa seleccionada."]
    # an unknown branch: its exists rule at its place, the hook after it; a mistyped company is looked up by none
    unknown = mock.post("/api/v1/boletas", json={"company_id": "uno", "branch_id": 999}, headers=ADMIN).json()
    assert list(unknown["errors"])[:2] == ["company_id", "branch_id"]
    assert unknown["errors"]["company_id"] == ["The company_id must be an integer."]
    assert unknown["errors"]["branch_id"] == [
        "La sucursal seleccionada no existe.",
        "La sucursal no pertenece a la empresa seleccionada.",
    ]


def test_numbers_count_per_branch_type_and_serie_and_a_refusal_takes_none(mock):
    first = created(mock, "/api/v1/invoices", invoice(line(1, 10), serie="F777"))
    assert (first["correlativo"], first["numero_completo"]) == ("000001", "F777-000001")
    assert (
        mock.post("/api/v1/invoices", json=invoice(line(1, 10), serie="F777", moneda="X"), headers=ADMIN).status_code
        == 422
    )
    second = created(mock, "/api/v1/invoices", invoice(line(1, 10), serie="F777"))
    assert second["numero_completo"] == "F777-000002"
    # a boleta on the same serie counts on its own (type 03)
    assert created(mock, "/api/v1/boletas", boleta(line(1, 10), serie="F777"))["numero_completo"] == "F777-000001"


def test_invoice_sent_accepted_and_its_files_open(mock):
    document = created(mock, "/api/v1/invoices", invoice(line(2, 2542.37), line(1, 847.46)))
    base = f"/api/v1/invoices/{document['id']}"
    assert mock.get(f"{base}/download-xml", headers=ADMIN).json() == {"success": False, "message": "XML no encontrado"}
    sent = mock.post(f"{base}/send-sunat", headers=ADMIN)
    assert sent.status_code == 200 and sent.json()["message"] == "Factura enviada correctamente a SUNAT"
    data = sent.json()["data"]
    number = document["numero_completo"]
    assert data["estado_sunat"] == "ACEPTADO"
    assert json.loads(data["respuesta_sunat"]) == {
        "id": number,
        "code": "0",
        "description": f"La Factura numero {number}, ha sido aceptada",
        "notes": [],
    }
    assert data["xml_path"] == f"facturas/xml/15092025/{number}.xml"
    assert data["cdr_path"] == f"facturas/cdr/15092025/R-{number}.zip"

    xml = mock.get(f"{base}/download-xml", headers=ADMIN)
    assert xml.headers["content-type"] == "text/xml; charset=UTF-8"
    assert xml.headers["content-disposition"] == f"attachment; filename={number}.xml"
    root = ET.fromstring(xml.content)
    assert root.tag == "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
    assert root.findtext(f"{CBC}ID") == number
    assert root.find(f".//{DS}DigestValue").text == data["codigo_hash"]
    assert root.find(f".//{CBC}PayableAmount").text == data["mto_imp_venta"] == "6999.99"
    assert root.find(f".//{CBC}TaxAmount").text == data["total_impuestos"]
    assert (
        len(root.findall("{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}InvoiceLine")) == 2
    )

    cdr = mock.get(f"{base}/download-cdr", headers=ADMIN)
    assert cdr.headers["content-type"] == "application/zip"
    assert cdr.headers["content-disposition"] == f"attachment; filename=R-{number}.zip"
    with zipfile.ZipFile(io.BytesIO(cdr.content)) as archive:
        (entry,) = archive.namelist()
        assert entry == f"R-20987654326-01-{number}.xml"
        answer = ET.fromstring(archive.read(entry))
    assert answer.tag.endswith("ApplicationResponse") and answer.find(f".//{CBC}ResponseCode").text == "0"

    again = mock.post(f"{base}/send-sunat", headers=ADMIN)
    assert again.status_code == 400
    assert again.json() == {"success": False, "message": "La factura ya fue enviada y aceptada por SUNAT"}


@pytest.mark.parametrize(("format_name", "width_mm"), [("A4", 210), ("80mm", 80)])
def test_pdfs_are_real_and_in_the_format_asked(mock, format_name, width_mm):
    document = created(mock, "/api/v1/boletas", boleta(line(5, 15)))
    base = f"/api/v1/boletas/{document['id']}"
    assert mock.get(f"{base}/download-pdf", headers=ADMIN).json() == {"success": False, "message": "PDF no encontrado"}
    generated = mock.post(f"{base}/generate-pdf", json={"format": format_name}, headers=ADMIN).json()
    suffix = "" if format_name == "A4" else f"_{format_name}"
    assert generated["data"] == {
        "pdf_path": f"boletas/pdf/15092025/{document['numero_completo']}{suffix}.pdf",
        "format": format_name,
        "document_type": "boleta",
        "document_id": document["id"],
    }
    pdf = mock.get(f"{base}/download-pdf", headers=ADMIN)
    assert pdf.headers["content-type"] == "application/pdf"
    page = PdfReader(io.BytesIO(pdf.content)).pages[0]
    assert round(float(page.mediabox.width) / 72 * 25.4) == width_mm
    text = page.extract_text()
    assert document["numero_completo"] in text and "88.50" in text and "JUAN PEREZ" in text


def test_a_pdf_format_outside_the_list_is_the_upstreams_400(mock):
    document = created(mock, "/api/v1/invoices", invoice(line(1, 1)))
    for answer in (
        mock.post(f"/api/v1/invoices/{document['id']}/generate-pdf", json={"format": "a4"}, headers=ADMIN),
        mock.get(f"/api/v1/invoices/{document['id']}/download-pdf?format=A3", headers=ADMIN),
    ):
        assert answer.status_code == 400 and answer.json()["message"].startswith("Formato no válido.")


def test_a_rejected_document_can_be_sent_again(mock):
    document = created(mock, "/api/v1/boletas", boleta(line(1, 100)))
    base = f"/api/v1/boletas/{document['id']}"
    rejected = mock.post(f"{base}/send-sunat", headers={**ADMIN, "Prefer": "sunat=reject:2800"})
    assert rejected.status_code == 400
    body = rejected.json()
    message = "El dato ingresado en el tipo de documento de identidad del receptor no esta permitido."
    assert body["message"] == f"Error al enviar a SUNAT: {message}" and body["error_code"] == "2800"
    assert body["data"]["estado_sunat"] == "RECHAZADO" and body["data"]["cdr_path"] is None
    assert json.loads(body["data"]["respuesta_sunat"]) == {"code": "2800", "message": message}
    # the XML was built, SUNAT gave no CDR
    assert mock.get(f"{base}/download-xml", headers=ADMIN).status_code == 200
    assert mock.get(f"{base}/download-cdr", headers=ADMIN).json()["message"] == "CDR no encontrado"
    accepted = mock.post(f"{base}/send-sunat", headers=ADMIN)
    assert accepted.status_code == 200 and accepted.json()["data"]["estado_sunat"] == "ACEPTADO"
    assert mock.post(f"{base}/send-sunat", headers=ADMIN).json()["message"] == "La boleta ya fue aceptada por SUNAT"


def test_an_outage_through_the_operations_control(mock):
    document = created(mock, "/api/v1/invoices", invoice(line(1, 100)))
    control = "/__mock/controls/facturacion/sendInvoice"
    unknown = mock.put(control, json={"outcome": "strike"})
    assert unknown.status_code == 400 and "declared: reject, outage, timeout" in unknown.text
    undeclared = mock.put("/__mock/controls/facturacion/getInvoice", json={"outcome": "outage"})
    assert undeclared.status_code == 400 and "getInvoice declares no outcomes" in undeclared.text
    assert mock.put(control, json={"outcome": "outage"}).status_code == 200
    try:
        answer = mock.post(f"/api/v1/invoices/{document['id']}/send-sunat", headers=ADMIN)
    finally:
        mock.delete(control)
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "HTTP"
    assert answer.json()["message"] == "Error al enviar a SUNAT: Could not connect to host"
    asked = mock.post(f"/api/v1/invoices/{document['id']}/send-sunat", headers={**ADMIN, "Prefer": "sunat=strike"})
    assert asked.status_code == 422 and "declared: reject, outage, timeout" in asked.json()["message"]
    assert mock.post(f"/api/v1/invoices/{document['id']}/send-sunat", headers=ADMIN).status_code == 200


@pytest.mark.parametrize("kind", ["invoices", "boletas"])
def test_every_route_answers_an_unknown_id_and_a_missing_token(mock, kind):
    message = {"invoices": "Factura no encontrada", "boletas": "Boleta no encontrada"}[kind]
    routes = [("GET", ""), ("POST", "/send-sunat"), ("GET", "/download-xml"), ("GET", "/download-cdr")]
    routes += [("GET", "/download-pdf"), ("POST", "/generate-pdf")]
    for method, suffix in routes:
        answer = mock.request(method, f"/api/v1/{kind}/999999{suffix}", headers=ADMIN)
        assert (answer.status_code, answer.json()["message"]) == (404, message), suffix
        assert mock.request(method, f"/api/v1/{kind}/1{suffix}").status_code == 401


def test_lists_have_each_resources_envelope(mock):
    created(mock, "/api/v1/boletas", boleta(line(1, 1)))
    invoices = mock.get("/api/v1/invoices?per_page=1", headers=ADMIN).json()
    assert invoices["message"] == "Facturas obtenidas correctamente"
    assert invoices["data"]["per_page"] == 1 and len(invoices["data"]["data"]) == 1
    boletas = mock.get("/api/v1/boletas?estado_sunat=PENDIENTE", headers=ADMIN).json()
    assert set(boletas) == {"success", "data", "pagination"}
    assert all(item["estado_sunat"] == "PENDIENTE" for item in boletas["data"])
    refused = mock.get("/api/v1/invoices?per_page=500", headers=ADMIN)
    assert refused.json()["errors"] == {"per_page": ["No se pueden mostrar más de 100 elementos por página."]}


def test_pdf_formats_are_the_upstreams_five(mock):
    answer = mock.get("/api/v1/pdf/formats", headers=ADMIN).json()
    assert [(f["name"], f["width"], f["height"]) for f in answer["data"]] == [
        ("A4", 210, 297),
        ("A5", 148, 210),
        ("80mm", 80, 200),
        ("50mm", 50, 150),
        ("ticket", 50, 150),
    ]


def test_consulta_cpe_answers_from_the_mocks_own_state(mock):
    document = created(mock, "/api/v1/boletas", boleta(line(1, 100)))
    path = f"/api/v1/consulta-cpe/boleta/{document['id']}"
    before = mock.post(path, headers=ADMIN).json()["data"]
    assert before["consulta"]["estadocpe"] == "0" and before["consulta"]["descripcion_estado"] == "No existe"
    assert before["comprobante"]["monto"] == "118.00"
    mock.post(f"/api/v1/boletas/{document['id']}/send-sunat", headers=ADMIN)
    after = mock.post(path, headers=ADMIN).json()["data"]["consulta"]
    assert (after["estadocpe"], after["descripcion_estado"]) == ("1", "Aceptado")
    assert mock.post("/api/v1/consulta-cpe/factura/999999", headers=ADMIN).status_code == 404
