"""The image's HEALTHCHECK: exit 0 when the mock answers its health endpoint with 200.

Only the standard library, so it runs with any Python in the image, and it
follows MOCKSERVER_PORT so a port changed at run time is still checked.
"""

import os
import sys
import urllib.request

port = os.environ.get("MOCKSERVER_PORT", "8000")
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__mock/health", timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError as exc:  # refused, timed out, or an HTTP error status
    print(f"mockserver health check failed: {exc}", file=sys.stderr)
    sys.exit(1)
