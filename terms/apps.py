"""App configuration."""

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _configure_postgres_session(sender, connection, **kwargs):
    """Set the pg_trgm threshold that the indexed word-similarity operator uses."""
    if connection.vendor == "postgresql":
        from .search import TYPO_SIMILARITY

        with connection.cursor() as cursor:
            cursor.execute(
                "SET pg_trgm.word_similarity_threshold = %s", [TYPO_SIMILARITY]
            )


def _glossary_changed(sender, **kwargs):
    from .services import glossary_touch

    glossary_touch()


class TermsConfig(AppConfig):
    """The glossary terms app."""

    name = "terms"
    verbose_name = "Glossary"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import Category, GovernanceTag, Role, SiteText

        connection_created.connect(_configure_postgres_session)
        # Term content is written through terms.services, which bumps the glossary
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
