"""API views by resource: terms, their workflow, lookups, the glossary as a whole."""

from .glossary import (
    CategoryListView,
    ExportView,
    RoleListView,
    StatsView,
    TagListView,
    WantedView,
    healthz,
    term_document_schema,
)
from .lookups import AnnotateView, AutocompleteView, LookupView, SimilarView
from .reconcile import (
    ReconcileProposeView,
    ReconcileSuggestView,
    ReconcileView,
    preview,
)
from .requests import RequestDetailView, RequestsView
from .terms import TermViewSet
from .webhooks import WebhookSubscriptionViewSet
from .workflow import HistoryView, PendingView, RestoreVersionView, TransitionView

__all__ = [
    "AnnotateView",
    "AutocompleteView",
    "CategoryListView",
    "ExportView",
    "HistoryView",
    "LookupView",
    "PendingView",
    "ReconcileProposeView",
    "ReconcileSuggestView",
    "ReconcileView",
    "RequestDetailView",
    "RequestsView",
    "RestoreVersionView",
    "RoleListView",
    "SimilarView",
    "StatsView",
    "TagListView",
    "TermViewSet",
    "TransitionView",
    "WantedView",
    "WebhookSubscriptionViewSet",
    "healthz",
    "preview",
    "term_document_schema",
]
