"""The admin of what terms draw on and leave behind: roles, categories and
governance tags (with how many terms use each), revisions and link checks
(read only: the workflow and the link checker write them)."""

from django.contrib import admin

from terms.models import (
    Category,
    GovernanceTag,
    LinkCheck,
    Role,
    TermRevision,
)


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    """Roles: their texts for term pages, with term counts."""

    list_display = ("slug", "title", "position", "term_count")
    search_fields = ("slug", "title")
    ordering = ("position", "slug")

    @admin.display(description="terms")
    def term_count(self, role):
        return role.term_links.count()


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """Categories: their guidance for term pages, with term counts."""

    list_display = ("name", "slug", "position", "term_count")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    ordering = ("position", "name")

    @admin.display(description="terms")
    def term_count(self, category):
        return category.term_links.count()


@admin.register(GovernanceTag)
class GovernanceTagAdmin(admin.ModelAdmin):
    """Governance tags with term counts."""

    list_display = ("name", "term_count")
    search_fields = ("name",)

    @admin.display(description="terms")
    def term_count(self, tag):
        return tag.term_links.count()


@admin.register(TermRevision)
class TermRevisionAdmin(admin.ModelAdmin):
    """Read-only: revisions are the audit record."""

    list_display = ("term", "version", "source", "author", "status_only", "created_at")
    list_filter = ("source", "status_only")
    search_fields = ("term__name",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LinkCheck)
class LinkCheckAdmin(admin.ModelAdmin):
    """What each citation URL answered at its last check (read-only)."""

    list_display = ("url", "state", "final_url", "elapsed_ms", "attempts", "checked_at")
    list_filter = ("ok",)
    search_fields = ("url", "final_url")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
