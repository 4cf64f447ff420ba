"""The request journal's bounds, in-process: what a huge request leaves in memory, what reading masks,
and how `limit` is read wherever a journal or a table is paged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from inprocess import in_process
from seed import DAFTRA
from starlette.testclient import TestClient

from mockserver.server.journal import QUERY_LIMIT, RAW_HEADERS_LIMIT, Journal, RawEntry


@pytest.fixture(scope="module")
def mock() -> Iterator[TestClient]:
    with in_process() as client:
        yield client


def journal_of(client: TestClient) -> Journal:
    journal: Journal = client.app.state.server.journal  # type: ignore[attr-defined]
    return journal


def kept_bytes(entry: RawEntry) -> int:
    """The size of the headers and query an entry holds until it is read."""
    headers = entry.headers
    pairs = headers.items() if isinstance(headers, dict) else headers
    return len(entry.query) + sum(len(name) + len(value) for name, value in pairs)


def test_a_huge_header_is_cut_when_recorded_not_when_read(mock):
    mock.delete("/__mock/journal")
    huge = "v" * 200 * 1024  # under the 1 MiB request head, over the 64 KiB of headers: a 431
    answer = mock.get("/api2/clients/1", headers={**DAFTRA, "X-Noise": huge})
    assert answer.status_code == 431
    (kept,) = journal_of(mock).entries
    assert isinstance(kept, RawEntry)
    assert kept_bytes(kept) < 2 * 1024, "the entry held in memory is small before anyone reads it"

    (entry,) = mock.get("/__mock/journal").json()["entries"]
    assert entry["status"] == 431
    assert entry["request_headers"]["x-noise"].endswith(f"… ({len(huge)} characters)")
    assert len(entry["request_headers"]["x-noise"]) < 1100
    assert entry["request_headers"]["apikey"] == "[masked]", "a header list masked at once is masked all the same"


def test_thousands_of_headers_are_not_all_kept(mock):
    mock.delete("/__mock/journal")
    noise = [(f"X-Noise-{n}", "v" * 20) for n in range(1000)]
    assert mock.get("/api2/clients/1", headers=[*DAFTRA.items(), *noise]).status_code == 431
    (kept,) = journal_of(mock).entries
    assert kept_bytes(kept) < 8 * 1024
    (entry,) = mock.get("/__mock/journal").json()["entries"]
    headers = entry["request_headers"]
    assert len(headers) == 101 and headers["apikey"] == "[masked]"
    more = int(headers["(not kept)"].removesuffix(" more headers"))
    assert more > len(noise) - 100, "the note says how many were left out"


def test_answers_given_again_and_answers_that_differ_each_read_back_as_they_were_sent(mock):
    mock.delete("/__mock/journal")
    sent = [mock.get(f"/api2/clients/{n}", headers=DAFTRA) for n in (1, 1, 2, 1)]
    assert [answer.status_code for answer in sent] == [200] * 4
    entries = mock.get("/__mock/journal").json()["entries"]
    assert [entry["response_body"] for entry in reversed(entries)] == [answer.json() for answer in sent]
    assert sent[1].json() == sent[0].json() != sent[2].json()


def test_small_headers_are_kept_as_they_came_until_read(mock):
    mock.delete("/__mock/journal")
    mock.get("/api2/clients/1", headers=DAFTRA)
    (kept,) = journal_of(mock).entries
    assert isinstance(kept, RawEntry) and isinstance(kept.headers, list), "no masking while recording"
    assert kept_bytes(kept) <= RAW_HEADERS_LIMIT


def test_a_long_query_is_cut_when_recorded_and_masked_when_read(mock):
    mock.delete("/__mock/journal")
    query = "api_key=hunter2&filter=" + "x" * 10_000  # under the 16 KiB request target
    mock.get(f"/api2/clients.json?{query}", headers=DAFTRA)
    (kept,) = journal_of(mock).entries
    assert len(kept.query) < QUERY_LIMIT + 32, "cut before anyone reads it"
    (entry,) = mock.get("/__mock/journal").json()["entries"]
    assert entry["query"].startswith("api_key=[masked]&filter=xxx")
    assert entry["query"].endswith(f"… ({len(query)} characters)")


def test_reading_masks_only_the_entries_returned_and_counting_masks_none(mock):
    mock.delete("/__mock/journal")
    for _ in range(5):
        mock.get("/api2/clients/1", headers=DAFTRA)
    journal = journal_of(mock)
    assert mock.get("/__mock/journal/count", params={"api": "daftra"}).json() == {"count": 5}
    assert not any(isinstance(e, RawEntry) and e._masked for e in journal.entries), "counting masks nothing"

    page = mock.get("/__mock/journal", params={"api": "daftra", "limit": 2}).json()
    assert page["count"] == 5 and len(page["entries"]) == 2
    masked = [e.id for e in journal.entries if isinstance(e, RawEntry) and e._masked is not None]
    assert masked == [entry["id"] for entry in reversed(page["entries"])], "only the two returned"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/__mock/journal", "limit"),
        ("/__mock/apis/daftra/resources/clients", "limit"),
        ("/__mock/apis/daftra/resources/clients", "offset"),
    ],
)
def test_a_limit_that_is_not_a_whole_number_is_a_400_naming_it(mock, path, name):
    answer = mock.get(path, params={name: "ten"})
    assert answer.status_code == 400
    assert f"{name} is a whole number" in answer.text
    assert mock.get(path, params={name: "-3"}).status_code == 200, "below zero reads as zero"
