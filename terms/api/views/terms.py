"""Terms: list, search and read; create, replace, change and delete."""

import json

from django.db import transaction
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, renderers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from terms.api.base import GlossaryAPIMixin, ReleaseReadsMixin, current_term
from terms.api.caching import GlossaryCacheMixin, term_token
from terms.api.errors import DocumentInvalid
from terms.api.filters import TermFilterSet, TermOrdering
from terms.api.pagination import GlossaryPagination
from terms.api.params import required_text
from terms.api.renderers import SKOS_RENDERERS, TermMarkdownRenderer, TermYAMLRenderer
from terms.api.schema import (
    IF_MATCH_PARAM,
    LANG_PARAM,
    RELEASE_PARAM,
    SKOS_RESPONSES,
    TERM_LIST_PARAMETERS,
    errors,
)
from terms.api.serializers import (
    TermDetailSerializer,
    TermDocumentSerializer,
    TermSummarySerializer,
)
from terms.api.views.releases import term_as_of
from terms.api.workflow_serializers import PendingSerializer
from terms.documents.document import TermDocument, validate_term_data
from terms.documents.mapping import document_from_term
from terms.documents.yaml_loader import Problem
from terms.formats import exporter, registry
from terms.models import ChangeSource, Term, UsageKind
from terms.reads import selectors
from terms.serving import readmodel, usage
from terms.text import search
from terms.web.rendering import render_markdown, term_page, with_suggestions
from terms.workflow import steps as workflow


def body_document(data, *, base: dict | None = None) -> TermDocument:
    """The request body as a valid term document (``base`` under a patch)."""
    if not isinstance(data, dict):
        raise DocumentInvalid(
            [Problem("the request body must be a JSON object holding a term document")]
        )
    document, problems = validate_term_data(
        {**base, **data} if base is not None else data,
        known_roles=selectors.known_roles(),
    )
    if problems:
        raise DocumentInvalid(problems)
    return document


#: A draft changes at once (200); a reviewed or approved term gets a pending
#: change (202).
EDIT_RESPONSES = {
    200: TermDetailSerializer,
    202: PendingSerializer,
    **errors(400, 401, 403, 404, 409, 412),
}


#: Parameters of the term list that do not narrow it: its length is the
#: number of terms the reader may see.
UNFILTERING_PARAMETERS = frozenset({"page", "page_size", "ordering", "lang", "format"})

#: Columns a term summary never shows.
LONG_TEXTS = (
    "long_def",
    "exec_perspective",
    "engineer_perspective",
    "risk_notes",
    "search_names",
    "search_categories",
)


