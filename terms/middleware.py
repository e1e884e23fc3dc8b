"""Request checks and failure answers that apply to every URL."""

from csp.middleware import CSPMiddleware
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse

from terms.serving import stamp


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
    #: Path prefix -> directives that replace the configured ones there.
    REPLACED = {
        # OpenRefine shows reconciliation previews in an iframe.
        "/api/v1/reconcile/preview/": {"frame-ancestors": ["*"]},
    }

    def get_policy_parts(self, request, response, report_only=False):
        """The configured policy plus the additions for this path."""
        parts = super().get_policy_parts(request, response, report_only)
        for prefix, update in self.RELAXED.items():
            if request.path_info.startswith(prefix):
                parts.update = {**(parts.update or {}), **update}
        for prefix, replace in self.REPLACED.items():
            if request.path_info.startswith(prefix):
                parts.replace = {**(parts.replace or {}), **replace}
        return parts


class AnonymousPageThrottleMiddleware:
    """Count anonymous requests for everything DRF does not throttle itself.

    The human pages, the reconciliation preview and the term document's schema
    are plain Django views; without this an anonymous client could read them
    without limit while the API answers 429. They share the API's counter
    (``terms.serving.throttle``), so one address has one allowance across both. Static
    files (WhiteNoise answers them before this runs), the admin (staff only,
    with its own login) and ``/healthz`` (load balancers) are not counted.
    """

    #: Paths never counted here.
    EXEMPT = ("/admin/", "/static/", "/healthz")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        """Refuse an anonymous request past the limit with 429 and Retry-After."""
        from rest_framework.views import APIView

        view_class = getattr(view_func, "cls", None) or getattr(
            view_func, "view_class", None
        )
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            return None  # DRF's own throttle counts it (terms.api.throttling)
        if request.path_info.startswith(self.EXEMPT):
            return None
        if request.user.is_authenticated:
            return None
        from terms.serving import throttle

        counted = throttle.count_request(request.META)
        if counted is None or counted.allowed:
            return None
        message = throttle.refusal(counted)
        if request.path.startswith("/api/"):
            from terms.api.errors import error_body

            response = JsonResponse(error_body(429, "throttled", message), status=429)
        else:
            response = HttpResponse(message, status=429, content_type="text/plain")
        response["Retry-After"] = str(counted.retry_after)
        return response
