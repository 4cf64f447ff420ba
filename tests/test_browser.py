"""The console and a cross-origin browser app, in a real headless Chromium (`make test` installs it)."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from seed import ADMIN, DAFTRA, FACTURACION_SEED

from mockserver.server.process import ServerProcess, free_port

# live (every test here): Chromium loads pages from a real server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def rendered(url: str) -> str:
    """The page's DOM after its scripts ran and its requests came back."""
    assert CHROMIUM, "Chromium is missing: `make test` installs Debian's chromium package"
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--virtual-time-budget=5000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_console_lists_seeded_records_and_a_request_just_made(http, server):
    made = http.post("/api2/clients", headers=DAFTRA, json={"Client": {"business_name": "Seen In The Console"}})
    assert made.status_code == 202
    page = rendered(f"{server.url}/__mock/#daftra/clients")
    assert 'id="records-table"' in page
    assert "Nile Supplies" in page, "a seeded record is listed"
    assert "Seen In The Console" in page
    assert "POST /api2/clients" in page, "the journal shows the request made a moment before"
    assert "Daftra API v2" in page and "Facturación" in page


@pytest.fixture
def frontend(tmp_path: Path) -> Iterator:
    """Serves, from another port (so another origin), a page that calls a mock with a bearer token."""
    token = ADMIN["Authorization"].split()[1]
    servers = []

    def page_calling(mock_url: str) -> str:
        folder = tmp_path / str(len(servers))
        folder.mkdir()
        (folder / "index.html").write_text(f"""<!doctype html>
<html><body><ul id="clients">loading</ul><p id="status"></p>
<script>
fetch("{mock_url}/api/v1/clients", {{
  credentials: "include",
  headers: {{"Authorization": "Bearer {token}", "Accept": "application/json", "X-Mock-Session": "browser"}}
}}).then(async response => {{
  document.getElementById("status").textContent = "status " + response.status;
  const body = await response.json();
  document.getElementById("clients").innerHTML =
    body.data.map(client => "<li>" + client.razon_social + "</li>").join("");
}}).catch(error => {{ document.getElementById("status").textContent = "failed: " + error; }});
</script></body></html>""")
        handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
        served = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        threading.Thread(target=served.serve_forever, daemon=True).start()
        servers.append(served)
        return f"http://127.0.0.1:{served.server_address[1]}/index.html"

    yield page_calling
    for served in servers:
        served.shutdown()


def test_a_page_from_another_origin_calls_the_mock_with_credentials(frontend, server):
    page = rendered(frontend(server.url))
    assert "status 200" in page
    seeded = [c["razon_social"] for c in FACTURACION_SEED["clients"] if c["company_id"] == 1]
    assert seeded and all(name.replace("&", "&amp;") in page for name in seeded)


def test_with_cors_off_the_browser_refuses_the_answer(frontend):
    with ServerProcess("--no-cors") as closed:
        page = rendered(frontend(closed.url))
    assert "failed: TypeError" in page and "status 200" not in page
