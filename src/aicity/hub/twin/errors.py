"""NGSI-LD errors: the spec's problem types (GS CIM 009 clause 5.5.2) and their HTTP statuses."""

from __future__ import annotations

from typing import Any

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"

#: error type → (HTTP status, title)
KINDS: dict[str, tuple[int, str]] = {
    "InvalidRequest": (400, "Invalid request"),
    "BadRequestData": (400, "Bad request data"),
    "AlreadyExists": (409, "Already exists"),
    "OperationNotSupported": (422, "Operation not supported"),
    "ResourceNotFound": (404, "Resource not found"),
    "InternalError": (500, "Internal error"),
    "TooComplexQuery": (403, "Too complex query"),
    "TooManyResults": (403, "Too many results"),
    "LdContextNotAvailable": (503, "@context not available"),
    "UnsupportedMediaType": (415, "Unsupported media type"),
    "NotAcceptable": (406, "Not acceptable"),
}


class NgsiError(Exception):
    """A request the NGSI-LD API refuses; answered as a ProblemDetails body with the spec's type."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.status, self.title = KINDS[kind]
        self.detail = detail

    def body(self) -> dict[str, Any]:
        return {"type": ERRORS + self.kind, "title": self.title, "status": self.status, "detail": self.detail}


def bad_data(detail: str) -> NgsiError:
    return NgsiError("BadRequestData", detail)


def invalid(detail: str) -> NgsiError:
    return NgsiError("InvalidRequest", detail)


def not_found(detail: str) -> NgsiError:
    return NgsiError("ResourceNotFound", detail)
