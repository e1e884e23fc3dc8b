"""App configuration."""

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _configure_postgres_session(sender, connection, **kwargs):
    """Set the pg_trgm threshold that the indexed word-similarity operator uses."""
    if connection.vendor == "postgresql":
        from terms.text.search import TYPO_SIMILARITY

        with connection.cursor() as cursor:
            cursor.execute(
                "SET pg_trgm.word_similarity_threshold = %s", [TYPO_SIMILARITY]
            )


#: Cross-origin requests that may be granted: reads of the API and the widget's
#: files, annotate and reconciliation batches (POSTs that change nothing; the
#: reconciliation specification asks for CORS on every endpoint).
_CORS_READS = ("/api/v1/", "/api/schema/", "/static/glossary/")
_CORS_POSTS = ("/api/v1/annotate/", "/api/v1/reconcile/")


def _cors_allowed(sender, request, **kwargs) -> bool:
    """Whether another origin's page may make this request (or its preflight).

    Writes and workflow steps get no CORS grant: they are for signed-in people
    and tools, never for scripts on other sites.
    """
    method = request.method
    if method == "OPTIONS":
        method = request.headers.get("Access-Control-Request-Method", "").upper()
    path = request.path_info
    if method in ("GET", "HEAD"):
        return path.startswith(_CORS_READS)
    return method == "POST" and path in _CORS_POSTS


def _glossary_changed(sender, **kwargs):
    from terms.workflow.services import glossary_touch

    glossary_touch()


class TermsConfig(AppConfig):
    """The glossary terms app."""

    name = "terms"
    verbose_name = "Glossary"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from corsheaders.signals import check_request_enabled
        from django.db.models.signals import post_delete, post_save

        from terms.models import Category, GovernanceTag, Role, SiteText

        connection_created.connect(_configure_postgres_session)
        check_request_enabled.connect(_cors_allowed, dispatch_uid="glossary-cors")
        # Term content is written through terms.workflow.services, which bumps the
        # glossary
        # version itself; these models are also edited directly (admin, shell), and
        # pages show their texts, so their changes must invalidate cached reads too.
        for model in (Role, Category, GovernanceTag, SiteText):
            post_save.connect(
                _glossary_changed, sender=model, dispatch_uid=f"touch-{model.__name__}"
            )
            post_delete.connect(
                _glossary_changed,
                sender=model,
                dispatch_uid=f"untouch-{model.__name__}",
            )
