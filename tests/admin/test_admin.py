"""The admin: editing through the workflow, buttons, bulk actions, history, waiting list."""

import pytest
from django.test import Client

from terms.models import Category, PendingChange, Role, Term
from tests.helpers import base_term, import_folders, make_user, write_term

pytestmark = pytest.mark.django_db

INLINES = (
    "aliases",
    "term_categories",
    "term_roles",
    "term_tags",
    "examples",
    "citations",
    "relationships",
)


def user_in(name, group):
    user = make_user(name, group, staff=True)
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def staff(db):
    return {
        group: user_in(group.rstrip("s"), group)
        for group in ("editors", "reviewers", "approvers")
    }


def management(prefix, rows, initial=0):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data


def add_form(name="admin term", short_def="Written in the admin.", **extra_rows):
    category = Category.objects.get_or_create(name="Testing", slug="testing")[0]
    role = Role.objects.get(slug="engineering")
    data = {
        "name": name,
        "part_of_speech": "noun",
        "short_def": short_def,
        "long_def": " ".join(["word"] * 90),
        "exec_perspective": "Why it matters.",
        "engineer_perspective": "How to build it.",
        "risk_notes": "",
        "license": "CC BY-SA 4.0",
        "last_reviewed": "2026-11-01",
    }
    rows = {
        "aliases": [{"name": f"{name} alias"}],
        "term_categories": [{"category": str(category.pk)}],
        "term_roles": [{"role": str(role.pk)}],
        "term_tags": [],
        "examples": [
            {"kind": "do", "text": "Do it."},
            {"kind": "dont", "text": "Not that."},
        ],
        "citations": [{"source": "Example", "url": "https://example.org/"}],
        "relationships": [{"kind": "related", "target_name": "something else"}],
    }
    rows.update(extra_rows)
    for prefix in INLINES:
        data.update(management(prefix, rows[prefix]))
    return data


def test_editor_creates_a_draft_through_the_admin(staff):
    editor, client = staff["editors"]
    response = client.post("/admin/terms/term/add/", add_form())
    assert response.status_code == 302, response.content.decode()[:3000]
    term = Term.objects.get(slug="admin-term")
    assert term.status == "draft"
    assert list(term.aliases.values_list("name", flat=True)) == ["admin term alias"]
    assert term.events.get().actor == editor
    assert term.events.get().source == "admin"


