"""Top-level URL configuration."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from terms.api import errors
from terms.api.views import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("terms.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of its own,
    # so the page runs under a policy without inline scripts.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema"),
        name="api-docs",
    ),
    path("healthz", healthz, name="healthz"),
    path("", include("terms.urls")),
]


def handler404(request, exception=None):
    """JSON 404 under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return errors.api_not_found(request, exception)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    """JSON 500 under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return errors.api_server_error(request)
    from django.views.defaults import server_error

    return server_error(request)
