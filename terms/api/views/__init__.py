"""API views by resource: terms, their workflow, lookups, the glossary as a whole."""

from terms.api.views.glossary import (
    CategoryListView,
    ExportView,
    RoleListView,
    StatsView,
    TagListView,
    WantedView,
    healthz,
    term_document_schema,
)
from terms.api.views.imports import ImportView
from terms.api.views.lookups import (
    AnnotateView,
    AutocompleteView,
    LookupView,
    SimilarView,
)
from terms.api.views.people import (
    CommentsView,
    GlossaryWatchView,
    NotificationSettingsView,
    ResolveView,
    WatchView,
)
from terms.api.views.reconcile import (
    ReconcileProposeView,
    ReconcileSuggestView,
    ReconcileView,
    preview,
)
from terms.api.views.releases import (
    ReleaseDetailView,
    ReleaseDiffView,
    ReleasesView,
)
from terms.api.views.requests import RequestDetailView, RequestsView
from terms.api.views.terms import TermViewSet
from terms.api.views.usage import SearchStatsView, TermStatsView
from terms.api.views.webhooks import WebhookSubscriptionViewSet
from terms.api.views.workflow import (
    BulkTransitionView,
    HistoryView,
    PendingView,
    RestoreVersionView,
    TransitionView,
)

__all__ = [
    "AnnotateView",
    "AutocompleteView",
    "BulkTransitionView",
    "CategoryListView",
    "CommentsView",
    "ExportView",
    "GlossaryWatchView",
    "HistoryView",
    "ImportView",
    "LookupView",
    "NotificationSettingsView",
    "PendingView",
    "ReconcileProposeView",
    "ReconcileSuggestView",
    "ReconcileView",
    "ReleaseDetailView",
    "ReleaseDiffView",
    "ReleasesView",
    "RequestDetailView",
    "RequestsView",
    "ResolveView",
    "RestoreVersionView",
    "RoleListView",
    "SearchStatsView",
    "SimilarView",
    "StatsView",
    "TagListView",
    "TermStatsView",
    "TermViewSet",
    "TransitionView",
    "WantedView",
    "WatchView",
    "WebhookSubscriptionViewSet",
    "healthz",
    "preview",
    "term_document_schema",
]
