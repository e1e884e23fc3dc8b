"""The Entity Reconciliation API (``terms.integrations.reconcile``) over HTTP, for
OpenRefine
and other reconciliation clients."""

from django.http import HttpResponse
from django.utils.html import format_html
from django.views.decorators.clickjacking import xframe_options_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import FormParser
from rest_framework.response import Response

from terms.api.base import ReadView
from terms.api.params import required_text
from terms.api.parsers import GlossaryJSONParser, loads_checked
from terms.api.schema import QUERY_SCHEMA, errors
from terms.integrations import reconcile
from terms.models import Term, UsageKind
from terms.serving import usage


class ReconcileBatchSerializer(serializers.Serializer):
    """The form body of a batch."""

    queries = serializers.CharField(
        help_text=(
            'A JSON object of named queries: {"q0": {"query": "logprob", "type": '
            '"term", "limit": 3, "properties": [{"pid": "role", "v": "engineering"}]}}'
        )
    )


def _decoded(name: str, raw):
    if isinstance(raw, str):
        try:
            return loads_checked(raw)
        except ParseError as exc:
            raise ValidationError({name: [str(exc.detail)]}) from None
    return raw


def _batch(view, raw) -> Response:
    queries = _decoded("queries", raw)
    try:
        answers = reconcile.reconcile_batch(queries, view.statuses)
    except reconcile.QueryError as exc:
        raise ValidationError({"queries": [str(exc)]}) from None
    usage.note(view.request.META, list(_searches(queries, answers)))
    return Response(answers)


def _searches(queries: dict, answers: dict):
    """Each answered query as a search for its best candidate."""
    for key, answer in answers.items():
        raw = queries.get(key)
        words = raw.get("query") if isinstance(raw, dict) else None
        if "error" in answer or not isinstance(words, str) or not words.strip():
            continue
        best = [c["id"] for c in answer["result"][:1]]
        yield usage.search(UsageKind.SEARCH, words, best)


def _extend(view, raw) -> Response:
    try:
        return Response(reconcile.extend(_decoded("extend", raw), view.statuses))
    except reconcile.QueryError as exc:
        raise ValidationError({"extend": [str(exc)]}) from None


@extend_schema(
    summary="Reconciliation service (W3C Entity Reconciliation API 0.2)",
    description=(
        "GET: the service manifest. A batch of queries is POSTed as the "
        "`queries` form field (a JSON object of named queries); `?queries=` on a "
        "GET is also answered, for clients that send batches that way."
    ),
    responses={200: OpenApiTypes.OBJECT, **errors(400, 429)},
)
class ReconcileView(ReadView):
    """GET: the manifest, or a batch in ``?queries=``; POST: a batch in the
    ``queries`` form field (or a JSON body ``{"queries": {...}}``)."""

    known_parameters = frozenset({"queries", "extend"})
    parser_classes = [FormParser, GlossaryJSONParser]

    def get(self, request):
        """The manifest, the answers to ``queries``, or an ``extend`` request's
        values."""
        if "queries" in request.query_params:
            return _batch(self, request.query_params["queries"])
        if "extend" in request.query_params:
            return _extend(self, request.query_params["extend"])
        return Response(reconcile.manifest(request.build_absolute_uri(request.path)))

    @extend_schema(
        request={"application/x-www-form-urlencoded": ReconcileBatchSerializer}
    )
    def post(self, request):
        """The answers to a batch of queries."""
        data = request.data
        if hasattr(data, "get") and data.get("extend") is not None:
            return _extend(self, data.get("extend"))
        raw = data.get("queries") if hasattr(data, "get") else None
        if raw is None:
            raise ValidationError({"queries": ["this field is required"]})
        return _batch(self, raw)


@extend_schema(
    summary="Reconciliation suggest: entities, properties or types",
    parameters=[
        OpenApiParameter(
            "kind",
            {"type": "string", "enum": ["entity", "property", "type"]},
            OpenApiParameter.PATH,
        ),
        OpenApiParameter("prefix", QUERY_SCHEMA, required=True),
        OpenApiParameter(
            "limit", {"type": "integer", "minimum": 1, "maximum": reconcile.MAX_LIMIT}
        ),
    ],
    responses={200: OpenApiTypes.OBJECT, **errors(400, 404, 429)},
)
class ReconcileSuggestView(ReadView):
    """Completions of ``prefix`` for the reconciliation dialogs."""

    # What OpenRefine's suggest widget sends with every request besides the
    # prefix: accepted (the answers are the same with or without them).
    known_parameters = frozenset(
        {"prefix", "limit", "cursor", "spell", "exact", "prefixed", "scoring"}
    )

    def get(self, request, kind: str):
        """``{"result": [...]}`` best first."""
        prefix = required_text(request, "prefix")
        limit = request.query_params.get("limit", "10")
        if not limit.isdecimal() or not 1 <= int(limit) <= reconcile.MAX_LIMIT:
            raise ValidationError(
                {"limit": [f"a whole number from 1 to {reconcile.MAX_LIMIT}"]}
            )
        if kind == "entity":
            terms = Term.objects.filter(status__in=self.statuses)
            result = reconcile.suggest_entities(terms, prefix, int(limit))
        elif kind == "property":
            result = reconcile.suggest_properties(prefix)
        else:
            result = reconcile.suggest_types(prefix, int(limit))
        return Response({"result": result})


@xframe_options_exempt
def preview(request):
    """A small HTML card of a term, for the reconciliation preview pane.

    OpenRefine shows it in an iframe, so it (alone) may be framed: no
    ``X-Frame-Options`` and ``frame-ancestors *`` (``terms.middleware``)."""
    from terms.reads.selectors import visible_statuses

    slug = request.GET.get("id", "")
    term = Term.objects.filter(
        slug=slug, status__in=visible_statuses(request.user)
    ).first()
    if term is None:
        return HttpResponse(format_html("No term with id {}.", repr(slug)), status=404)
    html = format_html(
        '<html><body style="font-family:sans-serif;margin:8px">'
        "<strong>{}</strong> <small>({})</small><p>{}</p></body></html>",
        term.name,
        term.status,
        term.short_def,
    )
    return HttpResponse(html)


@extend_schema(
    summary="Reconciliation data extension: the properties offered",
    parameters=[
        OpenApiParameter("type", QUERY_SCHEMA),
        OpenApiParameter(
            "limit", {"type": "integer", "minimum": 1, "maximum": reconcile.MAX_LIMIT}
        ),
    ],
    responses={200: OpenApiTypes.OBJECT, **errors(400, 429)},
)
class ReconcileProposeView(ReadView):
    """``GET extend/propose/?type=term``: properties whose values reconciled
    terms can add as columns."""

    known_parameters = frozenset({"type", "limit"})

    def get(self, request):
        """``{"type", "properties": [{"id", "name"}, ...]}``."""
        limit = request.query_params.get("limit", str(len(reconcile.EXTEND_PROPERTIES)))
        if not limit.isdecimal() or not 1 <= int(limit) <= reconcile.MAX_LIMIT:
            raise ValidationError(
                {"limit": [f"a whole number from 1 to {reconcile.MAX_LIMIT}"]}
            )
        type_id = ""
        if "type" in request.query_params:
            type_id = required_text(request, "type")
        return Response(reconcile.propose_properties(type_id, int(limit)))
