"""Request checks and failure answers that apply to every URL."""

from csp.middleware import CSPMiddleware
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse

from . import stamp


class RejectNullCharactersMiddleware:
    """Answer 400 to a URL or query string holding a NUL character.

    PostgreSQL text cannot hold NUL, so such a value would otherwise fail deep in
    a query (a 500) instead of being refused where it enters.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        values = [request.path, *(v for _, vs in request.GET.lists() for v in vs)]
        if any("\x00" in value for value in values):
            message = "The URL or query string contains a NUL character."
            if request.path.startswith("/api/"):
                from terms.api.errors import error_body

                return JsonResponse(error_body(400, "invalid", message), status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)


#: Seconds a client is asked to wait when the database does not answer.
RETRY_AFTER_SECONDS = 5


def database_unavailable(request) -> HttpResponse:
    """503 with ``Retry-After``: JSON under /api/, a short page elsewhere."""
    message = "The database is not reachable; try again shortly."
    return unavailable(request, "database_unavailable", message)


def unavailable(request, code: str, message: str) -> HttpResponse:
    """503 naming what is down, with ``Retry-After``."""
    if request.path.startswith("/api/"):
        from terms.api.errors import error_body

        response = JsonResponse(error_body(503, code, message), status=503)
    else:
        response = HttpResponse(message, status=503, content_type="text/plain")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Answer 503 (not 500) when a view cannot reach the database.

    A lost connection is a passing condition the client can retry; the next
    request opens a new connection.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        """503 for connection failures; anything else is left to Django."""
        if isinstance(exception, OperationalError | InterfaceError):
            return database_unavailable(request)
        if isinstance(exception, stamp.Unreachable):
            return unavailable(request, "cache_unavailable", str(exception))
        return None


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's policy (``CONTENT_SECURITY_POLICY``), relaxed per page only
    where the page needs it: Swagger UI (``/api/docs/``) writes an inline
    ``<style>`` block. Scripts stay ``'self'`` everywhere."""

    #: Path prefix -> directives added there.
    RELAXED = {"/api/docs/": {"style-src": ["'unsafe-inline'"]}}

    def get_policy_parts(self, request, response, report_only=False):
        """The configured policy plus the additions for this path."""
        parts = super().get_policy_parts(request, response, report_only)
        for prefix, update in self.RELAXED.items():
            if request.path_info.startswith(prefix):
                parts.update = {**(parts.update or {}), **update}
        return parts
