"""URLs of the human-readable pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("terms/<str:slug>/", views.term_detail, name="term-page"),
    path("terms/<str:slug>/history/", views.term_history, name="term-history-page"),
    path("categories/<str:slug>/", views.category_detail, name="category-page"),
    path("roles/<str:slug>/", views.role_detail, name="role-page"),
    path("embed/demo/", views.embed_demo, name="embed-demo"),
    path("dashboard/", views.dashboard_page, name="dashboard"),
]
