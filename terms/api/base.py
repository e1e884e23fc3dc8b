"""The one base of the API's views (``GlossaryAPIMixin``) and the two shapes
built on it: cached reads (``ReadView``) and writes (``WriteView``).

What every endpoint does the same way is declared here once:

- the query parameters it takes (``known_parameters``; others are a 400),
- the statuses the reader may see (``statuses``),
- for reads, caching and ETags keyed on the glossary version
  (``terms.api.caching.GlossaryCacheMixin``),
- for writes, the versions the caller read (``expected``, from ``If-Match``),
  refusals of the domain turned into HTTP answers (``domain``), and the written
  term's answer with its new ETag (``written``, ``pending_written``).

A view then only translates HTTP into a domain call and back.
"""

import contextlib

from django.utils.functional import cached_property
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from terms.api.caching import GlossaryCacheMixin, if_match, term_etag
from terms.api.errors import workflow_errors
from terms.api.params import KnownParameters, release_or_404
from terms.api.serializers import TermDetailSerializer, term_url
from terms.api.workflow_serializers import PendingSerializer
from terms.documents.mapping import TERM_DOCUMENT_PREFETCH, document_from_term
from terms.models import Status, Term
from terms.reads import selectors
from terms.serving import snapshots


class GlossaryAPIMixin(KnownParameters):
    """Shared by every view of the API (first among a view's bases)."""

    @cached_property
    def statuses(self) -> list[str]:
        """The statuses the requesting user may see."""
        return selectors.visible_statuses(self.request.user)

    # --- writes -----------------------------------------------------------------

    @property
    def expected(self) -> set[str] | None:
        """The term versions the caller says it read (``If-Match``); None: any."""
        return if_match(self.request)

    @staticmethod
    def domain():
        """Run a domain call; its refusals become 403, 404, 409, 412 or 400."""
        return workflow_errors()

    def written(self, term: Term, code: int = status.HTTP_200_OK) -> Response:
        """The written term's detail, with its new ETag and location."""
        fresh = selectors.term_detail_queryset(Status.values).filter(pk=term.pk).first()
        if fresh is None:
            raise NotFound(f"The term {term.slug!r} was deleted meanwhile.")
        context = {"request": self.request, "statuses": self.statuses}
        response = Response(TermDetailSerializer(fresh, context=context).data, code)
        response["ETag"] = term_etag(fresh, selectors.glossary_state().version)
        response["Location"] = term_url(self.request, fresh.slug)
        return response

    def pending_written(self, term: Term, pending) -> Response:
        """202 with a pending change and its diff against the live term; the
        ETag names the term with this pending change, for the next ``If-Match``."""
        fresh = current_term(term)
        live = document_from_term(fresh).to_data()
        context = {"request": self.request, "live": live}
        body = PendingSerializer(pending, context=context)
        response = Response(body.data, status=status.HTTP_202_ACCEPTED)
        response["ETag"] = term_etag(fresh, selectors.glossary_state().version)
        return response


def current_term(term: Term, *, lock: bool = False) -> Term:
    """The term as stored now, with its document's parts and pending change; 404
    when a concurrent request deleted it. ``lock`` holds its row until the
    transaction ends, so the parts read are the ones a write will replace."""
    from django.db import transaction

    queryset = Term.objects.prefetch_related(*TERM_DOCUMENT_PREFETCH)
    if lock and transaction.get_connection().features.has_select_for_update_of:
        queryset = queryset.select_for_update(of=("self",))
    else:
        queryset = queryset.select_related("pending")
    current = queryset.filter(pk=term.pk).first()
    if current is None:
        raise NotFound(f"The term {term.slug!r} was deleted meanwhile.")
    return current


class GlossaryView(GlossaryAPIMixin, APIView):
    """A plain endpoint of the API."""


class ReleaseReadsMixin:
    """``?release=NAME`` on a read: the handler runs against the glossary as it
    stood in that release (``terms.serving.snapshots``), and the answer is
    cached for good (``GlossaryCacheMixin`` keys it on the release).

    A view opts in with ``release_reads``; ``release`` is then one of its known
    parameters. The release is found before anything else (an unknown one is a
    404 naming it) and the snapshot is read from the handler until the
    response is rendered.
    """

    #: The view answers ``?release=``.
    release_reads = False
    #: The release asked for (set in ``initial``), or None.
    release = None
    #: Set when the release asked for does not exist (a 404 follows).
    release_missing = False

    def get_known_parameters(self) -> frozenset[str]:
        known = super().get_known_parameters()
        return known | {"release"} if self.release_reads else known

    def initial(self, request, *args, **kwargs):
        self.release_scope = contextlib.ExitStack()
        handled = hasattr(self, request.method.lower())  # else a 405 follows
        wanted = self.release_reads and handled
        name = request.query_params.get("release") if wanted else None
        if name is not None:
            self.release_missing = True
            self.release = release_or_404(name)
            self.release_missing = False
        super().initial(request, *args, **kwargs)
        if self.release is not None and self.reads_snapshot(request):
            self.release_scope.enter_context(snapshots.as_of(self.release))

    def reads_snapshot(self, request) -> bool:
        """Whether this request reads the release's snapshot (a view that
        answers some formats from the release's stored revisions says no)."""
        return True

    def finalize_response(self, request, response, *args, **kwargs):
        try:
            response = super().finalize_response(request, response, *args, **kwargs)
            if isinstance(response, Response) and not response.is_rendered:
                response.render()  # renderers may read: while the snapshot is open
            return response
        finally:
            scope = getattr(self, "release_scope", None)
            if scope is not None:
                scope.close()


class ReadView(ReleaseReadsMixin, GlossaryAPIMixin, GlossaryCacheMixin, APIView):
    """A read-only endpoint: anyone may read, GET answers are cached and
    validated by the glossary version (by the release, for one)."""

    permission_classes = [AllowAny]

    def context(self) -> dict:
        """Serializer context: the request and the reader's languages."""
        return {"request": self.request, "languages": self.languages}


class WriteView(GlossaryView):
    """An endpoint that writes through the workflow: signed-in callers only."""

    permission_classes = [IsAuthenticated]
