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
from .terms import TermViewSet
from .workflow import HistoryView, PendingView, RestoreVersionView, TransitionView

__all__ = [
    "AnnotateView",
    "AutocompleteView",
    "CategoryListView",
    "ExportView",
    "HistoryView",
    "LookupView",
    "PendingView",
    "RestoreVersionView",
    "RoleListView",
    "SimilarView",
    "StatsView",
    "TagListView",
    "TermViewSet",
    "TransitionView",
    "WantedView",
    "healthz",
    "term_document_schema",
]