def test_admin_form_refuses_an_invalid_document(staff):
    _, client = staff["editors"]
    data = add_form(
        citations=[{"source": "Bad", "url": "https://example.org/"}],
        relationships=[{"kind": "related", "target_name": "admin term alias"}],
    )
    response = client.post("/admin/terms/term/add/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "relationships.related[0]: &#x27;admin term alias&#x27; is this term" in page
    assert not Term.objects.exists()


def test_admin_saves_an_incomplete_draft_and_the_gate_names_what_is_missing(staff):
    _, client = staff["editors"]
    data = add_form(short_def="", examples=[], citations=[])
    data.update(exec_perspective="", license="", part_of_speech="")
    response = client.post("/admin/terms/term/add/", data)
    page = response.content.decode()
    assert response.status_code == 302, page[page.find("errorlist") - 300 :][:1500]
    term = Term.objects.get(slug="admin-term")
    assert (term.status, term.short_def, term.license) == ("draft", "", "")
    _, reviewer = staff["reviewers"]
    page = reviewer.get(f"/admin/terms/term/{term.pk}/change/").content.decode()
    gates = page[page.index('id="why-review"') :]
    gates = gates[: gates.index("</div>")]
    for field in ("short_def", "audiences.exec", "examples.do", "citations"):
        assert f"<code>{field}</code>" in gates, gates


def test_editing_an_approved_term_in_the_admin_makes_a_pending_change(staff, tmp_path):
    write_term(
        tmp_path, base_term("live one", status="approved", categories=["Testing"])
    )
    import_folders(tmp_path)
    term = Term.objects.get(slug="live-one")
    _, client = staff["editors"]
    page = client.get(f"/admin/terms/term/{term.pk}/change/")
    assert page.status_code == 200
    data = add_form("live one", short_def="Edited in the admin.")
    # keep the existing rows: post them as initial forms with their ids
    for prefix, manager in (
        ("aliases", term.aliases),
        ("examples", term.examples),
        ("citations", term.citations),
        ("relationships", term.relationships),
    ):
        rows = []
        for obj in manager.all():
            row = {"id": str(obj.pk), "term": str(term.pk)}
            for field in ("name", "kind", "text", "source", "url", "target_name"):
                if hasattr(obj, field):
                    row[field] = getattr(obj, field)
            rows.append(row)
        data.update(management(prefix, rows, initial=len(rows)))
    for prefix, manager, field in (
        ("term_categories", term.term_categories, "category"),
        ("term_roles", term.term_roles, "role"),
        ("term_tags", term.term_tags, "tag"),
    ):
        rows = [
            {
                "id": str(o.pk),
                "term": str(term.pk),
                field: str(getattr(o, f"{field}_id")),
            }
            for o in manager.all()
        ]
        data.update(management(prefix, rows, initial=len(rows)))
    response = client.post(f"/admin/terms/term/{term.pk}/change/", data, follow=True)
    assert response.status_code == 200
    assert "pending change" in response.content.decode()
    term.refresh_from_db()
    assert term.short_def == base_term()["short_def"]
    pending = PendingChange.objects.get(term=term)
    assert pending.document["short_def"] == "Edited in the admin."
    page = client.get(f"/admin/terms/term/{term.pk}/change/").content.decode()
    assert "<ins>Edited in</ins>" in page


def test_buttons_run_transitions_and_explain_refusals(staff, tmp_path):
    write_term(tmp_path, base_term("button term"))
    import_folders(tmp_path)
    term = Term.objects.get(slug="button-term")
    _, editor = staff["editors"]
    _, reviewer = staff["reviewers"]
    page = editor.get(f"/admin/terms/term/{term.pk}/change/").content.decode()
    assert "lacks the permission to mark reviewed" in page
    refused = editor.post(
        f"/admin/terms/term/{term.pk}/transition/review/", follow=True
    )
    assert "lacks the permission" in refused.content.decode()
    assert Term.objects.get(pk=term.pk).status == "draft"
    done = reviewer.post(
        f"/admin/terms/term/{term.pk}/transition/review/",
        {"comment": "Looks right."},
        follow=True,
    )
    assert "Mark reviewed: done" in done.content.decode()
    assert Term.objects.get(pk=term.pk).status == "reviewed"
    assert (
        reviewer.get(f"/admin/terms/term/{term.pk}/transition/review/").status_code
        == 405
    )


def test_status_is_not_a_form_field(staff, tmp_path):
    write_term(tmp_path, base_term("fixed status"))
    import_folders(tmp_path)
    term = Term.objects.get(slug="fixed-status")
    _, client = staff["editors"]
    page = client.get(f"/admin/terms/term/{term.pk}/change/").content.decode()
    assert 'name="status"' not in page


def test_bulk_actions_go_through_the_workflow(staff, tmp_path):
    write_term(tmp_path, base_term("bulk one"))
    write_term(tmp_path, base_term("bulk two", long_def="too short"))
    import_folders(tmp_path)
    _, reviewer = staff["reviewers"]
    ids = list(Term.objects.values_list("pk", flat=True))
    response = reviewer.post(
        "/admin/terms/term/",
        {"action": "review_selected", "_selected_action": [str(pk) for pk in ids]},
        follow=True,
    )
    page = response.content.decode()
    assert "Mark reviewed: 1 term(s) done." in page
    assert "long_def has 2 words" in page
    assert dict(Term.objects.values_list("slug", "status")) == {
        "bulk-one": "reviewed",
        "bulk-two": "draft",
    }


def test_history_page_shows_events_versions_and_diff(staff, tmp_path):
    write_term(tmp_path, base_term("story"))
    import_folders(tmp_path)
    write_term(tmp_path, base_term("story", short_def="A changed line."))
    import_folders(tmp_path)
    term = Term.objects.get(slug="story")
    _, reviewer = staff["reviewers"]
    page = reviewer.get(
        f"/admin/terms/term/{term.pk}/history/?from=1&to=2"
    ).content.decode()
    assert "history-events" in page
    assert "<del>" in page
    assert "<ins>changed line.</ins>" in page or "<ins>A changed line.</ins>" in page


def test_waiting_for_me_lists_what_the_user_may_act_on(staff, tmp_path):
    write_term(tmp_path, base_term("to review"))
    write_term(tmp_path, base_term("to approve", status="reviewed"))
    import_folders(tmp_path)
    _, reviewer = staff["reviewers"]
    _, approver = staff["approvers"]
    reviewer_page = reviewer.get("/admin/terms/term/waiting/").content.decode()
    assert "to review" in reviewer_page
    assert "to approve" not in reviewer_page
    approver_page = approver.get("/admin/terms/term/waiting/").content.decode()
    assert "to approve" in approver_page
    assert "Approve" in approver_page


def _waiting_queries(client, names, tmp_path) -> tuple[int, str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from terms.documents.document import validate_term_data
    from terms.models import ChangeSource
    from terms.reads.selectors import known_roles
    from terms.workflow import services

    author = make_user(f"author-{len(names)}", "editors")
    for name in names:
        status = "reviewed" if name.endswith("reviewed") else "draft"
        document, problems = validate_term_data(
            base_term(name, status=status), known_roles=known_roles()
        )
        assert not problems
        services.terms_write(
            changes=[(document, None)], actor=author, source=ChangeSource.ADMIN
        )
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/admin/terms/term/waiting/")
    assert response.status_code == 200
    return len(captured.captured_queries), response.content.decode()


def test_waiting_for_me_runs_a_fixed_number_of_queries(staff, tmp_path):
    _, approver = staff["approvers"]
    few, page = _waiting_queries(approver, ["one reviewed", "one draft"], tmp_path)
    assert "one reviewed" in page
    names = [f"term {n} {'reviewed' if n % 2 else 'draft'}" for n in range(12)]
    many, page = _waiting_queries(approver, names, tmp_path)
    assert "term 11 reviewed" in page
    assert few == many
    assert many <= 25


def test_list_shows_status_category_and_pending_flag(staff, fixtures_db):
    _, client = staff["editors"]
    page = client.get("/admin/terms/term/?status__exact=approved").content.decode()
    assert "Language Models" in page
    assert "grounding" not in page.lower() or "draft" not in page
    search = client.get("/admin/terms/term/?q=LLM").content.decode()
    assert "large language model" in search


def test_deleting_in_the_admin_leaves_an_audit_event(django_user_model, tmp_path):
    from terms.models import TermEvent

    write_term(tmp_path, base_term("short lived"))
    import_folders(tmp_path)
    term = Term.objects.get(slug="short-lived")
    root = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client = Client()
    client.force_login(root)
    response = client.post(f"/admin/terms/term/{term.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Term.objects.filter(slug="short-lived").exists()
    event = TermEvent.objects.get(term_slug="short-lived", action="delete")
    assert (event.actor, event.source) == (root, "admin")


def test_admin_restores_an_old_version_and_withdraws_a_pending_change(staff, tmp_path):
    write_term(tmp_path, base_term("versions", status="approved"))
    import_folders(tmp_path)
    write_term(
        tmp_path, base_term("versions", status="approved", short_def="Second text.")
    )
    import_folders(tmp_path)
    term = Term.objects.get(slug="versions")
    _, editor = staff["editors"]
    page = editor.get(f"/admin/terms/term/{term.pk}/history/").content.decode()
    assert "Restore this version" in page
    restored = editor.post(
        f"/admin/terms/term/{term.pk}/versions/1/restore/", follow=True
    )
    assert "Version 1 is proposed as a pending change." in restored.content.decode()
    pending = PendingChange.objects.get(term=term)
    assert pending.document["short_def"] == base_term()["short_def"]
    assert Term.objects.get(pk=term.pk).short_def == "Second text."
    withdrawn = editor.post(
        f"/admin/terms/term/{term.pk}/pending/withdraw/", follow=True
    )
    assert "The pending change was withdrawn." in withdrawn.content.decode()
    assert not PendingChange.objects.filter(term=term).exists()


def test_sending_many_back_asks_for_the_comment_first(staff, tmp_path):
    write_term(tmp_path, base_term("back one", status="reviewed"))
    write_term(tmp_path, base_term("back two", status="reviewed"))
    import_folders(tmp_path)
    _, approver = staff["approvers"]
    mine = Term.objects.filter(slug__in=["back-one", "back-two"])
    ids = [str(pk) for pk in mine.values_list("pk", flat=True)]
    chosen = {"action": "request_changes_selected", "_selected_action": ids}
    asked = approver.post("/admin/terms/term/", chosen).content.decode()
    assert 'name="comment"' in asked
    assert "back one" in asked
    assert set(mine.values_list("status", flat=True)) == {"reviewed"}
    empty = approver.post("/admin/terms/term/", {**chosen, "apply": "1"})
    assert "Say what should change." in empty.content.decode()
    done = approver.post(
        "/admin/terms/term/",
        {**chosen, "apply": "1", "comment": "Cite a source."},
        follow=True,
    ).content.decode()
    assert "Request changes: 2 term(s) done." in done
    assert set(mine.values_list("status", flat=True)) == {"draft"}
    from terms.models import TermEvent

    assert TermEvent.objects.filter(comment="Cite a source.").count() == 2


def test_the_import_page_shows_the_dry_run_as_a_diff_then_submits_it(staff, tmp_path):
    """An editor uploads a file: the page shows each changed field word by
    word, nothing is written; submitting proposes the changes for review."""
    import yaml
    from django.core.files.uploadedfile import SimpleUploadedFile

    from terms.models import PendingChange

    write_term(tmp_path, base_term("imported", status="approved"))
    import_folders(tmp_path)
    editor_user, editor = staff["editors"]
    changed = base_term("imported", status="approved", short_def="A better line.")
    upload = SimpleUploadedFile(
        "imported.yml", yaml.safe_dump(changed, sort_keys=False).encode()
    )
    form = editor.get("/admin/terms/term/import/").content.decode()
    assert 'name="file"' in form
    assert 'name="direct"' not in form  # not an administrator: always reviewed
    page = editor.post("/admin/terms/term/import/", {"file": upload}).content.decode()
    assert "1 proposed for review" in page
    assert "<ins>better line.</ins>" in page or "<ins>A better line.</ins>" in page
    assert not PendingChange.objects.exists()
    done = editor.post(
        "/admin/terms/term/import/",
        {"submit": "1", "token": editor.session["glossary_import_upload"]["token"]},
        follow=True,
    ).content.decode()
    assert "1 proposed for review" in done
    pending = PendingChange.objects.get()
    assert pending.author == editor_user
    assert pending.document["short_def"] == "A better line."
    again = editor.post("/admin/terms/term/import/", {"submit": "1", "token": "x"})
    assert again.status_code == 302  # the upload is gone once submitted
