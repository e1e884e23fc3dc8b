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


class TermsConfig(AppConfig):
    """The glossary terms app."""

    name = "terms"
    verbose_name = "Glossary"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        connection_created.connect(_configure_postgres_session)
