"""A term's workflow: transitions, history, its pending change, old versions.

Every transition is one route, ``POST /terms/{slug}/transitions/{name}/``, read
from ``terms.workflow.steps.TRANSITIONS``; the older per-step URLs
(``/terms/{slug}/approve/``) route to the same view.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from terms.api.base import GlossaryView, WriteView
from terms.api.params import term_or_404
from terms.api.permissions import CanSeeDrafts
from terms.api.schema import IF_MATCH_PARAM, errors
from terms.api.serializers import (
    TermDetailSerializer,
    TextField,
)
from terms.api.workflow_serializers import (
    HistorySerializer,
    PendingSerializer,
    TransitionSerializer,
)
from terms.documents.diffs import document_diff
from terms.documents.mapping import TERM_DOCUMENT_PREFETCH, document_from_term
from terms.models import ChangeSource, PendingChange, Term
from terms.workflow import steps as workflow


class TransitionView(WriteView):
    """``POST /terms/{slug}/transitions/{name}/``: one workflow step."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Take a workflow step: "
        + "; ".join(
            f"{t.url_name}: {t.summary}" for t in workflow.TRANSITIONS.values()
        ),
        request=TransitionSerializer,
        parameters=[
            OpenApiParameter(
                "name",
                str,
                OpenApiParameter.PATH,
                enum=[t.url_name for t in workflow.TRANSITIONS.values()],
            ),
            IF_MATCH_PARAM,
        ],
        responses={200: TermDetailSerializer, **errors(400, 401, 403, 404, 409, 412)},
    )
    def post(self, request, slug, name):
        """Take the step; 403 for who you are, 409 for the term's state."""
        step = name.replace("-", "_")
        if step not in workflow.TRANSITIONS:
            steps = ", ".join(t.url_name for t in workflow.TRANSITIONS.values())
            raise NotFound(f"There is no workflow step {name!r}; steps: {steps}.")
        term = term_or_404(slug)
        body = TransitionSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        with self.domain():
            term = workflow.term_transition(
                term=term,
                name=step,
                actor=request.user,
                comment=body.validated_data.get("comment", ""),
                replaced_by=body.validated_data.get("replaced_by", ""),
                source=ChangeSource.API,
                expected=self.expected,
            )
        return self.written(term)


class HistoryView(GlossaryView):
    """``GET /terms/{slug}/history/``: events and versions, optionally a diff."""

    permission_classes = [CanSeeDrafts]
    known_parameters = frozenset({"from", "to"})

    @extend_schema(
        summary="Audit trail: events and versions (diff with ?from=N&to=M)",
        parameters=[
            OpenApiParameter(
                "from",
                {"type": "integer", "minimum": 1},
                description="Version to diff from (default: the one before to).",
            ),
            OpenApiParameter(
                "to",
                {"type": "integer", "minimum": 1},
                description="Version to diff to (default: latest).",
            ),
        ],
        responses={200: HistorySerializer, **errors(400, 401, 403, 404)},
    )
    def get(self, request, slug):
        """Events oldest first, every version, and the asked-for diff."""
        term = term_or_404(slug)
        versions = list(term.revisions.select_related("author").order_by("version"))
        body = {
            "slug": term.slug,
            "events": term.events.select_related("actor").order_by("id"),
            "versions": versions,
        }
        if {"from", "to"} & set(request.query_params):
            body["diff"] = self._diff(request, term, versions)
        return Response(HistorySerializer(body).data)

    @staticmethod
    def _diff(request, term, versions) -> dict:
        documents = {v.version: v.document for v in versions}
        chosen = []
        for name in ("to", "from"):
            raw = request.query_params.get(name)
            if raw is None:  # to: the latest; from: the version before to
                raw = str(term.version) if name == "to" else str(max(chosen[0] - 1, 1))
            if not raw.isdecimal() or int(raw) < 1:
                raise ValidationError(
                    {name: [f"must be a version number, not {raw!r}"]}
                )
            if int(raw) not in documents:
                raise NotFound(
                    {name: [f"no version {raw}; versions: 1-{term.version}"]}
                )
            chosen.append(int(raw))
        chosen.reverse()
        before, after = (documents[number] for number in chosen)
        return {
            "from": chosen[0],
            "to": chosen[1],
            "changes": document_diff(before, after),
        }


