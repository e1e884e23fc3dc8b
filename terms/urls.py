"""URLs of the human-readable pages."""

from django.urls import path, re_path

from terms.web import request_views, views
from terms.web.feeds import ReleaseFeed

#: A release name (``terms.models.releases``), or ``latest`` / ``current``.
RELEASE = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"

urlpatterns = [
    path("", views.index, name="index"),
    path("terms/<str:slug>/", views.term_detail, name="term-page"),
    path("terms/<str:slug>/history/", views.term_history, name="term-history-page"),
    path("terms/<str:slug>/comments/", views.term_comment, name="term-comment"),
    path(
        "terms/<str:slug>/comments/<int:pk>/resolve/",
        views.term_comment_resolve,
        name="term-comment-resolve",
    ),
    path("terms/<str:slug>/watch/", views.term_watch, name="term-watch"),
    path("categories/<str:slug>/", views.category_detail, name="category-page"),
    path("roles/<str:slug>/", views.role_detail, name="role-page"),
    path("embed/demo/", views.embed_demo, name="embed-demo"),
    path("dashboard/", views.dashboard_page, name="dashboard"),
    path("request/", request_views.request_form, name="request-form"),
    path(
        "request/<str:public_id>/",
        request_views.request_status,
        name="request-status",
    ),
    path("backlog/", request_views.backlog_page, name="backlog"),
    path(
        "backlog/request/",
        request_views.request_searched,
        name="backlog-request",
    ),
    path("releases/feed.atom", ReleaseFeed(), name="release-feed"),
    path("releases/", views.release_list, name="release-list"),
    re_path(
        rf"^releases/(?P<a>{RELEASE}?)\.\.\.(?P<b>{RELEASE})/$",
        views.release_diff,
        name="release-diff-page",
    ),
]
