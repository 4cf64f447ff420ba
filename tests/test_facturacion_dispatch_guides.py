"""Facturación dispatch guides (guía de remisión remitente, 09): the GRE ticket flow and its files, in-process."""

from __future__ import annotations

import base64
import io
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

from pypdf import PdfReader
from seed import ADMIN

CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"
CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$")
GUIDES = "/api/v1/dispatch-guides"
DRIVER = {
    "conductor_tipo": "Principal",
    "conductor_tipo_doc": "1",
    "conductor_num_doc": "44556677",
    "conductor_licencia": "Q44556677",
    "conductor_nombres": "JUAN",
    "conductor_apellidos": "PEREZ",
    "vehiculo_placa": "ABC123",
}
CARRIER = {
    "transportista_tipo_doc": "6",
    "transportista_num_doc": "20100070970",
    "transportista_razon_social": "TRANSPORTES DEL SUR S.A.C.",
    "transportista_nro_mtc": "MTC0001",
}


def guide(**extra: Any) -> dict[str, Any]:
    """A private-transport guide with flat starting-point fields and a nested arrival point."""
    body = {"company_id": 1, "branch_id": 1, "destinatario_id": 1, "serie": "T001", "fecha_emision": "2025-09-15"}
    body |= {"cod_traslado": "01", "mod_traslado": "02", "fecha_traslado": "2025-09-16", "peso_total": 12.5}
    body |= {"und_peso_total": "KGM", "num_bultos": 2, "partida_ubigeo": "150101", "partida_direccion": "Av. Lima 123"}
    body |= {"llegada": {"ubigeo": "150131", "direccion": "Av. Javier Prado 456"}}
    lines = [{"cantidad": 2, "unidad": "NIU", "descripcion": "Laptop", "codigo": "P001", "peso_total": 12.5}]
    return {**body, **DRIVER, "detalles": lines, **extra}


