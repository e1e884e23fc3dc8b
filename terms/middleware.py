"""Request checks that apply to every URL."""

from django.http import HttpResponseBadRequest, JsonResponse


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
