"""Shared set-up for the benchmark scripts: a scratch database with the corpus.

Each benchmark runs against a database of its own so it never touches the one
``make run`` uses: a temporary SQLite file by default, or the PostgreSQL database
named by ``--database-url`` (dropped and created anew).
"""

import argparse
import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("GLOSSARY_SHARED_DIR", ROOT.parent / "shared")) / "corpus"


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--database-url",
        default="",
        help="postgres://... of a scratch database (recreated); default: temp SQLite",
    )
    return parser.parse_args()


def scratch_database(url: str) -> str:
    """Point Django at a fresh, empty database and return its URL."""
    if not url:
        folder = tempfile.mkdtemp(prefix="glossary-bench-")
        url = f"sqlite:///{folder}/bench.sqlite3"
    elif url.startswith(("postgres://", "postgresql://")):
        import psycopg
        from psycopg import sql

        base, _, name = url.rpartition("/")
        name = name.split("?")[0]
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glossary.settings")
    os.environ.setdefault("GLOSSARY_ANON_THROTTLE_RATE", "")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "ERROR")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def import_corpus() -> None:
    from django.core.management import call_command

    if not (CORPUS / "ai-glossary").is_dir():
        sys.exit(f"reference corpus not found at {CORPUS}")
    call_command(
        "import_terms",
        str(CORPUS / "ai-glossary"),
        str(CORPUS / "ai-glossary-site"),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
