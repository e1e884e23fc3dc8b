"""An import through review at 1,000 changed terms, and approving them all.

    .venv/bin/python bench/review_bulk.py \\
        --database-url postgres://postgres@127.0.0.1:5432/glossary_review

Loads N approved terms (default 2,000) into a scratch database, writes term
files changing the short definition of 1,000 of them, and prints the time of:
the dry run of ``import_paths(propose=True)`` with each change's fields before
and after (what ``POST /api/v1/imports/`` answers), the proposed import itself
(1,000 pending changes), reviewing all 1,000 in one ``POST
/api/v1/transitions/`` and approving all 1,000 in another (each term checked
on its own: permissions, four-eyes, gates).
"""

import argparse
import tempfile
import time
from pathlib import Path

from _setup import scratch_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--terms", type=int, default=2000)
    parser.add_argument("--changed", type=int, default=1000)
    args = parser.parse_args()
    url = scratch_database(args.database_url)

    import yaml
    from django.contrib.auth.models import Group
    from django.db import connection
    from rest_framework.test import APIClient

    from terms.documents.document import validate_term_data
    from terms.models import ChangeSource, PendingChange, Term
    from terms.reads.selectors import known_roles
    from terms.workflow import services
    from terms.workflow.importer import import_paths

    print(f"{connection.vendor} ({url.split('://')[0]})")
    roles = known_roles()
    documents = []
    for number in range(args.terms):
        data = _term(number, "approved")
        document, problems = validate_term_data(data, known_roles=roles)
        assert not problems, problems
        documents.append(document)
    services.terms_write(
        changes=[(d, None) for d in documents], actor=None, source=ChangeSource.IMPORT
    )
    print(f"{Term.objects.count():,} approved terms")

    users = {}
    for name, group in (
        ("editor", "editors"),
        ("reviewer", "reviewers"),
        ("approver", "approvers"),
    ):
        user = _user(name)
        user.groups.add(Group.objects.get(name=group))
        users[name] = user

    folder = Path(tempfile.mkdtemp(prefix="glossary-review-bench-"))
    for number in range(args.changed):
        data = _term(number, "approved", short_def=f"Term {number}, said better.")
        (folder / f"term-{number:05d}.yml").write_text(
            yaml.safe_dump(data, sort_keys=False), "utf-8"
        )

    started = time.perf_counter()
    report = import_paths(
        [folder], dry_run=True, actor=users["editor"], propose=True, details=True
    )
    diffs = report.diffs()
    took = time.perf_counter() - started
    assert len(report.proposed) == args.changed, report.errors[:3]
    assert all(d[0]["field"] == "short_def" for d in diffs.values())
    print(f"dry run, {args.changed:,} changed terms with their diffs: {took:.2f} s")

    started = time.perf_counter()
    report = import_paths([folder], actor=users["editor"], propose=True)
    took = time.perf_counter() - started
    assert PendingChange.objects.count() == args.changed, report.errors[:3]
    print(f"proposed import ({args.changed:,} pending changes): {took:.2f} s")

    slugs = [f"term-{number:05d}" for number in range(args.changed)]
    for step, who in (("review", "reviewer"), ("approve", "approver")):
        client = APIClient(HTTP_HOST="localhost")
        client.force_authenticate(users[who])
        started = time.perf_counter()
        response = client.post(
            "/api/v1/transitions/", {"step": step, "terms": slugs}, format="json"
        )
        took = time.perf_counter() - started
        body = response.json()
        assert response.status_code == 200, body
        assert len(body["done"]) == args.changed, body["refused"][:3]
        print(f"{step} all {args.changed:,} in one request: {took:.2f} s")
    assert not PendingChange.objects.exists()
    assert Term.objects.filter(short_def__endswith="said better.").count() == (
        args.changed
    )


def _user(name: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(name, password="unused-in-bench")


def _term(number: int, status: str, short_def: str = "") -> dict:
    """A term that passes every gate, in the benchmark's own words."""
    return {
        "term": f"term {number:05d}",
        "aliases": [f"alias {number:05d}"],
        "categories": ["Benchmark"],
        "roles": ["engineering"],
        "part_of_speech": "noun",
        "short_def": short_def or f"Term {number}, as first written.",
        "long_def": " ".join(["word"] * 90),
        "audiences": {"exec": "Why leaders care.", "engineer": "How builders use it."},
        "examples": {"do": ["Do this."], "dont": ["Not that."]},
        "governance": {"nist_rmf_tags": ["validity"], "risk_notes": "Some risk."},
        "relationships": {"related": [f"term {(number + 1) % 1000:05d}"]},
        "citations": [{"source": "Bench", "url": "https://example.org/bench"}],
        "license": "CC BY-SA 4.0",
        "status": status,
        "last_reviewed": "2026-01-15",
    }


if __name__ == "__main__":
    main()
