"""Which names hold secrets: the one rule set behind every mask.

The pipeline masks credential headers, the journal (and the access log)
masks those and the fields and query parameters whose names say so, and the
contract harness's reports filter secret headers out of the curl commands
they print.
"""

from __future__ import annotations

import re

#: headers that carry credentials whatever the spec says (the admin token is the mock's own)
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-mock-admin-token"})
#: a field or parameter whose name says password, token, secret, api key or credential
_SECRET_FIELD = re.compile(r"pass(word)?|token|secret|api_?key|credential", re.IGNORECASE)
#: besides those words, what a header's name says when it carries a credential (`X-Auth-Id`, `X-Key`)
_HEADER_HINTS = ("auth", "key", "cookie")


def secret_field(name: str) -> bool:
    """A field or query parameter whose value is masked."""
    return _SECRET_FIELD.search(name) is not None


def secret_header(name: str) -> bool:
    """A header whose name says it carries a credential, whatever API it is sent to."""
    lower = name.lower()
    return lower in CREDENTIAL_HEADERS or secret_field(lower) or any(hint in lower for hint in _HEADER_HINTS)
