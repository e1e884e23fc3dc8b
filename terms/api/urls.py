"""URLs of the JSON API, mounted at ``/api/v1/``."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from terms.api import views
from terms.formats import registry
from terms.workflow.steps import TRANSITIONS

app_name = "api"

router = SimpleRouter(trailing_slash=True)
router.register("terms", views.TermViewSet, basename="term")
router.register("webhooks", views.WebhookSubscriptionViewSet, basename="webhook")

SLUG = r"(?P<slug>[^/]+)"
STEPS = "|".join(t.url_name for t in TRANSITIONS.values())
#: One term as JSON, its YAML document, its Markdown page, or SKOS in each
#: registered SKOS format.
RELEASE = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
DETAIL_FORMATS = "|".join(["yaml", "md", "json", *registry.SKOS])

urlpatterns = [
    re_path(
        rf"^terms/{SLUG}\.(?P<format>{DETAIL_FORMATS})$",
        views.TermViewSet.as_view({"get": "retrieve"}),
        name="term-detail-format",
    ),
    re_path(
        rf"^terms/{SLUG}/transitions/(?P<name>[^/]+)/$",
        views.TransitionView.as_view(),
        name="term-transition",
    ),
    # The per-step URLs of the first API version; same view, same behaviour.
    re_path(
        rf"^terms/{SLUG}/(?P<name>{STEPS})/$",
        views.TransitionView.as_view(),
        name="term-step",
    ),
    re_path(
        rf"^terms/{SLUG}/history/$", views.HistoryView.as_view(), name="term-history"
    ),
    re_path(
        rf"^terms/{SLUG}/similar/$", views.SimilarView.as_view(), name="term-similar"
    ),
    re_path(
        rf"^terms/{SLUG}/pending/$", views.PendingView.as_view(), name="term-pending"
    ),
    re_path(
        rf"^terms/{SLUG}/versions/(?P<version>\d+)/restore/$",
        views.RestoreVersionView.as_view(),
        name="term-restore-version",
    ),
    re_path(
        rf"^terms/{SLUG}/comments/$", views.CommentsView.as_view(), name="term-comments"
    ),
    re_path(
        rf"^terms/{SLUG}/comments/(?P<pk>\d+)/resolve/$",
        views.ResolveView.as_view(),
        name="term-comment-resolve",
    ),
    path("watch/glossary/", views.GlossaryWatchView.as_view(), name="watch-glossary"),
    re_path(
        r"^watch/(?P<kind>term|category)/(?P<slug>[^/]+)/$",
        views.WatchView.as_view(),
        name="watch",
    ),
    path(
        "me/notifications/",
        views.NotificationSettingsView.as_view(),
        name="notification-settings",
    ),
    path("imports/", views.ImportView.as_view(), name="imports"),
    path("transitions/", views.BulkTransitionView.as_view(), name="transitions"),
    path("releases/", views.ReleasesView.as_view(), name="releases"),
    re_path(
        rf"^releases/(?P<name>{RELEASE})/$",
        views.ReleaseDetailView.as_view(),
        name="release-detail",
    ),
    re_path(
        rf"^releases/(?P<a>{RELEASE})/diff/(?P<b>{RELEASE})\.(?P<format>md)$",
        views.ReleaseDiffView.as_view(),
        name="release-diff-format",
    ),
    re_path(
        rf"^releases/(?P<a>{RELEASE})/diff/(?P<b>{RELEASE})/$",
        views.ReleaseDiffView.as_view(),
        name="release-diff",
    ),
    path("lookup/", views.LookupView.as_view(), name="lookup"),
    path("autocomplete/", views.AutocompleteView.as_view(), name="autocomplete"),
    path("categories/", views.CategoryListView.as_view(), name="categories"),
    path("roles/", views.RoleListView.as_view(), name="roles"),
    path("tags/", views.TagListView.as_view(), name="tags"),
    path("stats/", views.StatsView.as_view(), name="stats"),
    path("stats/searches/", views.SearchStatsView.as_view(), name="stats-searches"),
    path("stats/terms/", views.TermStatsView.as_view(), name="stats-terms"),
    path("wanted/", views.WantedView.as_view(), name="wanted"),
    path("export/", views.ExportView.as_view(), name="export"),
    path("annotate/", views.AnnotateView.as_view(), name="annotate"),
    path("requests/", views.RequestsView.as_view(), name="requests"),
    re_path(
        r"^requests/(?P<public_id>[A-Za-z0-9_-]{1,32})/$",
        views.RequestDetailView.as_view(),
        name="request-detail",
    ),
    path("reconcile/", views.ReconcileView.as_view(), name="reconcile"),
    path("reconcile/preview/", views.preview, name="reconcile-preview"),
    path(
        "reconcile/extend/propose/",
        views.ReconcileProposeView.as_view(),
        name="reconcile-extend-propose",
    ),
    re_path(
        r"^reconcile/suggest/(?P<kind>entity|property|type)/$",
        views.ReconcileSuggestView.as_view(),
        name="reconcile-suggest",
    ),
    path(
        "schema/term-document.json",
        views.term_document_schema,
        name="term-document-schema",
    ),
    *router.urls,
]
