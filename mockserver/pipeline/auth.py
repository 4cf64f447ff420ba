"""Authentication against the spec's security schemes, by value.

A scheme's `x-mock` names the table holding its credentials and the field
compared with what the caller presents; a credential may point at a
principal (the account acting) through `principal: {resource, key}`. A presented value
that is not stored is refused like a missing one: shape alone never passes.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mockserver.errors import AuthFailure
from mockserver.expressions.templates import Render, compile_template
from mockserver.pipeline.masking import CREDENTIAL_HEADERS
from mockserver.spec.model import Relation, SchemeMock
from mockserver.state.store import Row, Store

_ALPHABET = string.ascii_letters + string.digits


@dataclass
class Identity:
    credential: Row | None = None
    principal: Row | None = None


ANONYMOUS = Identity()


@dataclass
class Scheme:
    name: str
    kind: str  # "bearer" or "apiKey"
    location: str  # header, query or cookie
    parameter: str
    table: str
    key: str
    principal: Relation | None
    issue: dict[str, Render]
    reject_headers: tuple[str, ...]
    #: the credential field that holds the scopes it grants (checked against operations' `security` scopes)
    scopes: str
    #: the credential field holding when it stops working, if credentials expire
    expires: str | None = None

    @classmethod
    def from_spec(cls, name: str, scheme: Mapping[str, Any], mock: SchemeMock) -> Scheme:
        # the loader has checked the scheme is http bearer or apiKey (`mockserver.spec.checks`)
        if scheme.get("type") == "http":
            kind, location, parameter = "bearer", "header", "authorization"
        else:
            kind, location, parameter = "apiKey", scheme.get("in", "header"), scheme["name"]
        return cls(
            name=name,
            kind=kind,
            location=location,
            parameter=parameter,
            table=mock.credentials,
            key=mock.key,
            principal=mock.principal,
            issue={field: compile_template(value) for field, value in mock.issue.items()},
            reject_headers=mock.reject_headers,
            scopes=mock.scopes,
            expires=mock.expires,
        )

    def present(self, value: str) -> dict[str, str]:
        """The parameter (in `location`) that carries `value` the way `presented` reads it back."""
        if self.kind == "bearer":
            return {"Authorization": f"Bearer {value}"}
        return {self.parameter: value}

    def presented(self, headers: Mapping[str, str], query: Mapping[str, str], cookies: Mapping[str, str]) -> str | None:
        source = {"header": headers, "query": query, "cookie": cookies}[self.location]
        value = source.get(self.parameter)
        if value is None:
            return None
        if self.kind == "bearer":
            scheme, _, presented = value.partition(" ")
            if scheme.lower() != "bearer":
                return None
            value = presented
        value = value.strip()
        return value or None


class Authenticator:
    def __init__(self, schemes: Mapping[str, Mapping[str, Any]], mocks: Mapping[str, SchemeMock]) -> None:
        self.schemes = {name: Scheme.from_spec(name, scheme, mocks[name]) for name, scheme in schemes.items()}

    def key_headers(self) -> list[str]:
        """Headers that carry an API key (a browser must be allowed to send them)."""
        return [s.parameter for s in self.schemes.values() if s.location == "header" and s.kind == "apiKey"]

    def secret_headers(self) -> list[str]:
        """Headers that carry credentials, to be masked wherever requests are recorded."""
        return [scheme.parameter for scheme in self.schemes.values() if scheme.location == "header"]

    def index_fields(self) -> dict[str, set[tuple[str, ...]]]:
        """Credential lookups the store should index."""
        wanted: dict[str, set[tuple[str, ...]]] = {}
        for scheme in self.schemes.values():
            wanted.setdefault(scheme.table, set()).add((scheme.key,))
        return wanted

    def authenticate(
        self,
        requirements: Sequence[Mapping[str, list[str]]],
        store: Store,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        cookies: Mapping[str, str],
    ) -> Identity:
        if not requirements or any(not requirement for requirement in requirements):
            return ANONYMOUS
        failure = "unauthenticated"
        for requirement in requirements:
            identity: Identity | None = None
            for name, scopes in requirement.items():
                scheme = self.schemes[name]
                if any(header in headers for header in scheme.reject_headers):
                    identity = None
                    break
                identity = self._identify(scheme, store, scheme.presented(headers, query, cookies))
                if identity is None:
                    break
                granted = identity.credential.get(scheme.scopes) if identity.credential is not None else None
                if scopes and granted is not None and not set(scopes) <= set(granted):
                    failure, identity = "forbidden", None
                    break
            if identity is not None:
                return identity
        raise AuthFailure(failure)

    def issue(self, scheme_name: str, store: Store, principal: Row) -> Row:
        """Store a new credential for a principal (a login) and return it."""
        scheme = self.schemes[scheme_name]
        table = store.table(scheme.table)
        record: dict[str, Any] = {}
        if scheme.principal is not None:
            record[scheme.principal.key] = principal.get("id")
        stored = table.insert(record)
        context = {
            "credential": stored,
            "principal": principal,
            "random": "".join(secrets.choice(_ALPHABET) for _ in range(40)),
        }
        table.update(stored["id"], {field: render(context) for field, render in scheme.issue.items()})
        return Row(table, stored)

    @staticmethod
    def revoke(identity: Identity) -> None:
        credential = identity.credential
        if credential is not None and credential.data.get("id") in credential.table.records:
            credential.table.delete(credential.data["id"])

    @staticmethod
    def _identify(scheme: Scheme, store: Store, value: str | None) -> Identity | None:
        if value is None:
            return None
        table = store.table(scheme.table)
        found = next(iter(table.find({scheme.key: value})), None)
        if found is None or (scheme.expires is not None and _expired(found.get(scheme.expires))):
            return None
        credential = Row(table, found)
        if scheme.principal is None:
            return Identity(credential, credential)
        principal = store.table(scheme.principal.resource).row(found.get(scheme.principal.key))
        if principal is None:
            return None
        return Identity(credential, principal)


def _expired(until: Any) -> bool:
    """Whether a credential's expiry (a timestamp, UTC when it names no zone) has passed; none or unreadable: never."""
    if until in (None, ""):
        return False
    try:
        moment = datetime.fromisoformat(str(until))
    except ValueError:
        return False
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) <= datetime.now(UTC)


def secret_headers(names: Iterable[str] = ()) -> frozenset[str]:
    """The headers to mask: credentials everywhere, plus an API's own (worked out once per API)."""
    return CREDENTIAL_HEADERS | {name.lower() for name in names}
