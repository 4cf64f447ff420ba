"""Serve the baseline or the mock the way `mockserver serve` serves the mock.

`mockserver serve` calls `uvicorn.run(app, http=BoundedHttpTools,
loop="uvloop")`. The baseline gets the same call, so the two differ only in
the app.

    python bench/serve.py baseline|mock --port N
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

from mockserver.server.http import BoundedHttpTools

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("target", choices=["baseline", "mock"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    if args.target == "baseline":
        from baseline import app
    else:
        from mockserver.config import ServerConfig
        from mockserver.server.app import create_app

        # the same options the bench passes to `mockserver serve`
        app = create_app(ServerConfig(reload=False))
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        http=BoundedHttpTools,
        loop="uvloop",
    )


if __name__ == "__main__":
    main()
