"""URLs of the JSON API, mounted at ``/api/v1/``."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from . import views

app_name = "api"

router = SimpleRouter(trailing_slash=True)
router.register("terms", views.TermViewSet, basename="term")

urlpatterns = [
    re_path(
        r"^terms/(?P<slug>[^/]+)\.(?P<format>yaml|md|json)$",
        views.TermViewSet.as_view({"get": "retrieve"}),
        name="term-detail-format",
    ),
    path("lookup/", views.LookupView.as_view(), name="lookup"),
    path("autocomplete/", views.AutocompleteView.as_view(), name="autocomplete"),
    path("categories/", views.CategoryListView.as_view(), name="categories"),
    path("roles/", views.RoleListView.as_view(), name="roles"),
    path("tags/", views.TagListView.as_view(), name="tags"),
    path("stats/", views.StatsView.as_view(), name="stats"),
    path("wanted/", views.WantedView.as_view(), name="wanted"),
    path("export/", views.ExportView.as_view(), name="export"),
    path("annotate/", views.AnnotateView.as_view(), name="annotate"),
    *router.urls,
]
