"""Serve the baseline or the mock the way `mockserver serve` serves the mock.

`mockserver serve` calls `uvicorn.run(app, http="h11",
h11_max_incomplete_event_size=HEAD_BYTES)` with the default loop (uvloop when
it is installed). The baseline gets the same call, so the two differ only in
the app. `--http httptools` serves either with the other parser, for the
informational rows that show what the choice of h11 costs.

    python bench/serve.py baseline|mock --port N [--http h11|httptools]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

from mockserver.pipeline.limits import HEAD_BYTES

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("target", choices=["baseline", "mock"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--http", choices=["h11", "httptools"], default="h11")
    args = parser.parse_args()
    if args.target == "baseline":
        from baseline import app
    else:
        from mockserver.config import ServerConfig
        from mockserver.server.app import create_app

        # the same options the bench passes to `mockserver serve`
        app = create_app(ServerConfig(reload=False))
    options = {"h11_max_incomplete_event_size": HEAD_BYTES} if args.http == "h11" else {}
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False, http=args.http, **options)


if __name__ == "__main__":
    main()
