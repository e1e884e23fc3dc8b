"""Imports that go through review (``import_terms --propose --user NAME``): new
terms arrive as drafts, changes to reviewed or approved terms wait as pending
changes, changes to drafts are the user's edits; the public glossary does not
move until the changes are approved. Refusals write nothing."""

import pytest
from django.core.management import CommandError, call_command

from terms.models import PendingChange, Status, Term, TermEvent
from terms.workflow import steps as workflow
from tests.helpers import base_term, run_import, seed_term, write_term

pytestmark = pytest.mark.django_db


@pytest.fixture
def glossary(people):
    author = people["author"]
    seed_term("alpha", "approved", author)
    seed_term("beta", "draft", author)
    seed_term("gamma", "reviewed", author)
    return people


def _files(folder, **short_defs):
    for name, short_def in short_defs.items():
        status = "approved" if name in ("alpha", "new one") else "draft"
        write_term(folder, base_term(name, status=status, short_def=short_def))
    return folder


def test_a_proposed_import_waits_for_review(glossary, tmp_path):
    editor = glossary["editor"]
    alpha_before = Term.objects.get(slug="alpha").short_def
    _files(
        tmp_path,
        alpha="Alpha, as the editor would have it.",
        beta="Beta, edited at once.",
        gamma="Gamma, proposed.",
        **{"new one": "A term nobody had."},
    )
    report, err = run_import(tmp_path, propose=True, user="editor")
    assert report["errors"] == [], err
    assert report["created"] == ["new-one"]
    assert report["updated"] == ["beta"]
    assert report["proposed"] == ["alpha", "gamma"]

    alpha = Term.objects.get(slug="alpha")
    assert alpha.short_def == alpha_before  # the public glossary did not move
    pending = PendingChange.objects.get(term=alpha)
    assert pending.author == editor
    assert pending.document["short_def"] == "Alpha, as the editor would have it."
    assert PendingChange.objects.get(term__slug="gamma").author == editor
    assert Term.objects.get(slug="beta").short_def == "Beta, edited at once."
    new = Term.objects.get(slug="new-one")
    assert new.status == Status.DRAFT  # the file said approved
    assert TermEvent.objects.filter(term=new, actor=editor).exists()
    assert any(w["field"] == "status" for w in report["warnings"])

    # Review then moves it: approving the pending change publishes it.
    workflow.term_transition(term=alpha, name="review", actor=glossary["reviewer"])
    workflow.term_transition(term=alpha, name="approve", actor=glossary["approver"])
    assert Term.objects.get(slug="alpha").short_def.startswith("Alpha, as the editor")


def test_a_proposed_dry_run_writes_nothing(glossary, tmp_path):
    _files(tmp_path, alpha="Changed.", **{"new one": "New."})
    report, _ = run_import(tmp_path, propose=True, user="editor", dry_run=True)
    assert report["proposed"] == ["alpha"]
    assert report["created"] == ["new-one"]
    assert not PendingChange.objects.exists()
    assert not Term.objects.filter(slug="new-one").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"propose": True, "user": "editor", "prune": True}, "cannot delete terms"),
        ({"propose": True}, "--user NAME"),
    ],
)
def test_refused_combinations_write_nothing(glossary, tmp_path, options, message):
    _files(tmp_path, alpha="Changed.")
    report, _ = run_import(tmp_path, **options)
    assert message in report["errors"][0]["message"]
    assert not PendingChange.objects.exists()


def test_an_unknown_user_is_refused(glossary, tmp_path):
    _files(tmp_path, alpha="Changed.")
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        call_command("import_terms", str(tmp_path), "--propose", "--user", "nobody")


def test_a_refused_term_rolls_back_the_whole_proposal(glossary, tmp_path):
    """A reader without the right to edit: nothing of the batch is written,
    and the error names the term's file."""
    from tests.helpers import make_user

    make_user("visitor")
    _files(tmp_path, beta="Edited.", **{"new one": "New."})
    report, _ = run_import(tmp_path, propose=True, user="visitor")
    assert report["errors"]
    assert report["errors"][0]["file"].endswith(".yml")
    assert not Term.objects.filter(slug="new-one").exists()
    assert Term.objects.get(slug="beta").short_def != "Edited."


def test_roles_files_are_left_to_a_plain_import(glossary, tmp_path):
    _files(tmp_path, alpha="Changed.")
    (tmp_path / "roles.yml").write_text(
        "roles:\n- slug: newrole\n  title: New role\n  summary: A role.\n  takeaway: Do it.\n"
    )
    report, _ = run_import(tmp_path, propose=True, user="editor")
    assert [e["field"] for e in report["errors"]] == ["data"], report["errors"]
    assert not PendingChange.objects.exists()


def test_a_deprecated_term_is_not_proposed_to(glossary, tmp_path):
    Term.objects.filter(slug="alpha").update(status=Status.DEPRECATED)
    _files(tmp_path, alpha="Changed.")
    report, _ = run_import(tmp_path, propose=True, user="editor")
    assert "deprecated" in report["errors"][0]["message"]
    assert not PendingChange.objects.exists()
