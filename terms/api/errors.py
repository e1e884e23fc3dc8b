"""One JSON error shape for every API failure.

``{"error": {"status": 404, "code": "not_found", "message": "...", "details": [...]}}``
where each detail is ``{"field": ..., "message": ...}`` (plus ``line``/``file`` for
term document problems).
"""

from contextlib import contextmanager

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from terms.documents.yaml_loader import Problem


class DocumentInvalid(exceptions.APIException):
    """A term document failed validation; carries every problem."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_document"
    default_detail = "The term document is not valid."

    def __init__(self, problems: list[Problem], message: str | None = None):
        super().__init__()
        self.problems = problems
        self.message = message


class Conflict(exceptions.APIException):
    """409: the request conflicts with the term's state."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the current state of the term."


class PreconditionFailed(exceptions.APIException):
    """412: ``If-Match`` names an older version of the term."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"
    default_detail = "The term has changed since you read it (If-Match does not match)."


class Forbidden(exceptions.PermissionDenied):
    """Refused for who the user is; carries the reasons."""

    def __init__(self, message: str, reasons: list[str], field=None, problems=None):
        super().__init__(message)
        self.reasons = reasons
        self.field = field
        self.problems = problems or []


class WorkflowConflict(Conflict):
    """Refused for the state of the term, or failed quality gates."""

    def __init__(self, message: str, reasons: list[str], field=None, problems=None):
        super().__init__(message)
        self.reasons = reasons
        self.field = field
        self.problems = problems or []


@contextmanager
def workflow_errors():
    """Turn ``terms.workflow.steps`` refusals into 403 (who) and 409 (state, gates)."""
    from terms.workflow.steps import WorkflowError

    try:
        yield
    except WorkflowError as exc:
        if exc.kind == "forbidden":
            raise Forbidden(exc.message, exc.reasons, exc.field, exc.problems) from exc
        if exc.kind == "invalid":
            raise DocumentInvalid(exc.problems, message=exc.message) from exc
        if exc.kind == "stale":
            raise PreconditionFailed() from exc
        if exc.kind == "gone":
            raise exceptions.NotFound(exc.message) from exc
        if exc.kind == "missing":
            raise exceptions.NotFound({exc.field: [exc.message]}) from exc
        raise WorkflowConflict(
            exc.message, exc.reasons, exc.field, exc.problems
        ) from exc


def error_body(status_code: int, code: str, message: str, details=None) -> dict:
    """The one error shape, as data."""
    return {
        "error": {
            "status": status_code,
            "code": code,
            "message": message,
            "details": details or [],
        }
    }


def _flatten(data, prefix: str = "") -> list[dict]:
    """Turn DRF's nested validation data into a list of field/message pairs."""
    if isinstance(data, dict):
        details = []
        for key, value in data.items():
            field = key if key != "non_field_errors" else ""
            details.extend(_flatten(value, f"{prefix}.{field}" if prefix else field))
        return details
    if isinstance(data, list):
        details = []
        for item in data:
            details.extend(_flatten(item, prefix))
        return details
    return [{"field": prefix or None, "message": str(data)}]


def exception_handler(exc, context):
    """DRF exception handler that rewrites every error into the one shape.

    Errors are JSON whatever format was asked for (a YAML or zip endpoint's
    error is still the JSON error shape).
    """
    request = context.get("request")
    if request is not None:
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
    if isinstance(exc, RequestDataTooBig):
        exc = exceptions.APIException(
            "The request body is over the size limit.", code="too_large"
        )
        exc.status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, DocumentInvalid):
        details = [problem.as_dict() for problem in exc.problems]
        message = exc.message or f"The term document has {len(details)} problem(s)."
        code = exc.default_code
    elif isinstance(exc, exceptions.ValidationError) or isinstance(
        getattr(exc, "detail", None), dict
    ):
        details = _flatten(exc.detail)
        message = "; ".join(
            f"{d['field']}: {d['message']}" if d["field"] else d["message"]
            for d in details
        )
        code = "invalid" if response.status_code == 400 else exc.default_code
    elif isinstance(exc, Forbidden | WorkflowConflict):
        message = str(exc.detail)
        code = exc.default_code
        details = (
            [{"field": p.field, "message": p.message} for p in exc.problems]
            if exc.problems
            else [{"field": exc.field, "message": r} for r in exc.reasons]
        )
    else:
        detail = getattr(exc, "detail", "")
        message = (
            str(detail) if not isinstance(detail, list | dict) else exc.default_detail
        )
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        details = []
    response.data = error_body(response.status_code, str(code), message, details)
    return response


def json_error_response(request, status_code: int, code: str, message: str):
    """An error in the one shape, outside DRF (Django's handlers)."""
    return JsonResponse(error_body(status_code, code, message), status=status_code)


def api_not_found(request, exception=None):
    """404 for unknown API URLs, as JSON."""
    return json_error_response(request, 404, "not_found", "No such API endpoint.")


def api_server_error(request):
    """500 as JSON, without details."""
    return json_error_response(
        request, 500, "server_error", "The server failed to handle the request."
    )


def api_response(status_code: int, code: str, message: str, **extra) -> Response:
    """An error in the one shape with extra keys beside it."""
    return Response(
        {**extra, **error_body(status_code, code, message)}, status=status_code
    )
