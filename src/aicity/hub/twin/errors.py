"""NGSI-LD errors: the spec's problem types (GS CIM 009 clause 5.5.2) and their HTTP statuses, the
platform's types for authentication and authorisation (the spec defines none), and a Prometheus
count of every error the API answers (`aicity_ngsi_ld_errors_total{type}`)."""

from __future__ import annotations

from typing import Any

import prometheus_client

from aicity.core.errors import Problem

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
#: NGSI-LD has no error type for a missing credential or a missing role: these answer with the
#: platform's own problem types (`urn:aicity:problem:unauthorized`, `…:forbidden`), the ones its
#: other APIs use, rather than names made up inside ETSI's namespace
PLATFORM = "urn:aicity:problem:"
AUTH = ("Unauthorized", "Forbidden")

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
    "LdContextNotAvailable": (504, "@context not available"),  # 504 since GS CIM 009 v1.9.1 (was 503)
    "UnsupportedMediaType": (415, "Unsupported media type"),
    "NotAcceptable": (406, "Not acceptable"),
    "Unauthorized": (401, "Unauthorized"),
    "Forbidden": (403, "Forbidden"),
}

#: the platform's errors (identity, the IoT hub) that NGSI-LD routes may meet, by HTTP status
_BY_STATUS = {400: "BadRequestData", 401: "Unauthorized", 403: "Forbidden", 404: "ResourceNotFound",
              422: "BadRequestData"}

ANSWERED = prometheus_client.Counter("aicity_ngsi_ld_errors", "NGSI-LD errors answered, by error type", ["type"])


class NgsiError(Exception):
    """A request the NGSI-LD API refuses; answered as a ProblemDetails body with the spec's type."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.status, self.title = KINDS[kind]
        self.detail = detail

    @property
    def type(self) -> str:
        return PLATFORM + self.kind.lower() if self.kind in AUTH else ERRORS + self.kind

    def body(self) -> dict[str, Any]:
        return {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail}


def answered(exc: NgsiError) -> dict[str, Any]:
    """The body of an error the API answers with (alone, or inside a batch's 207), counted under
    its type's last segment (`BadRequestData`, `unauthorized` …)."""
    ANSWERED.labels(exc.type.replace(":", "/").rsplit("/", 1)[-1]).inc()
    return exc.body()


def from_problem(problem: Problem) -> NgsiError:
    """A platform error (an invalid API key or device credential …) as an NGSI-LD error."""
    return NgsiError(_BY_STATUS.get(problem.status, "InternalError"), problem.detail or problem.title)


def bad_data(detail: str) -> NgsiError:
    return NgsiError("BadRequestData", detail)


def invalid(detail: str) -> NgsiError:
    return NgsiError("InvalidRequest", detail)


def not_found(detail: str) -> NgsiError:
    return NgsiError("ResourceNotFound", detail)
