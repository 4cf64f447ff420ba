"""Daftra's lists as the docs describe them: order, sort and direction, filters, limits (in-process)."""

from __future__ import annotations

import pytest
from seed import DAFTRA

pytestmark = pytest.mark.both_backends  # tests/conftest.py: on memory and on Redis


def invoices(mock, **query):
    response = mock.get("/api2/invoices.json", headers=DAFTRA, params=query)
    assert response.status_code == 200, response.text
    return [row["Invoice"] for row in response.json()["data"]]


def test_invoices_are_newest_first_unless_sorted(mock):
    dates = [row["date"] for row in invoices(mock)]
    assert dates == sorted(dates, reverse=True) and len(dates) >= 3
    assert [row["date"] for row in invoices(mock, direction="asc")] == sorted(dates)
    ids = [row["id"] for row in invoices(mock, sort="id", direction="ASC")]
    assert ids == sorted(ids)
    totals = [row["summary_total"] for row in invoices(mock, sort="summary_total")]
    assert totals == sorted(totals, reverse=True), "sort alone keeps the default direction, DESC"


def test_invoice_filters_narrow_the_list(mock):
    everything = invoices(mock)
    october = invoices(mock, date_from="2026-10-01", date_to="2026-10-31")
    assert october and all("2026-10-01" <= row["date"] <= "2026-10-31" for row in october)
    assert len(october) < len(everything)
    assert [row["id"] for row in invoices(mock, created_from="2026-11-01", created_to="2026-11-01")] == [
        row["id"] for row in everything if row["created"].startswith("2026-11-01")
    ], "a date bound takes in the whole day"
    big = invoices(mock, summary_total_from="1000")
    assert big and all(row["summary_total"] >= 1000 for row in big)
    assert all(row["summary_total"] <= 1000 for row in invoices(mock, summary_total_to=1000))
    assert {row["client_id"] for row in invoices(mock, client_id="2")} == {2}
    for status in {row["payment_status"] for row in everything}:
        assert {row["payment_status"] for row in invoices(mock, payment_status=status)} == {status}
    assert invoices(mock, tags=7) == [], "no invoice carries a tag"
    assert invoices(mock, recursive=1, custom_field_label="x") == everything, "accepted, narrowing nothing"
    assert invoices(mock, draft=1) == [row for row in everything if row["draft"]]


def test_invoice_limit_has_no_maximum_other_lists_do(mock):
    assert mock.get("/api2/invoices", headers=DAFTRA, params={"limit": 5000}).status_code == 200
    refused = mock.get("/api2/clients", headers=DAFTRA, params={"limit": 5000})
    assert refused.status_code == 400 and "limit" in refused.json()["validation_errors"]
    assert mock.get("/api2/invoices", headers=DAFTRA, params={"summary_total_from": "abc"}).status_code == 400


def test_clients_sort_by_created_as_seen_live(mock):
    def created(**query):
        rows = mock.get("/api2/clients", headers=DAFTRA, params={"limit": 1000, **query}).json()["data"]
        return [row["Client"]["created"] for row in rows]

    assert created(sort="created") == sorted(created())
    assert created(sort="created", direction="desc") == sorted(created(), reverse=True)
