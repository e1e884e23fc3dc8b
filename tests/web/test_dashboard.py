"""/dashboard/: the charts, with the same numbers as /api/v1/stats/."""

import re

import pytest

pytestmark = pytest.mark.django_db


def bars(page: str, key: str) -> dict[str, int]:
    """The labels and values of one chart's bars."""
    start = page.index(f'id="chart-{key}"')
    chart = page[start : page.index("</figure>", start)]
    assert "<title" in chart
    assert "<desc" in chart
    return {
        label: int(value)
        for label, value in re.findall(
            r'data-label="([^"]*)" data-value="(\d+)"', chart
        )
    }


def test_the_charts_show_the_stats_numbers(corpus_db, client, api):
    page = client.get("/dashboard/").content.decode()
    stats = api.get("/api/v1/stats/").json()
    assert bars(page, "categories") == {
        name.replace("&", "&amp;"): n for name, n in stats["by_category"].items()
    }
    assert bars(page, "roles") == stats["by_role"]
    assert bars(page, "tags") == stats["by_tag"]
    assert sum(bars(page, "status").values()) == stats["terms"]
    assert sum(bars(page, "freshness").values()) == stats["terms"]
    assert f"{stats['terms']} terms" in page


def test_overdue_terms_follow_the_review_period(corpus_db, client, settings):
    settings.GLOSSARY_REVIEW_PERIOD_DAYS = 1
    page = client.get("/dashboard/").content.decode()
    overdue = page[page.index('id="overdue"') : page.index('id="wanted"')]
    assert "last reviewed" in overdue
    settings.GLOSSARY_REVIEW_PERIOD_DAYS = 100_000
    page = client.get("/dashboard/").content.decode()
    assert "0 overdue for review" in page


def test_a_role_page_starts_with_the_terms_the_others_lean_on(corpus_db, client):
    from terms.models import Term
    from terms.reads.selectors import link_counts

    terms = list(Term.objects.filter(roles__slug="engineering", status="approved"))
    counts = link_counts([t.pk for t in terms])
    page = client.get("/roles/engineering/").content.decode()
    starter = page[page.index('id="starter"') : page.index('id="terms"')]
    listed = re.findall(r'href="/terms/([^/]+)/"', starter)
    assert len(listed) == 5
    by_slug = {t.slug: counts.get(t.pk, 0) for t in terms}
    assert [by_slug[s] for s in listed] == sorted(by_slug.values(), reverse=True)[:5]


def test_a_category_page_shows_how_its_terms_relate(corpus_db, client):
    from terms.models import Category, Relationship

    category = Category.objects.get(name="LLM Core")
    inside = Relationship.objects.filter(
        term__categories=category, target__categories=category
    ).distinct()
    page = client.get(f"/categories/{category.slug}/").content.decode()
    explorer = page[page.index('class="category-links"') :]
    explorer = explorer[: explorer.index("</ul>")]
    assert explorer.count("<li>") == inside.count() > 0
    first = inside.order_by("term__name_key", "kind", "position").first()
    assert f'href="/terms/{first.term.slug}/"' in explorer
