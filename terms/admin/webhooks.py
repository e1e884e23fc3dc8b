"""Admin pages of webhook subscriptions and their delivery log."""

from django.contrib import admin

from terms.models import WebhookDelivery, WebhookSubscription


class DeliveryInline(admin.TabularInline):
    """The latest attempts, newest first (read-only)."""

    model = WebhookDelivery
    fields = ("created_at", "event_type", "term_slug", "event_id", "attempt",
              "delivered", "status_code", "error", "elapsed_ms")  # fmt: skip
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ("-id",)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    """Subscriptions: where events go, which ones, and how delivery went."""

    list_display = ("name", "url", "active", "failures", "created_at")
    list_filter = ("active",)
    readonly_fields = ("start_after", "failures", "created_by", "created_at")
    inlines = [DeliveryInline]

    def save_model(self, request, obj, form, change):
        if not change:
            from terms.integrations.webhooks import latest_event_id

            obj.created_by = request.user
            obj.start_after = latest_event_id()
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log."""

    list_display = ("created_at", "subscription", "event_type", "term_slug",
                    "attempt", "delivered", "status_code", "error")  # fmt: skip
    list_filter = ("delivered", "subscription", "event_type")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False
