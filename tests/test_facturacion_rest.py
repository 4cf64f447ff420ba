"""Facturación: a served PDF renders, and the routes and quirks issue 15 left for last, in-process."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest
from seed import ADMIN
from test_facturacion_documents import created, invoice, line

#: a rendered pixel darker than this (0 black, 255 white) is ink
INK = 128


@pytest.mark.parametrize(("format_name", "width_px"), [("A4", 596), ("ticket", 142)])
def test_an_invoice_pdf_renders_to_a_page_with_ink_on_it(mock, format_name, width_px):
    document = created(mock, "/api/v1/invoices", invoice(line(2, 2542.37)))
    base = f"/api/v1/invoices/{document['id']}"
    assert mock.post(f"{base}/generate-pdf", json={"format": format_name}, headers=ADMIN).status_code == 200
    pdf = pdfium.PdfDocument(mock.get(f"{base}/download-pdf", headers=ADMIN).content)
    try:
        bitmap = pdf[0].render(scale=1, grayscale=True)  # 72 dpi, one byte a pixel
        pixels = bytes(bitmap.buffer)
        width = bitmap.width
    finally:
        pdf.close()
    assert width == width_px  # the page is the format's width (210 mm, 50 mm) at 72 dpi
    inked = sum(1 for value in pixels if value < INK)
    # text in black on white: some ink, and far from all of the page
    assert 0.001 < inked / len(pixels) < 0.5, inked
