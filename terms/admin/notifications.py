"""Admin pages of notifications: each group's chat webhook, people's choices
and watches, and the log of what was sent."""

from django.contrib import admin

from terms.models import GroupChannel, Notification, NotificationSettings, Watch


@admin.register(GroupChannel)
class GroupChannelAdmin(admin.ModelAdmin):
    """Where a workflow group is told in chat (a Slack-compatible incoming
    webhook URL)."""

    list_display = ["group", "webhook_url", "active"]


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    """How each person is told: at once, a daily digest, or not at all."""

    list_display = ["user", "mode", "last_digest_at"]
    list_filter = ["mode"]
    readonly_fields = ["last_digest_at"]


@admin.register(Watch)
class WatchAdmin(admin.ModelAdmin):
    """Who watches which term, category or the whole glossary."""

    list_display = ["user", "term", "category"]
    raw_id_fields = ["term"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """What was sent, to whom, and what failed (read only)."""

    list_display = ["created_at", "kind", "channel", "recipient", "state", "sent_at"]
    list_filter = ["state", "channel", "kind", "digest"]
    search_fields = ["subject", "recipient__username", "address"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
