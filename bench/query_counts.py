"""SQL queries per API endpoint, uncached and cached, at two page sizes.

.venv/bin/python bench/query_counts.py [--database-url postgres://.../glossary_bench]
"""

from _setup import arguments, import_corpus, scratch_database

ENDPOINTS = [
    ("list", "/api/v1/terms/?page_size={n}"),
    (
        "list + filters",
        "/api/v1/terms/?category=LLM Core&role=engineering&page_size={n}",
    ),
    ("search", "/api/v1/terms/?q=model&page_size={n}"),
    ("detail", "/api/v1/terms/log-probability/"),
    ("detail .yaml", "/api/v1/terms/log-probability.yaml"),
    ("lookup hit", "/api/v1/lookup/?q=supervised fine-tuning"),
    ("lookup miss", "/api/v1/lookup/?q=halucination"),
    ("autocomplete", "/api/v1/autocomplete/?q=a&limit={n}"),
    ("categories", "/api/v1/categories/"),
    ("roles", "/api/v1/roles/"),
    ("tags", "/api/v1/tags/"),
    ("stats", "/api/v1/stats/"),
    ("wanted", "/api/v1/wanted/"),
    ("export", "/api/v1/export/"),
]


def main() -> None:
    args = arguments(__doc__)
    scratch_database(args.database_url)
    import_corpus()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost")

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        return len(captured.captured_queries)

    print(f"database: {connection.vendor}")
    print(f"{'endpoint':16} {'n=5':>5} {'n=50':>5} {'cached':>6}")
    for name, template in ENDPOINTS:
        cache.clear()
        small = count(template.format(n=5))
        cache.clear()
        large = count(template.format(n=50))
        cached = count(template.format(n=50))
        print(f"{name:16} {small:5} {large:5} {cached:6}")


if __name__ == "__main__":
    main()