@extend_schema_view(
    list=extend_schema(
        summary="List and search terms",
        parameters=TERM_LIST_PARAMETERS,
        responses={200: TermSummarySerializer(many=True), **errors(400, 404, 429)},
    ),
    retrieve=extend_schema(
        summary="One term, every field (also .yaml, .md and SKOS: .ttl, .rdf, .jsonld)",
        parameters=[LANG_PARAM, RELEASE_PARAM],
        responses={
            (200, "application/json"): TermDetailSerializer,
            (200, "application/yaml"): TermDocumentSerializer,
            (200, "text/markdown"): OpenApiTypes.STR,
            **SKOS_RESPONSES,
            **errors(404, 406, 429),
        },
    ),
    create=extend_schema(
        summary="Create a term from a term document",
        request=TermDocumentSerializer,
        responses={201: TermDetailSerializer, **errors(400, 401, 403, 409)},
    ),
    update=extend_schema(
        summary="Replace a term's document",
        request=TermDocumentSerializer,
        parameters=[IF_MATCH_PARAM],
        responses=EDIT_RESPONSES,
    ),
    partial_update=extend_schema(
        summary="Change some fields of a term's document",
        request=TermDocumentSerializer(partial=True),
        parameters=[IF_MATCH_PARAM],
        responses=EDIT_RESPONSES,
    ),
    destroy=extend_schema(
        summary="Delete a term",
        parameters=[IF_MATCH_PARAM],
        responses={204: None, **errors(401, 403, 404, 409, 412)},
    ),
)
class TermViewSet(
    ReleaseReadsMixin,
    GlossaryAPIMixin,
    GlossaryCacheMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Terms: list, search and read; create, replace, change and delete."""

    lookup_field = "slug"
    # Slugs may hold dots ("node.js"); "<slug>.yaml" and friends route first.
    lookup_value_regex = r"[^/]+"
    filter_backends = [DjangoFilterBackend, TermOrdering]
    filterset_class = TermFilterSet
    pagination_class = GlossaryPagination
    renderer_classes = [
        renderers.JSONRenderer,
        TermYAMLRenderer,
        TermMarkdownRenderer,
        *SKOS_RENDERERS,
    ]
    queryset = Term.objects.all()

    repeatable_parameters = frozenset(
        {"status", "category", "role", "tag", "part_of_speech"}
    )
    localized = True

    @property
    def release_reads(self) -> bool:
        """The list and one term answer as of a release (``?release=``)."""
        return self.action in ("list", "retrieve")

    def reads_snapshot(self, request) -> bool:
        """The list and the Markdown page read the release's snapshot; the
        other formats of one term are its stored revision in the release."""
        return self.action == "list" or request.accepted_renderer.format == "md"

    def get_known_parameters(self) -> frozenset[str]:
        """Filters, search, ordering and pages for the list; nothing otherwise."""
        if self.action == "retrieve":
            return frozenset({"lang", "release"})
        if self.action != "list":
            return frozenset()
        filters = TermFilterSet.base_filters
        return frozenset(
            {*filters, "q", "ordering", "page", "page_size", "lang", "release"}
        )

    def get_renderers(self):
        """YAML and Markdown for one term; every other action answers JSON only.

        Negotiation happens before the handler runs, so a write asked for an
        unsupported format is refused (406) before anything is written.
        """
        if self.action == "retrieve":
            return super().get_renderers()
        return [renderers.JSONRenderer()]

    def get_queryset(self):
        """Visible terms with what the action's representation needs."""
        if self.action == "list":
            # A summary shows no long texts: they stay in the database; its lists
            # of names are read for the page alone (``with_summary_parts``).
            queryset = Term.objects.filter(status__in=self.statuses)
            queryset = queryset.defer(*LONG_TEXTS)
            return queryset.prefetch_related("labels") if self.languages else queryset
        if self.action == "retrieve":
            return selectors.term_detail_queryset(self.statuses)
        # Writes see every term; the workflow decides what may happen to it.
        return Term.objects.all()

    def get_serializer_class(self):
        """Summaries in lists, the whole term otherwise."""
        return TermSummarySerializer if self.action == "list" else TermDetailSerializer

    def get_serializer_context(self):
        """The statuses the reader may see decide which links resolve."""
        return {
            **super().get_serializer_context(),
            "statuses": self.statuses,
            "languages": self.languages,
        }

    def get_object(self):
        """The term of the URL's slug (404 naming it), remembered for its ETag."""
        slug = self.kwargs["slug"]
        term = self.get_queryset().filter(slug=slug).first()
        if term is None:
            raise NotFound(f"No term with slug {slug!r}.")
        if self.action == "retrieve":
            self.etag_term = term
        return term

    def list(self, request, *args, **kwargs):
        """A page of terms; with ``q``, the best matches by relevance."""
        queryset = self.filter_queryset(self.get_queryset())
        text = request.query_params.get("q", "").strip()
        if "q" in request.query_params:
            text = required_text(request)  # not empty, and capped like lookup's
        if not text:
            unfiltered = set(request.query_params) <= UNFILTERING_PARAMETERS
            count = selectors.counted_terms(self.statuses) if unfiltered else None
            page = self.paginator.paginate_counted(queryset, request, self, count)
            page = selectors.with_summary_parts(list(page))
            return self.get_paginated_response(
                self.get_serializer(page, many=True).data
            )
        ids = search.ranked_ids(queryset.order_by(), text)
        if queryset.query.order_by:  # an explicit ordering replaces relevance
            ids = list(queryset.filter(pk__in=ids).values_list("pk", flat=True))
        page_ids = self.paginate_queryset(ids)
        position = {pk: index for index, pk in enumerate(page_ids)}
        page = sorted(queryset.filter(pk__in=page_ids), key=lambda t: position[t.pk])
        # A search counts for the best term it shows (on the page asked for).
        best = [page[0].slug] if page else []
        searched = usage.search(UsageKind.SEARCH, text, best, found=bool(ids))
        usage.note(request.META, [searched])
        selectors.with_summary_parts(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        """The term as JSON, its YAML document, its Markdown page or SKOS."""
        response = self._retrieve(request, **kwargs)
        read = usage.terms_used(UsageKind.VIEW, [kwargs["slug"]])
        usage.note(request.META, [read])
        return response

    def _retrieve(self, request, **kwargs):
        if self.release is not None and request.accepted_renderer.format != "md":
            return term_as_of(self, request, kwargs["slug"], self.release)
        term = self.get_object()
        fmt = request.accepted_renderer.format
        if fmt in registry.SKOS:
            return Response(exporter.glossary_skos(fmt, self.statuses, slug=term.slug))
        if request.accepted_renderer.format == "yaml":
            return Response(document_from_term(term).to_yaml())
        if request.accepted_renderer.format == "md":
            if self.release is not None:
                # As the release's snapshot holds it; suggestions are today's.
                return Response(render_markdown(term_page(term, self.statuses)))
            page = with_suggestions(
                term_page(term, self.statuses), self.statuses, self.stamp_token
            )
            if not page.suggestions_fresh:
                self.cache_key = None  # this version's suggestions are not ready
            return Response(render_markdown(page))
        if readmodel.wanted(request) and not self.languages:
            return Response(self._stored_detail(term))
        return Response(self.get_serializer(term).data)

    def _stored_detail(self, term: Term) -> dict:
        """The detail, rendered once with the origin left out and stored in the
        read model (``terms.serving.readmodel``); the data with this request's
        origin."""
        context = self.get_serializer_context()
        context["request"] = readmodel.marked_request(self.request)
        data = TermDetailSerializer(term, context=context).data
        body = renderers.JSONRenderer().render(data)
        readmodel.store(term, term_token(term, pending=False), body, self.stamp.version)
        origin = readmodel.origin_json(self.request.build_absolute_uri("/")[:-1])
        return json.loads(body.replace(readmodel.MARKER_JSON, origin))

    def create(self, request, *args, **kwargs):
        """A new draft from a term document."""
        document = body_document(request.data)
        with self.domain():
            result = workflow.term_create(
                document=document, actor=request.user, source=ChangeSource.API
            )
        return self.written(result.term, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        """Replace (or, partially, change) a term's document through the workflow."""
        term = self.get_object()
        # One transaction, the row locked before the patch's base is read: a
        # concurrent deletion then comes wholly before or wholly after.
        with transaction.atomic(), self.domain():
            base = None
            if kwargs.get("partial"):
                # A patch applies to the newest proposal: the pending change if any.
                current = current_term(term, lock=True)
                pending = getattr(current, "pending", None)
                base = (
                    pending.document
                    if pending
                    else document_from_term(current).to_data()
                )
            document = body_document(request.data, base=base)
            result = workflow.term_edit(
                term=term,
                document=document,
                actor=request.user,
                source=ChangeSource.API,
                expected=self.expected,
            )
        if result.pending is not None:
            return self.pending_written(result.term, result.pending)
        return self.written(result.term)

    def partial_update(self, request, *args, **kwargs):
        """Change some fields of a term's document."""
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        """Delete a term (through the workflow, so it is audited)."""
        term = self.get_object()
        with self.domain():
            workflow.term_delete(
                term=term,
                actor=request.user,
                source=ChangeSource.API,
                expected=self.expected,
            )
        return Response(status=status.HTTP_204_NO_CONTENT)
