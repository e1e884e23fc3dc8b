"""The glossary as a whole: facets, stats, wanted terms, export, health."""

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import renderers
from rest_framework.response import Response

from terms.api.base import ReadView
from terms.api.errors import error_body
from terms.api.pagination import GlossaryPagination
from terms.api.renderers import EXPORT_RENDERERS
from terms.api.schema import EXPORT_RESPONSES, PAGE_PARAMETERS, RELEASE_PARAM, errors
from terms.api.serializers import (
    CategorySerializer,
    RoleSerializer,
    StatsSerializer,
    TagSerializer,
    WantedPageSerializer,
    WantedSerializer,
)
from terms.api.views.releases import export_as_of
from terms.documents import jsonschema
from terms.formats import exporter, registry
from terms.reads import selectors
from terms.serving import stamp


class FacetView(ReadView):
    """A facet (categories, roles or tags) with the number of visible terms each."""

    selector = None
    serializer_class = None

    def get(self, request):
        """Every value of the facet with its count."""
        rows = type(self).selector(self.statuses)
        return Response(self.serializer_class(rows, many=True).data)


@extend_schema(
    summary="Categories with term counts",
    responses={200: CategorySerializer(many=True)},
)
class CategoryListView(FacetView):
    """``GET /categories/``."""

    selector = selectors.categories_with_counts
    serializer_class = CategorySerializer


@extend_schema(
    summary="Roles with term counts", responses={200: RoleSerializer(many=True)}
)
class RoleListView(FacetView):
    """``GET /roles/``."""

    selector = selectors.roles_with_counts
    serializer_class = RoleSerializer


@extend_schema(
    summary="Governance tags with term counts",
    responses={200: TagSerializer(many=True)},
)
class TagListView(FacetView):
    """``GET /tags/``."""

    selector = selectors.tags_with_counts
    serializer_class = TagSerializer


@extend_schema(
    summary="Counts by status, category, role and tag", responses={200: StatsSerializer}
)
class StatsView(ReadView):
    """``GET /stats/``."""

    def get(self, request):
        """Counts of what the reader may see, and the glossary's version."""
        state = stamp.glossary_stamp()
        stats = selectors.glossary_stats(self.statuses)
        version, changed_at = state.shown(request.user.is_authenticated)
        stats.update(glossary_version=version, last_change=changed_at)
        return Response(StatsSerializer(stats).data)


@extend_schema(
    summary="Relationship targets that name no term yet, most referenced first",
    parameters=PAGE_PARAMETERS,
    responses={200: WantedPageSerializer, **errors(400, 404)},
)
class WantedView(ReadView):
    """Paginated like the term list; each target lists up to 100 referencing terms."""

    pagination_class = GlossaryPagination
    known_parameters = frozenset({"page", "page_size"})

    def get(self, request):
        """A page of wanted targets with the terms that name them."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.wanted_targets(self.statuses), request, view=self
        )
        references = selectors.wanted_references(
            self.statuses, [row["target_key"] for row in page]
        )
        rows = [{**row, "referenced_by": references[row["target_key"]]} for row in page]
        context = {"request": request}
        return paginator.get_paginated_response(
            WantedSerializer(rows, many=True, context=context).data
        )


@extend_schema(
    summary="The whole glossary for sync (JSON, a zip of YAML files, SKOS or CSV)",
    parameters=[
        OpenApiParameter(
            "format",
            str,
            enum=["json", *registry.FORMATS],
            description=(
                "json (default), yaml (a zip archive of the term files), SKOS "
                "as ttl (Turtle), rdf (RDF/XML) or jsonld (JSON-LD), or csv "
                "(OpenMetadata's glossary CSV columns). Each format can also be "
                "asked for with the Accept header."
            ),
        ),
        RELEASE_PARAM,
    ],
    responses={
        (200, "application/json"): OpenApiTypes.OBJECT,
        **EXPORT_RESPONSES,
        **errors(404),
    },
)
class ExportView(ReadView):
    """``GET /export/``: what ``export_terms`` writes, of the visible terms."""

    renderer_classes = [renderers.JSONRenderer, *EXPORT_RENDERERS]
    known_parameters = frozenset({"release"})

    def get(self, request):
        """JSON, a zip archive of the YAML files, SKOS or CSV."""
        if "release" in request.query_params:
            return export_as_of(self, request, request.query_params["release"])
        name = request.accepted_renderer.format
        if name in registry.FORMATS:
            fmt = registry.get(name)
            content, _ = fmt.write(self.statuses)
            response = Response(content)
            if name not in registry.SKOS:  # downloads; SKOS is read in place
                response["Content-Disposition"] = (
                    f'attachment; filename="{fmt.filename}"'
                )
            return response
        data = exporter.glossary_data(self.statuses)
        return Response({"glossary_version": self.glossary_version, **data})


def term_document_schema(request):
    """The term document's JSON Schema (draft 2020-12), for editors' YAML tools."""
    url = request.build_absolute_uri(request.path)
    response = JsonResponse(jsonschema.term_document_schema(url))
    response["Content-Type"] = "application/schema+json"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def healthz(request):
    """Liveness and database check: 200 when the database answers, else 503."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        body = error_body(
            503,
            "database_unavailable",
            f"The database is not reachable: {exc.__class__.__name__}",
        )
        return JsonResponse({"status": "unavailable", **body}, status=503)
    return JsonResponse(
        {"status": "ok", "database": connection.vendor, "api": reverse("api:term-list")}
    )