class PendingView(GlossaryView):
    """``GET``/``DELETE /terms/{slug}/pending/``: read or withdraw the change."""

    permission_classes = [CanSeeDrafts]

    @extend_schema(
        summary="The pending change and its diff against the live term",
        responses={200: PendingSerializer, **errors(401, 403, 404)},
    )
    def get(self, request, slug):
        """The change, its contributors and its diff."""
        term = get_object_or_404(
            Term.objects.prefetch_related(*TERM_DOCUMENT_PREFETCH), slug=slug
        )
        pending = (
            PendingChange.objects.select_related("author", "reviewed_by", "term")
            .prefetch_related("contributors")
            .filter(term=term)
            .first()
        )
        if pending is None:
            raise NotFound(f"The term {term.slug!r} has no pending change.")
        live = document_from_term(term).to_data()
        context = {"request": request, "live": live}
        return Response(PendingSerializer(pending, context=context).data)

    @extend_schema(
        summary="Withdraw the pending change",
        responses={204: None, **errors(401, 403, 404, 409)},
    )
    def delete(self, request, slug):
        """Its author or an approver may withdraw it."""
        term = term_or_404(slug)
        with self.domain():
            workflow.pending_withdraw(
                term=term, actor=request.user, source=ChangeSource.API
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


class RestoreVersionView(WriteView):
    """``POST /terms/{slug}/versions/{n}/restore/``: propose an old version."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Propose an old version's content again (goes through review)",
        request=None,
        responses={
            200: TermDetailSerializer,
            202: PendingSerializer,
            **errors(401, 403, 404, 409),
        },
    )
    def post(self, request, slug, version):
        """A draft changes at once; a reviewed or approved term gets a proposal."""
        term = term_or_404(slug)
        with self.domain():
            result = workflow.term_revert(
                term=term,
                version=int(version),
                actor=request.user,
                source=ChangeSource.API,
            )
        if result.pending is not None:
            return self.pending_written(result.term, result.pending)
        return self.written(result.term)


#: The most terms one bulk step takes.
BULK_MAX = 5000


class BulkTransitionSerializer(serializers.Serializer):
    """One workflow step for many terms (or their pending changes)."""

    step = serializers.ChoiceField(
        choices=[t.url_name for t in workflow.TRANSITIONS.values()]
    )
    terms = serializers.ListField(
        child=TextField(max_length=200, trim_whitespace=False),
        min_length=1,
        max_length=BULK_MAX,
        help_text="Slugs of the terms.",
    )
    comment = TextField(required=False, allow_blank=True, default="", max_length=5000)


class BulkRefusal(serializers.Serializer):
    """A term the step was refused for, and why."""

    slug = serializers.CharField()
    message = serializers.CharField()


class BulkResultSerializer(serializers.Serializer):
    """Which terms the step was taken for, and which it was refused."""

    step = serializers.CharField()
    done = serializers.ListField(child=serializers.CharField())
    refused = BulkRefusal(many=True)


class BulkTransitionView(WriteView):
    """``POST /transitions/``: one step for many terms, each on its own.

    Every term goes through the same checks as one at a time (permissions,
    four-eyes, gates, the approvals needed); a refusal for one does not stop
    the others, and the answer says which were done and why others were not.
    """

    @extend_schema(
        summary="Take one workflow step for many terms (each checked on its own)",
        request=BulkTransitionSerializer,
        responses={200: BulkResultSerializer, **errors(400, 401)},
    )
    def post(self, request):
        body = BulkTransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        step = body.validated_data["step"].replace("-", "_")
        slugs = list(dict.fromkeys(body.validated_data["terms"]))
        found = Term.objects.filter(slug__in=slugs).only("pk", "slug")
        result = workflow.terms_transition_many(
            terms=list(found),
            name=step,
            actor=request.user,
            comment=body.validated_data["comment"],
            source=ChangeSource.API,
        )
        order = {slug: index for index, slug in enumerate(slugs)}
        done = sorted(result.done, key=order.__getitem__)
        refused = [
            {"slug": slug, "message": error.message} for slug, error in result.refused
        ]
        known = set(result.done) | {item["slug"] for item in refused}
        refused += [
            {"slug": slug, "message": f"No term with slug {slug!r}."}
            for slug in slugs
            if slug not in known
        ]
        refused.sort(key=lambda item: order[item["slug"]])
        return Response({"step": step, "done": done, "refused": refused})
