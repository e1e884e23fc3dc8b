"""Signed-in people's side of a term: its comment threads, watching it (or a
category, or the whole glossary), and how they want to be told."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from terms.api.base import GlossaryView
from terms.api.params import term_or_404
from terms.api.schema import errors
from terms.api.serializers import TextField
from terms.models import (
    Category,
    Comment,
    NotificationMode,
    NotificationSettings,
    Watch,
)
from terms.web.rendering import comment_html
from terms.workflow import comments


class CommentSerializer(serializers.ModelSerializer):
    """A comment: its Markdown and the safe HTML it renders to."""

    html = serializers.SerializerMethodField()
    author = serializers.CharField(source="author_name", read_only=True)
    resolved = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = [
            "id",
            "author",
            "body",
            "html",
            "on_pending",
            "reply_to",
            "created_at",
            "resolved",
            "resolved_at",
        ]

    def get_html(self, comment) -> str:
        return comment_html(comment.body)

    def get_resolved(self, comment) -> bool:
        return comment.resolved_at is not None


class CommentRequestSerializer(serializers.Serializer):
    """A new comment: Markdown text, optionally a reply or about the pending
    change; ``@username`` and ``@group`` mention."""

    body = TextField(max_length=comments.MAX_BODY, trim_whitespace=True)
    reply_to = serializers.IntegerField(required=False, allow_null=True)
    on_pending = serializers.BooleanField(required=False, default=False)


class CommentsView(GlossaryView):
    """``GET/POST /terms/{slug}/comments/``: the term's threads (signed-in
    readers only)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="A term's comments, oldest first (signed-in readers)",
        responses={200: CommentSerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request, slug):
        with self.domain():
            found = comments.thread_of(term_or_404(slug), request.user)
        return Response(CommentSerializer(found, many=True).data)

    @extend_schema(
        summary="Comment on a term or its pending change (mentions notify)",
        request=CommentRequestSerializer,
        responses={201: CommentSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request, slug):
        term = term_or_404(slug)
        body = CommentRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reply = body.validated_data.get("reply_to")
        reply_to = None
        if reply is not None:
            reply_to = Comment.objects.filter(pk=reply, term=term).first()
            if reply_to is None:
                raise NotFound({"reply_to": [f"No comment {reply} on {slug!r}."]})
        with self.domain():
            comment = comments.comment_post(
                term=term,
                actor=request.user,
                body=body.validated_data["body"],
                reply_to=reply_to,
                on_pending=body.validated_data["on_pending"],
            )
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class ResolveView(GlossaryView):
    """``POST /terms/{slug}/comments/{id}/resolve/``: close a thread."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Resolve a comment thread (its starter, or a reviewer)",
        request=None,
        responses={200: CommentSerializer, **errors(401, 403, 404)},
    )
    def post(self, request, slug, pk):
        comment = get_object_or_404(Comment, pk=pk, term__slug=slug)
        with self.domain():
            start = comments.thread_resolve(comment=comment, actor=request.user)
        return Response(CommentSerializer(start).data)


class WatchSerializer(serializers.Serializer):
    """What the signed-in person watches."""

    watching = serializers.BooleanField()


#: What may be watched by slug (the glossary itself has a path of its own).
WATCH_KIND = OpenApiParameter(
    "kind", str, OpenApiParameter.PATH, enum=["term", "category"]
)


class WatchView(GlossaryView):
    """``PUT``/``DELETE /watch/{kind}/{slug}/`` (``term``, ``category``) and
    ``/watch/glossary/``: be told when it is approved, deprecated or (the
    glossary) released."""

    permission_classes = [IsAuthenticated]

    def _target(self, kind: str | None, slug: str | None) -> dict:
        if kind is None:
            return {"term": None, "category": None}
        if kind == "term":
            return {"term": term_or_404(slug), "category": None}
        found = Category.objects.filter(slug=slug).first()
        if found is None:
            raise NotFound(f"No category with slug {slug!r}.")
        return {"term": None, "category": found}

    @extend_schema(
        summary="Whether I watch it",
        parameters=[WATCH_KIND],
        responses={200: WatchSerializer, **errors(401, 404)},
    )
    def get(self, request, kind=None, slug=None):
        target = self._target(kind, slug)
        watching = Watch.objects.filter(user=request.user, **target).exists()
        return Response({"watching": watching})

    @extend_schema(
        summary="Watch it",
        request=None,
        parameters=[WATCH_KIND],
        responses={200: WatchSerializer, **errors(401, 404)},
    )
    def put(self, request, kind=None, slug=None):
        Watch.objects.get_or_create(user=request.user, **self._target(kind, slug))
        return Response({"watching": True})

    @extend_schema(
        summary="Stop watching it",
        request=None,
        parameters=[WATCH_KIND],
        responses={200: WatchSerializer, **errors(401, 404)},
    )
    def delete(self, request, kind=None, slug=None):
        target = self._target(kind, slug)
        Watch.objects.filter(user=request.user, **target).delete()
        return Response({"watching": False})


class NotificationSettingsSerializer(serializers.Serializer):
    """How I want to be told: ``immediate``, ``daily`` (a digest) or ``off``."""

    mode = serializers.ChoiceField(choices=NotificationMode.values)
    email = serializers.CharField(
        read_only=True, help_text="Where mails go (empty: none are sent)."
    )


class NotificationSettingsView(GlossaryView):
    """``GET``/``PUT /me/notifications/``: the signed-in person's choice."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="How I am told",
        responses={200: NotificationSettingsSerializer, **errors(401)},
    )
    def get(self, request):
        found = NotificationSettings.objects.filter(user=request.user).first()
        mode = found.mode if found else NotificationMode.IMMEDIATE
        return Response({"mode": mode, "email": request.user.email})

    @extend_schema(
        summary="Choose how I am told",
        request=NotificationSettingsSerializer,
        responses={200: NotificationSettingsSerializer, **errors(400, 401)},
    )
    def put(self, request):
        body = NotificationSettingsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        NotificationSettings.objects.update_or_create(
            user=request.user, defaults={"mode": body.validated_data["mode"]}
        )
        return Response(
            {"mode": body.validated_data["mode"], "email": request.user.email}
        )


class GlossaryWatchView(WatchView):
    """``GET``/``PUT``/``DELETE /watch/glossary/``: be told of releases."""

    @extend_schema(
        summary="Whether I watch the glossary",
        responses={200: WatchSerializer, **errors(401)},
    )
    def get(self, request):
        return super().get(request)

    @extend_schema(
        summary="Watch the glossary (told of each release)",
        request=None,
        responses={200: WatchSerializer, **errors(401)},
    )
    def put(self, request):
        return super().put(request)

    @extend_schema(
        summary="Stop watching the glossary",
        request=None,
        responses={200: WatchSerializer, **errors(401)},
    )
    def delete(self, request):
        return super().delete(request)
