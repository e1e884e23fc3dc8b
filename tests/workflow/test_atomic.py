"""Each workflow step is one transaction: when the database refuses its last
write (the audit event), nothing of the step stays. The refusal is the
database's own, a trigger on the events' table, on SQLite and PostgreSQL."""

import contextlib
from dataclasses import replace

import pytest
from django.db import DatabaseError, connection

from terms.documents.mapping import document_from_term
from terms.models import ChangeSource, Term, TermEvent, TermRevision
from terms.workflow import steps as workflow
from tests.helpers import base_term, import_folders, write_term

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def events_refused():
    """Every insert into the audit events' table fails, for the block."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse_event() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'the database refused the event'; END $$ "
                "LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse_event BEFORE INSERT ON terms_termevent "
                "FOR EACH ROW EXECUTE FUNCTION refuse_event()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER refuse_event BEFORE INSERT ON terms_termevent "
                "BEGIN SELECT RAISE(ABORT, 'the database refused the event'); END"
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER refuse_event ON terms_termevent"
                if connection.vendor == "postgresql"
                else "DROP TRIGGER refuse_event"
            )
            if connection.vendor == "postgresql":
                cursor.execute("DROP FUNCTION refuse_event()")


@pytest.fixture
def draft(tmp_path, people):
    import_folders(write_term(tmp_path, base_term("atomic step", status="draft")))
    return Term.objects.get(slug="atomic-step")


def stored(term: Term) -> tuple:
    fresh = Term.objects.filter(pk=term.pk).first()
    if fresh is None:
        return None
    return (
        fresh.status,
        fresh.version,
        fresh.short_def,
        TermEvent.objects.filter(term_slug=term.slug).count(),
        TermRevision.objects.filter(term=fresh).count(),
    )


def steps(term: Term, people) -> dict:
    root = people["superuser"]
    document = document_from_term(term)
    return {
        "transition": lambda: workflow.term_transition(
            term=term, name="review", actor=root, source=ChangeSource.ADMIN
        ),
        "many": lambda: workflow.terms_transition_many(
            terms=[term], name="review", actor=root, source=ChangeSource.ADMIN
        ),
        "edit": lambda: workflow.term_edit(
            term=term,
            document=replace(document, short_def="Changed, then refused."),
            actor=root,
            source=ChangeSource.ADMIN,
        ),
        "delete": lambda: workflow.term_delete(
            term=term, actor=root, source=ChangeSource.ADMIN
        ),
    }


@pytest.mark.parametrize("step", ["transition", "many", "edit", "delete"])
def test_a_step_whose_event_is_refused_leaves_nothing_behind(draft, people, step):
    before = stored(draft)
    run = steps(draft, people)[step]
    with events_refused(), pytest.raises(DatabaseError):
        run()
    assert stored(draft) == before
    # Without the refusal, the same step writes.
    steps(draft, people)[step]()
    assert stored(draft) != before
