"""Soak: mixed traffic against a live mock for a while, sampling its memory (`make soak`).

The traffic is what a busy CI day looks like: creates and deletes, refused
duplicates, reads and list pages, bad input, unknown paths, and many
short-lived sessions (more than the session limit, so eviction is
exercised). It leaves the default state as it found it, so any growth is
the server's own. The journal fills and
wraps. Memory should level off once the bounded structures are full; the
report gives the resident size after warm-up, at the end and its peak, and
goes into bench/results.md between the soak markers.

usage: python bench/soak.py [--seconds 600] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import time
from pathlib import Path

import httpx
from run import rss_mb

from mockserver.server.process import ServerProcess

RESULTS = Path(__file__).resolve().parent / "results.md"
BEGIN, END = "<!-- soak:begin -->", "<!-- soak:end -->"
DAFTRA = {"APIKEY": "demo-daftra-api-key"}
FACTURACION = {"Authorization": "Bearer 1|sunat_demo_admin_token", "Accept": "application/json"}


async def traffic(
    client: httpx.AsyncClient, rng: random.Random, numbers: itertools.count, stop: float, counts: dict[str, int]
) -> None:
    while time.monotonic() < stop:
        kind = rng.choices(
            ["create_delete", "duplicate", "session", "read", "list", "bad", "unknown"], [3, 1, 3, 4, 2, 1, 1]
        )[0]
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "create_delete":
            # Daftra deletes for real (Facturación only deactivates), so this leaves the state as it was
            made = await client.post(
                "/api2/clients",
                headers=DAFTRA,
                json={"Client": {"business_name": "Soak", "client_number": f"S{next(numbers)}"}},
            )
            if made.status_code == 202:
                await client.delete(f"/api2/clients/{made.json()['id']}", headers=DAFTRA)
        elif kind == "duplicate":
            await client.post(
                "/api/v1/clients",
                headers=FACTURACION,
                json={
                    "company_id": 1,
                    "tipo_documento": "6",
                    "numero_documento": "20100047218",
                    "razon_social": "Soak",
                    "email": "soak@example.pe",
                },
            )
        elif kind == "session":
            headers = {**DAFTRA, "X-Mock-Session": f"run-{rng.randrange(500)}"}
            await client.post("/api2/clients", headers=headers, json={"Client": {"business_name": "Soak " * 20}})
        elif kind == "read":
            await client.get(f"/api2/invoices/{rng.randint(1, 3)}", headers=DAFTRA)
        elif kind == "list":
            await client.get("/api2/clients", headers=DAFTRA, params={"limit": 20})
        elif kind == "bad":
            await client.post(
                "/api2/clients",
                headers={**DAFTRA, "Content-Type": "application/json"},
                content=b'{"Client": ' + b"[" * 2000,
            )
        else:
            await client.get(f"/api2/nowhere/{rng.randrange(10**6)}", headers=DAFTRA)


async def soak(
    url: str, pid: int, seconds: float, concurrency: int
) -> tuple[list[tuple[float, float]], dict[str, int]]:
    samples: list[tuple[float, float]] = []
    counts: dict[str, int] = {}
    started = time.monotonic()
    stop = started + seconds
    numbers = itertools.count(70_000_000)
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        workers = [
            asyncio.create_task(traffic(client, random.Random(n), numbers, stop, counts)) for n in range(concurrency)
        ]
        while time.monotonic() < stop:
            samples.append((time.monotonic() - started, rss_mb(pid)[0]))
            await asyncio.sleep(min(5.0, seconds / 20))
        await asyncio.gather(*workers)
    samples.append((time.monotonic() - started, rss_mb(pid)[0]))
    return samples, counts


def report(samples: list[tuple[float, float]], counts: dict[str, int], seconds: float, concurrency: int) -> str:
    warm = next((mb for t, mb in samples if t >= seconds * 0.2), samples[0][1])
    end, peak = samples[-1][1], max(mb for _, mb in samples)
    growth = end - warm
    verdict = "flat" if growth <= max(warm * 0.10, 10) else "growing"
    timeline = " · ".join(f"{t:.0f}s {mb:.0f}" for t, mb in samples[:: max(len(samples) // 10, 1)])
    return "\n".join(
        [
            BEGIN,
            "## Soak",
            "",
            f"{seconds:.0f} s of mixed traffic at {concurrency} concurrent callers: "
            + ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(counts.items()))
            + " requests.",
            "",
            "| resident memory | MB |",
            "|---|---|",
            f"| after warm-up (20% of the run) | {warm:.1f} |",
            f"| at the end | {end:.1f} |",
            f"| peak | {peak:.1f} |",
            f"| growth after warm-up | {growth:+.1f} ({verdict}) |",
            "",
            f"Samples (time, MB): {timeline}",
            END,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with ServerProcess("--journal-size", "1000", "--session-limit", "100") as server:
        samples, counts = asyncio.run(soak(server.url, server.process.pid, args.seconds, args.concurrency))
    section = report(samples, counts, args.seconds, args.concurrency)
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text)
    print(section)


if __name__ == "__main__":
    main()
