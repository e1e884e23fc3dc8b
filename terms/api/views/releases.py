"""Releases: list and publish them, read one, and what changed between two."""

import hashlib
import io
import zipfile

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import renderers, serializers, status
from rest_framework.exceptions import NotAcceptable, NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from terms.api.base import GlossaryView
from terms.api.caching import IMMUTABLE
from terms.api.params import release_or_404
from terms.api.renderers import FileRenderer
from terms.api.schema import errors
from terms.api.serializers import TextField
from terms.documents.document import validate_term_data
from terms.formats import csvfile, registry, skos
from terms.models import Release
from terms.reads import releases
from terms.workflow.releases import release_create


class ReleaseSerializer(serializers.ModelSerializer):
    """A release as listed: what it is, who published it, what it holds."""

    published_by = serializers.CharField(source="published_by_name")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = [
            "name",
            "sequence",
            "notes",
            "published_by",
            "published_at",
            "statuses",
            "counts",
            "warnings",
            "glossary_version",
            "url",
        ]

    def get_url(self, release) -> str:
        request = self.context["request"]
        return request.build_absolute_uri(f"/api/v1/releases/{release.name}/")


class ReleaseRequestSerializer(serializers.Serializer):
    """What publishing takes: a name and, optionally, notes (Markdown)."""

    name = TextField(max_length=64)
    notes = TextField(required=False, allow_blank=True, default="", max_length=20000)


def immutable(response: Response, *parts) -> Response:
    """A release read: the same bytes for ever, cacheable as such."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()
    response["Cache-Control"] = IMMUTABLE
    response["ETag"] = f'"r{digest[:24]}"'
    return response


class ReleasesView(GlossaryView):
    """``GET /releases/``: every release, newest first. ``POST``: publish one."""

    permission_classes = [AllowAny]  # reading; publishing checks its permission

    @extend_schema(
        summary="Releases, newest first",
        responses={200: ReleaseSerializer(many=True)},
    )
    def get(self, request):
        found = releases.listed()
        return Response(
            ReleaseSerializer(found, many=True, context={"request": request}).data
        )

    @extend_schema(
        summary="Publish a release of what the public reads now (approvers)",
        request=ReleaseRequestSerializer,
        responses={201: ReleaseSerializer, **errors(400, 401, 403)},
    )
    def post(self, request):
        if not request.user.is_authenticated:
            from rest_framework.exceptions import NotAuthenticated

            raise NotAuthenticated()
        body = ReleaseRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with self.domain():
            release = release_create(
                name=body.validated_data["name"],
                notes=body.validated_data["notes"],
                actor=request.user,
            )
        data = ReleaseSerializer(release, context={"request": request}).data
        response = Response(data, status=status.HTTP_201_CREATED)
        response["Location"] = data["url"]
        return response


class ReleaseDetailView(GlossaryView):
    """``GET /releases/{name}/``: one release (``latest``: the newest)."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="One release: counts, notes and integrity warnings",
        responses={200: ReleaseSerializer, **errors(404)},
    )
    def get(self, request, name):
        release = release_or_404(name)
        data = ReleaseSerializer(release, context={"request": request}).data
        response = Response(data)
        if name != releases.LATEST:
            immutable(response, release.sequence, "detail")
        return response


class MarkdownRenderer(FileRenderer):
    """A changelog in Markdown."""

    media_type = "text/markdown"
    format = "md"


class ReleaseDiffView(GlossaryView):
    """``GET /releases/{a}/diff/{b}/`` (``.md``: a changelog)."""

    permission_classes = [AllowAny]
    renderer_classes = [renderers.JSONRenderer, MarkdownRenderer]

    @extend_schema(
        summary="What changed between two releases (or `latest`, `current`)",
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/markdown"): OpenApiTypes.STR,
            **errors(404),
        },
    )
    def get(self, request, a, b, format=None):
        for name in (a, b):
            if name != releases.CURRENT:
                release_or_404(name)
        found = releases.diff(a, b)
        if request.accepted_renderer.format == "md":
            response = Response(releases.diff_markdown(found).encode("utf-8"))
        else:
            response = Response(found.as_dict())
        fixed = releases.CURRENT not in (a, b) and releases.LATEST not in (a, b)
        if fixed:
            immutable(response, "diff", a, b, request.accepted_renderer.format)
        return response


def term_as_of(view, request, slug: str, release: Release) -> Response:
    """One term as it stood in ``release``: JSON, its YAML document or SKOS
    (the Markdown page reads the release's snapshot instead)."""
    fmt = request.accepted_renderer.format
    if fmt not in ("json", "yaml", *registry.SKOS):
        raise NotAcceptable(
            f"A term as of a release is offered as json, yaml, md or SKOS, not {fmt}."
        )
    if fmt in registry.SKOS:
        documents = releases.term_documents(release)
        if slug not in {document.slug for document in documents}:
            raise NotFound(f"No term with slug {slug!r} in release {release.name!r}.")
        view.cache_key = None
        response = Response(release_skos(release, documents, fmt, slug))
        return immutable(response, release.sequence, slug, fmt)
    data = releases.documents(release, [slug]).get(slug)
    if data is None:
        raise NotFound(f"No term with slug {slug!r} in release {release.name!r}.")
    document, _ = validate_term_data(data)
    view.cache_key = None  # its own, permanent caching instead of the version's
    if fmt == "yaml":
        response = Response(document.to_yaml())
    else:
        response = Response(
            {"slug": slug, "release": release.name, **document.to_data(complete=True)}
        )
    return immutable(response, release.sequence, slug, fmt)


def export_as_of(view, request, name: str) -> Response:
    """The whole glossary as it stood in release ``name``."""
    release = release_or_404(name)
    fmt = request.accepted_renderer.format
    documents = releases.term_documents(release)
    view.cache_key = None
    if fmt == "json":
        response = Response(
            {
                "release": release.name,
                "terms": [document.to_data() for document in documents],
            }
        )
    elif fmt == "yaml":
        response = Response(_zip(release, documents))
        response["Content-Disposition"] = (
            f'attachment; filename="glossary-{release.name}.zip"'
        )
    elif fmt == "csv":
        text, _ = csvfile.write_csv(documents)
        response = Response(text.encode("utf-8"))
        response["Content-Disposition"] = (
            f'attachment; filename="glossary-{release.name}.csv"'
        )
    elif fmt in registry.SKOS:
        response = Response(release_skos(release, documents, fmt))
    else:  # pragma: no cover - every registered format is handled above
        raise NotAcceptable(f"A release is not exported as {fmt}.")
    return immutable(response, release.sequence, "export", fmt)


def release_skos(release: Release, documents, fmt: str, slug: str | None = None):
    """SKOS of the release (or of its term ``slug``), naming the edition; each
    concept dated by the revision it shows."""
    from terms.models import TermRevision

    stored = releases.revisions(release)
    modified = dict(
        TermRevision.objects.filter(pk__in=list(stored.values())).values_list(
            "term_slug", "created_at"
        )
    )
    graph = skos.glossary_graph(
        [d for d in documents if slug is None or d.slug == slug],
        modified=modified,
        known={document.slug: document.term for document in documents},
        edition=(release.name, release.published_at),
    )
    return skos.serialise(graph, fmt, stable=True)


def _zip(release: Release, documents) -> bytes:
    """The release's term files in a zip that is the same bytes every time
    (each entry dated when the release was published)."""
    stamp = release.published_at.timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for document in documents:
            entry = zipfile.ZipInfo(f"glossary/{document.slug}.yml", date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, document.to_yaml())
    return buffer.getvalue()
