"""The on-disk start-up cache: a parsed document is read back, never stale, never a malformed one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from inprocess import bundled_specs

from mockserver.config import DEFAULT_SPECS
from mockserver.errors import SpecError
from mockserver.server.app import create_app
from mockserver.spec import cache, loader, openapi, parsing
from mockserver.spec.openapi import load_spec

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache of the test's own, and a process that has parsed nothing yet."""
    monkeypatch.setenv(cache.DIRECTORY_VARIABLE, str(tmp_path / "cache"))
    monkeypatch.delenv(cache.OFF_VARIABLE, raising=False)
    monkeypatch.setattr(loader, "_PARSED", {})
    return tmp_path / "cache" / "documents"


def restart(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a new process starts with: the disk cache only, and a parser that must not be called."""
    monkeypatch.setattr(loader, "_PARSED", {})

    def refuse(path: Path, text: bytes) -> None:
        raise AssertionError(f"{path} was parsed again")

    monkeypatch.setattr(parsing, "parse", refuse)


def test_a_parsed_document_is_read_back_by_the_next_start(folder, tmp_path, monkeypatch):
    path = tmp_path / "spec.yaml"
    path.write_text("info: {title: T}\nwhen: 2025-06-01\nlist: [1, two]\n", encoding="utf-8")
    first = loader.load_yaml(path)
    assert len(list(folder.glob("*.pickle"))) == 1
    restart(monkeypatch)
    assert loader.load_yaml(path) == first


def test_an_edited_document_is_parsed_again(folder, tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("title: one\n", encoding="utf-8")
    assert loader.load_yaml(path) == {"title": "one"}
    loader._PARSED.clear()
    path.write_text("title: two\n", encoding="utf-8")
    assert loader.load_yaml(path) == {"title": "two"}


def test_a_malformed_document_is_refused_and_never_kept(folder, tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("title: one\n", encoding="utf-8")
    loader.load_yaml(path)
    path.write_text("title: one\ntitle: two\n", encoding="utf-8")
    for _ in range(2):  # the second time too: nothing of the refused text was kept
        with pytest.raises(SpecError) as refused:
            loader.load_yaml(path)
        assert refused.value.file == str(path) and refused.value.line == 2
        assert "duplicate key 'title'" in str(refused.value)
    assert len(list(folder.glob("*.pickle"))) == 1  # the good version's only


def test_a_damaged_entry_is_a_miss(folder, tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("title: one\n", encoding="utf-8")
    loader.load_yaml(path)
    (entry,) = folder.glob("*.pickle")
    entry.write_bytes(b"\x80\x05not a pickle")
    loader._PARSED.clear()
    assert loader.load_yaml(path) == {"title": "one"}


def test_the_cache_can_be_turned_off(folder, tmp_path, monkeypatch):
    monkeypatch.setenv(cache.OFF_VARIABLE, "1")
    path = tmp_path / "spec.yaml"
    path.write_text("title: one\n", encoding="utf-8")
    assert loader.load_yaml(path) == {"title": "one"}
    assert not folder.exists()


def test_a_checked_spec_is_read_back_and_its_templates_are_still_looked_for(folder, tmp_path, monkeypatch):
    specs = tmp_path / "specs"
    shutil.copytree(DEFAULT_SPECS / "templates", specs / "templates")
    shutil.copy(DEFAULT_SPECS / "facturacion.yaml", specs / "facturacion.yaml")
    first = load_spec(specs / "facturacion.yaml")
    assert len(list((folder.parent / "checked").glob("*.pickle"))) == 1
    assert len(list((folder.parent / "meaning").glob("*.pickle"))) == 1  # it passed its meaning checks
    restart(monkeypatch)

    def refuse(*_: object) -> None:
        raise AssertionError("the meaning checks ran again")

    monkeypatch.setattr(openapi, "meaning_problems", refuse)
    again = load_spec(specs / "facturacion.yaml")
    assert again.resolved == first.resolved and again.operations == first.operations
    template = next((specs / "templates").rglob("*.j2"))
    template.unlink()  # what lies beyond the document is checked on every load
    with pytest.raises(SpecError, match="is not a file beside the spec"):
        load_spec(specs / "facturacion.yaml")


#: a start in a fresh interpreter: the bundled specs' app and one answer, then what it imported
START = """
import asyncio, sys
from mockserver.config import ServerConfig
from mockserver.server.app import create_app

app = create_app(ServerConfig(reload=False))
statuses = []
scope = {"type": "http", "method": "GET", "path": "/api2/clients/1", "query_string": b"",
         "headers": [(b"host", b"mock"), (b"apikey", b"demo-daftra-api-key")]}

async def receive():
    return {"type": "http.request", "body": b"", "more_body": False}

async def send(message):
    if message["type"] == "http.response.start":
        statuses.append(message["status"])

asyncio.run(app(scope, receive, send))
print(statuses, sorted({"yaml", "jsonschema", "jinja2"} & set(sys.modules)))

# once up and idle, the server imports in the background what the start left to the first request needing it
async def serving():
    async with app.router.lifespan_context(app):
        for _ in range(500):
            if {"jsonschema", "jinja2"} <= set(sys.modules):
                break
            await asyncio.sleep(0.01)

asyncio.run(serving())
print(sorted({"yaml", "jsonschema", "jinja2"} & set(sys.modules)))
"""


def test_a_start_from_a_warm_cache_imports_neither_pyyaml_nor_jsonschema_nor_jinja2_until_it_is_up():
    # this process's build of the same app leaves every document and template in the cache
    create_app(specs=bundled_specs(None))
    started = subprocess.run([sys.executable, "-c", START], capture_output=True, text=True, check=True, cwd=ROOT)
    assert started.stdout.split("\n")[:2] == ["[200] []", "['jinja2', 'jsonschema']"], started.stdout
