"""What every workflow step does first: lock the term's row, and check that
the caller read the version it is changing."""

from collections.abc import Collection

from django.db import transaction

from terms.documents.mapping import TERM_DOCUMENT_PREFETCH
from terms.models import Term
from terms.reads.selectors import term_token
from terms.workflow.transitions import Gone, Stale

__all__ = ["check_expected", "load_locked"]


def check_expected(term: Term, expected: Collection[str] | None) -> None:
    """Refuse a write when the caller read another version of the term.

    ``expected`` holds the version tokens (``term_token``) the caller says it
    read; None when it says none (no ``If-Match``, or ``*``).
    """
    if expected is not None and term_token(term) not in expected:
        raise Stale(
            f"The term {term.slug!r} has changed since you read it.",
            ["version changed"],
        )


def load_locked(term: Term) -> Term:
    """The term with what building its document needs, fresh from the database.

    The row is locked until the transaction ends, so two writers of one term
    take turns. A term deleted meanwhile is reported as gone.
    """
    # The pending change comes in the same query: writers lock the term's row
    # before they touch it, so it cannot change under this lock either.
    queryset = Term.objects.select_related("pending").prefetch_related(
        *TERM_DOCUMENT_PREFETCH
    )
    if transaction.get_connection().features.has_select_for_update_of:
        queryset = queryset.select_for_update(of=("self",))
    fresh = queryset.filter(pk=term.pk).first()
    if fresh is None:
        raise Gone(f"The term {term.slug!r} no longer exists.", ["term deleted"])
    return fresh
