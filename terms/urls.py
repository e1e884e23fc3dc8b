"""URLs of the human-readable pages."""

from django.urls import path

from terms.web import request_views, views
from terms.web.feeds import ReleaseFeed

urlpatterns = [
    path("", views.index, name="index"),
    path("terms/<str:slug>/", views.term_detail, name="term-page"),
    path("terms/<str:slug>/history/", views.term_history, name="term-history-page"),
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
    path("releases/feed.atom", ReleaseFeed(), name="release-feed"),
]