def create(mock, body: dict[str, Any]) -> dict[str, Any]:
    answer = mock.post(GUIDES, json=body, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    assert answer.json()["message"] == "Guía de remisión creada correctamente"
    return answer.json()["data"]


def prefer(outcome: str) -> dict[str, str]:
    return {**ADMIN, "Prefer": f"sunat={outcome}"}


def test_a_guide_goes_by_ticket_and_its_xml_cdr_and_pdf_are_built_from_it(mock):
    # fields upstream does not validate are dropped: a second plate, related documents, a line's SUNAT code
    stripped = {
        "vehiculo_placa_secundaria": "XYZ789",
        "documentos_relacionados": [{"tipo": "01"}],
        "observaciones": "x",
    }
    body = guide(**stripped)
    body["detalles"][0]["cod_prod_sunat"] = "43211503"
    document = create(mock, body)
    assert re.fullmatch(r"T001-\d{6}", document["numero_completo"]) and len(document["correlativo"]) == 6
    assert (document["tipo_documento"], document["estado_sunat"], document["version"]) == ("09", "PENDIENTE", "2022")
    assert (document["peso_total"], document["num_bultos"], document["client_id"]) == ("12.500", 2, 1)
    assert document["fecha_traslado"] == "2025-09-16T05:00:00.000000Z"
    assert document["partida"] == {"ubigeo": "150101", "direccion": "Av. Lima 123", "ruc": None, "cod_local": None}
    assert document["llegada"] == {
        "ubigeo": "150131",
        "direccion": "Av. Javier Prado 456",
        "ruc": None,
        "cod_local": None,
    }
    assert document["transportista"] is None and document["destinatario"]["razon_social"] == "COMERCIAL ANDINA S.A.C."
    driver = {"tipo": "Principal", "tipo_doc": "1", "num_doc": "44556677", "licencia": "Q44556677"}
    driver |= {"nombres": "JUAN", "apellidos": "PEREZ"}
    expected = {"placa": "ABC123", "placa_principal": "ABC123", "placa_secundaria": None, "conductor": driver}
    assert document["vehiculo"] == expected
    assert document["detalles"] == [
        {"cantidad": 2, "unidad": "NIU", "descripcion": "Laptop", "codigo": "P001", "peso_total": 12.5}
    ]
    assert not {"xml_path", "ticket", "partida_ubigeo", "documentos_relacionados", "observaciones"} & set(document)

    base = f"{GUIDES}/{document['id']}"
    assert mock.get(f"{base}/download-xml", headers=ADMIN).json() == {"success": False, "message": "XML no encontrado"}
    unsent = mock.post(f"{base}/check-status", headers=ADMIN)
    assert (unsent.status_code, unsent.json()["message"]) == (400, "La guía no tiene un ticket para consultar")
    sent = mock.post(f"{base}/send-sunat", headers=ADMIN)
    assert sent.status_code == 200 and sent.json()["message"] == "Guía de remisión enviada correctamente a SUNAT"
    ticket, data = sent.json()["ticket"], sent.json()["data"]
    assert UUID.match(ticket) and data["ticket"] == ticket and data["estado_sunat"] == "PROCESANDO"
    assert json.loads(data["respuesta_sunat"]) == {"success": True, "ticket": ticket}
    assert data["xml_path"] == f"guias-remision/xml/15092025/{document['numero_completo']}.xml"
    assert "company" not in data  # SUNAT's calls answer the guide re-read, without its relations
    assert mock.get(f"{base}/download-cdr", headers=ADMIN).json()["message"] == "CDR no encontrado"

    checked = mock.post(f"{base}/check-status", headers=ADMIN)
    assert checked.status_code == 200 and checked.json()["message"] == "Estado de la guía consultado correctamente"
    data = checked.json()["data"]
    number = document["numero_completo"]
    assert data["estado_sunat"] == "ACEPTADO" and data["cdr_path"] == f"guias-remision/cdr/15092025/R-{number}.zip"
    assert json.loads(data["respuesta_sunat"]) == {
        "code": "0",
        "description": f"La Guia de Remision numero {number}, ha sido aceptada",
    }

    xml = mock.get(f"{base}/download-xml", headers=ADMIN)
    assert xml.headers["content-type"] == "text/xml; charset=UTF-8"
    assert xml.headers["content-disposition"] == f"attachment; filename={number}.xml"
    root = ET.fromstring(xml.content)
    assert root.tag == "{urn:oasis:names:specification:ubl:schema:xsd:DespatchAdvice-2}DespatchAdvice"
    assert (root.findtext(f"{CBC}ID"), root.findtext(f"{CBC}IssueDate")) == (number, "2025-09-15")
    assert base64.b64decode(root.findtext(f".//{DS}DigestValue"), validate=True)
    customer = root.find(f"{CAC}DeliveryCustomerParty/{CAC}Party/{CAC}PartyIdentification/{CBC}ID")
    assert (customer.text, customer.get("schemeID")) == (document["destinatario"]["numero_documento"], "6")
    shipment = root.find(f"{CAC}Shipment")
    assert shipment.findtext(f"{CBC}GrossWeightMeasure") == document["peso_total"]
    assert shipment.findtext(f"{CBC}TotalTransportHandlingUnitQuantity") == "2"
    assert shipment.findtext(f"{CAC}ShipmentStage/{CBC}TransportModeCode") == "02"
    assert shipment.findtext(f"{CAC}ShipmentStage/{CAC}DriverPerson/{CBC}ID") == "44556677"
    assert shipment.findtext(f"{CAC}Delivery/{CAC}DeliveryAddress/{CBC}ID") == "150131"
    assert shipment.findtext(f"{CAC}Delivery/{CAC}Despatch/{CAC}DespatchAddress/{CBC}ID") == "150101"
    assert shipment.findtext(f"{CAC}TransportHandlingUnit/{CAC}TransportEquipment/{CBC}ID") == "ABC123"
    lines = root.findall(f"{CAC}DespatchLine")
    assert [(line.findtext(f"{CBC}DeliveredQuantity"), line.findtext(f".//{CBC}Description")) for line in lines] == [
        ("2", "Laptop")
    ]

    cdr = mock.get(f"{base}/download-cdr", headers=ADMIN)
    assert cdr.headers["content-disposition"] == f"attachment; filename=R-{number}.zip"
    with zipfile.ZipFile(io.BytesIO(cdr.content)) as archive:
        assert archive.namelist() == [f"R-20987654326-09-{number}.xml"]
        answer = ET.fromstring(archive.read(archive.namelist()[0]))
    assert answer.tag.endswith("ApplicationResponse")
    assert answer.findtext(f".//{CBC}ResponseCode") == "0" and answer.findtext(f".//{CBC}ReferenceID") == number

    assert mock.get(f"{base}/download-pdf", headers=ADMIN).json()["message"] == "PDF no encontrado"
    for format_name, width_mm in (("A4", 210), ("ticket", 50)):
        made = mock.post(f"{base}/generate-pdf", json={"format": format_name}, headers=ADMIN).json()
        assert made["data"]["document_type"] == "dispatch-guide" and made["data"]["format"] == format_name
        pdf = mock.get(f"{base}/download-pdf", headers=ADMIN)
        assert pdf.headers["content-disposition"] == f"attachment; filename={number}.pdf"
        page = PdfReader(io.BytesIO(pdf.content)).pages[0]
        assert round(float(page.mediabox.width) * 25.4 / 72) == width_mm
        assert number in page.extract_text().replace("\n", " ")
    assert made["data"]["pdf_path"] == f"guias-remision/pdf/15092025/{number}_ticket.pdf"

    again = mock.post(f"{base}/send-sunat", headers=ADMIN)
    assert (again.status_code, again.json()) == (
        400,
        {"success": False, "message": "La guía de remisión ya fue enviada y aceptada por SUNAT"},
    )


def test_a_refused_or_rejected_guide_can_be_sent_again(mock):
    public = create(mock, guide(mod_traslado="01", **CARRIER, partida={"ubigeo": "150101", "direccion": "Av. Lima 1"}))
    assert public["transportista"] == {"tipo_doc": "6", "num_doc": "20100070970"} | {
        "razon_social": "TRANSPORTES DEL SUR S.A.C.",
        "nro_mtc": "MTC0001",
    }
    base = f"{GUIDES}/{public['id']}"
    refused = mock.post(f"{base}/send-sunat", headers=prefer("reject:0111"))
    assert refused.status_code == 400
    assert (refused.json()["message"], refused.json()["error"]) == (
        "Error al enviar guía a SUNAT",
        "No tiene el perfil para enviar comprobantes electronicos",
    )
    assert refused.json()["data"]["estado_sunat"] == "PENDIENTE" and refused.json()["data"]["ticket"] is None
    assert json.loads(refused.json()["data"]["respuesta_sunat"])["code"] == "0111"
    unreachable = mock.post(f"{base}/send-sunat", headers=prefer("outage"))
    assert unreachable.status_code == 400 and unreachable.json()["error"] == "Could not connect to host"
    first_ticket = mock.post(f"{base}/send-sunat", headers=ADMIN).json()["ticket"]
    rejected = mock.post(f"{base}/check-status", headers=prefer("reject:3404"))
    assert rejected.json() == {
        "success": False,
        "message": "Error al consultar estado: El ubigeo del punto de llegada no existe",
    }
    assert mock.get(base, headers=ADMIN).json()["data"]["estado_sunat"] == "RECHAZADO"
    second_ticket = mock.post(f"{base}/send-sunat", headers=ADMIN).json()["ticket"]
    assert second_ticket != first_ticket
    down = mock.post(f"{base}/check-status", headers=prefer("outage"))
    assert down.status_code == 400 and down.json()["message"] == "Error al consultar estado: Could not connect to host"
    assert mock.get(base, headers=ADMIN).json()["data"]["estado_sunat"] == "PROCESANDO"  # nothing known yet
    assert mock.post(f"{base}/check-status", headers=ADMIN).json()["data"]["estado_sunat"] == "ACEPTADO"


def test_the_transport_mode_decides_what_a_guide_needs(mock):
    public = mock.post(GUIDES, json=guide(mod_traslado="01"), headers=ADMIN)
    assert public.status_code == 422
    assert public.json()["errors"] == {
        "transportista_tipo_doc": ["El tipo de documento del transportista es requerido para transporte público."],
        "transportista_num_doc": ["El número de documento del transportista es requerido para transporte público."],
        "transportista_razon_social": ["La razón social del transportista es requerida para transporte público."],
    }
    no_driver = {key: value for key, value in guide().items() if key not in DRIVER}
    private = mock.post(GUIDES, json=no_driver, headers=ADMIN).json()
    assert private["errors"] == {
        "conductor_tipo_doc": ["El tipo de documento del conductor es requerido para transporte privado."],
        "conductor_num_doc": ["El número de documento del conductor es requerido para transporte privado."],
        "conductor_licencia": ["La licencia del conductor es requerida para transporte privado."],
        "conductor_nombres": ["Los nombres del conductor son requeridos para transporte privado."],
        "conductor_apellidos": ["Los apellidos del conductor son requeridos para transporte privado."],
        "vehiculo_placa": ["La placa del vehículo es requerida."],
    }
    # between the company's own establishments (04), or with the M1L indicator, no driver is needed
    assert create(mock, {**no_driver, "cod_traslado": "04"})["vehiculo"] is None
    m1l = create(
        mock, {**no_driver, "indicadores": ["SUNAT_Envio_IndicadorTrasladoVehiculoM1L"], "vehiculo_placa": "M1"}
    )
    assert m1l["vehiculo"]["placa"] == "M1" and m1l["vehiculo"]["conductor"] is None
    nowhere = {key: value for key, value in guide().items() if not key.startswith(("partida", "llegada"))}
    missing = mock.post(GUIDES, json=nowhere, headers=ADMIN).json()["errors"]
    assert missing["partida_ubigeo"] == ["El campo partida ubigeo es obligatorio cuando partida no está presente."]
    assert set(missing) == {"partida_ubigeo", "partida_direccion", "llegada_ubigeo", "llegada_direccion"}
    early = mock.post(GUIDES, json=guide(fecha_traslado="2025-09-14"), headers=ADMIN).json()["errors"]
    assert early == {"fecha_traslado": ["La fecha de traslado debe ser igual o posterior a la fecha de emisión."]}
    elsewhere = mock.post(GUIDES, json=guide(branch_id=2), headers=ADMIN).json()["errors"]
    assert elsewhere == {"branch_id": ["La sucursal no pertenece a la empresa seleccionada."]}
    invalid = mock.post(GUIDES, json=guide(mod_traslado="03", peso_total=0, destinatario_id=None), headers=ADMIN)
    assert invalid.json()["errors"] == {
        "destinatario_id": ["El destinatario es requerido."],
        "mod_traslado": ["La modalidad de traslado debe ser válida (01=Transporte público, 02=Transporte privado)."],
        "peso_total": ["El peso total debe ser mayor a 0."],
    }
    unknown = mock.post(GUIDES, json=guide(destinatario_id=999999), headers=ADMIN).json()["errors"]
    assert unknown == {"destinatario_id": ["El destinatario seleccionado no existe."]}


def test_guides_are_listed_filtered_and_refused_as_upstream_words_it(mock):
    public = create(mock, guide(mod_traslado="01", **CARRIER, fecha_emision="2025-10-01", fecha_traslado="2025-10-01"))
    listed = mock.get(f"{GUIDES}?mod_traslado=01&fecha_desde=2025-10-01&fecha_hasta=2025-10-01", headers=ADMIN).json()
    assert listed["message"] == "Guías de remisión obtenidas correctamente" and listed["data"]["per_page"] == 15
    assert public["id"] in [g["id"] for g in listed["data"]["data"]]
    assert {g["mod_traslado"] for g in listed["data"]["data"]} == {"01"} and listed["data"]["data"][0]["destinatario"]
    refused = mock.get(f"{GUIDES}?mod_traslado=03&estado_sunat=ENVIADO&per_page=0&fecha_hasta=mañana", headers=ADMIN)
    assert refused.status_code == 422
    assert refused.json()["errors"] == {
        "estado_sunat": ["El estado SUNAT debe ser: PENDIENTE, PROCESANDO, ACEPTADO o RECHAZADO."],
        "mod_traslado": ["La modalidad de traslado debe ser válida (01=Transporte público, 02=Transporte privado)."],
        "fecha_hasta": ["La fecha hasta debe ser una fecha válida."],
        "per_page": ["Debe mostrar al menos 1 elemento por página."],
    }
    assert mock.get(GUIDES).status_code == 401
    reasons = mock.get(f"{GUIDES}/catalogs/transfer-reasons", headers=ADMIN).json()
    assert reasons["message"] == "Motivos de traslado obtenidos correctamente" and len(reasons["data"]) == 13
    assert reasons["data"][3] == {"code": "04", "name": "Traslado entre establecimientos de la misma empresa"}
    modes = mock.get(f"{GUIDES}/catalogs/transport-modes", headers=ADMIN).json()
    assert modes["data"] == [{"code": "01", "name": "Transporte público"}, {"code": "02", "name": "Transporte privado"}]
    bad_format = mock.post(f"{GUIDES}/{public['id']}/generate-pdf", json={"format": "a4"}, headers=ADMIN)
    assert bad_format.status_code == 400 and bad_format.json()["message"].startswith("Formato no válido")
    assert mock.get(f"{GUIDES}/{public['id']}/download-pdf?format=A3", headers=ADMIN).status_code == 400
    for method, suffix in ROUTES:
        answer = mock.request(method, f"{GUIDES}/999999{suffix}", headers=ADMIN)
        assert (answer.status_code, answer.json()["message"]) == (404, "Guía de remisión no encontrada"), suffix


ROUTES = [
    ("GET", ""),
    ("POST", "/send-sunat"),
    ("POST", "/check-status"),
    ("GET", "/download-xml"),
    ("GET", "/download-cdr"),
    ("GET", "/download-pdf"),
    ("POST", "/generate-pdf"),
]
