"""Trusted documents: with ``LOTGRAPH_TRUSTED_DOCUMENTS`` set, only registered operations run.

The file is a JSON object mapping each document's SHA-256 (hex, of its exact text) to the text, as persisted-query
manifests are usually written. A request may send the full text (it must hash to a registered document) or only
the hash (``extensions.persistedQuery.sha256Hash``, as Apollo clients do) and the gateway runs the registered text.
Anything else is refused with TRUSTED_DOCUMENT_REQUIRED before it is parsed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension


def document_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def load_documents(path: Path) -> dict[str, str]:
    """Read and check a manifest; ValueError names what is wrong."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise ValueError(f"{path} must be a JSON object of sha256 hash to document text")
    wrong = [k for k, v in raw.items() if document_hash(v) != k.lower()]
    if wrong:
        raise ValueError(f"{path}: the hash {wrong[0]} does not match its document")
    return {k.lower(): v for k, v in raw.items()}


def hash_of_request(extensions: Mapping[str, object] | None) -> str | None:
    persisted = (extensions or {}).get("persistedQuery")
    if isinstance(persisted, dict) and isinstance(persisted.get("sha256Hash"), str):
        return str(persisted["sha256Hash"]).lower()
    return None


class TrustedDocuments(SchemaExtension):
    def __init__(self, *, documents: Mapping[str, str]) -> None:
        self.documents = documents

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is None:
            registered = hash_of_request(context.operation_extensions)
            if registered is not None and registered in self.documents:
                context.query = self.documents[registered]
        if context.query is None or document_hash(context.query) not in self.documents:
            raise GraphQLError(
                "Only registered operations may run here (trusted documents).",
                extensions={"code": "TRUSTED_DOCUMENT_REQUIRED"},
            )
        yield
