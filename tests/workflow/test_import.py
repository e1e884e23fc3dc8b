"""import_terms: batches, upserts, unchanged re-imports, dry runs, pruning, reports."""

import io
import shutil
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from terms.models import (
    Alias,
    Category,
    Relationship,
    Role,
    SiteText,
    Term,
    TermEvent,
    TermRevision,
)
from tests.helpers import FIXTURES, base_term, read_yaml, run_import, write_term

pytestmark = pytest.mark.django_db

SNAPSHOTS = ("history/2025-09-18-draft", "history/2025-09-29-reviewed", "ai-glossary")


def database_state() -> dict:
    """A snapshot of every row that an import may write."""
    return {
        "terms": list(Term.objects.values().order_by("slug")),
        "aliases": list(
            Alias.objects.values_list("term__slug", "name", "position").order_by("id")
        ),
        "relationships": list(
            Relationship.objects.values_list(
                "term__slug", "target_name", "target_id"
            ).order_by("id")
        ),
        "revisions": TermRevision.objects.count(),
        "events": TermEvent.objects.count(),
        "roles": list(Role.objects.values()),
        "categories": list(Category.objects.values()),
        "site": list(SiteText.objects.values()),
    }


def test_corpus_imports_112_then_reimports_as_unchanged(corpus, count_writes):
    report, _ = run_import(corpus / "ai-glossary")
    assert len(report["created"]) == 112
    assert report["errors"] == []
    assert Term.objects.count() == 112
    before = database_state()
    with count_writes() as counter:
        again, _ = run_import(corpus / "ai-glossary")
    assert len(again["unchanged"]) == 112
    assert again["created"] == again["updated"] == again["deleted"] == []
    assert counter.writes == []
    assert database_state() == before


def test_snapshots_in_date_order(corpus):
    counts = []
    for snapshot in SNAPSHOTS:
        report, _ = run_import(corpus / snapshot, corpus / "ai-glossary-site")
        assert report["errors"] == []
        counts.append(Term.objects.count())
    assert counts == [58, 100, 112]
    assert set(Term.objects.values_list("status", flat=True)) == {"approved"}
    # Each change is a new version with a revision and an event of the import.
    term = Term.objects.get(slug="log-probability")
    assert term.version == 3
    assert [r.document["status"] for r in term.revisions.order_by("version")] == [
        "draft",
        "reviewed",
        "approved",
    ]
    events = term.events.order_by("id")
    assert [(e.action, e.from_status, e.to_status) for e in events] == [
        ("create", "", "draft"),
        ("update", "draft", "reviewed"),
        ("update", "reviewed", "approved"),
    ]
    assert {e.source for e in events} == {"import"}
    assert {e.actor_name for e in events} == {"importer"}


def test_second_snapshot_reports_changed_fields(corpus):
    run_import(corpus / SNAPSHOTS[0])
    report, _ = run_import(corpus / SNAPSHOTS[1], dry_run=True)
    assert len(report["created"]) == 42
    assert "status" in report["changes"]["log-probability"]


def test_other_yaml_style_of_the_same_content_is_unchanged(
    corpus, tmp_path, count_writes
):
    run_import(corpus / "ai-glossary")
    restyled = tmp_path / "restyled"
    restyled.mkdir()
    for path in sorted((corpus / "ai-glossary").glob("*.yml")):
        data = read_yaml(path.read_text("utf-8"))
        data["last_reviewed"] = __import__("datetime").date.fromisoformat(
            data["last_reviewed"]
        )
        reordered = dict(reversed(list(data.items())))
        text = yaml.safe_dump(
            reordered, sort_keys=False, allow_unicode=False, default_style='"', width=60
        )
        (restyled / path.name).write_text(text, "utf-8")
    # Folded blocks and padding whitespace mean the same stored text too.
    sample = restyled / "log-probability.yml"
    data = read_yaml(sample.read_text("utf-8"))
    folded = yaml.safe_dump(
        {k: v for k, v in data.items() if k != "long_def"}, sort_keys=False
    )
    folded += "long_def: >-\n  " + data["long_def"].replace(". ", ".\n  ") + "\n"
    sample.write_text(folded, "utf-8")
    with count_writes() as counter:
        report, _ = run_import(restyled)
    assert len(report["unchanged"]) == 112, report["updated"]
    assert counter.writes == []


def test_relationships_resolve_including_later_arrivals(term_dir, tmp_path):
    write_term(
        term_dir,
        base_term(
            "alpha",
            aliases=["first letter"],
            relationships={"related": ["Beta_Term", "gamma"]},
        ),
    )
    run_import(term_dir)
    rels = {r.target_name: r.target for r in Relationship.objects.all()}
    assert rels == {"Beta_Term": None, "gamma": None}
    later = tmp_path / "later"
    write_term(
        later,
        base_term(
            "beta term", aliases=["second"], relationships={"broader": ["FIRST LETTER"]}
        ),
    )
    report, _ = run_import(later)
    assert report["created"] == ["beta-term"]
    alpha, beta = Term.objects.get(slug="alpha"), Term.objects.get(slug="beta-term")
    assert Relationship.objects.get(term=alpha, target_name="Beta_Term").target == beta
    assert (
        Relationship.objects.get(term=beta, target_name="FIRST LETTER").target == alpha
    )
    assert Relationship.objects.get(term=alpha, target_name="gamma").target is None
    # The earlier term's document is untouched by resolving its reference.
    assert alpha.version == 1


def test_shared_alias_warns_and_does_not_resolve(term_dir):
    write_term(term_dir, base_term("one", aliases=["shared name"], relationships={}))
    write_term(term_dir, base_term("two", aliases=["Shared-Name"], relationships={}))
    write_term(
        term_dir,
        base_term(
            "three",
            aliases=["third"],
            relationships={"related": ["shared name", "nowhere"]},
        ),
    )
    report, _ = run_import(term_dir)
    warnings = [w["message"] for w in report["warnings"]]
    assert any("alias 'shared name' is shared with two" in w for w in warnings)
    assert any(
        "'shared name' is ambiguous (it could mean one, two)" in w for w in warnings
    )
    assert any("'nowhere' names no term yet" in w for w in warnings)
    assert Relationship.objects.get(target_name="shared name").target is None


def test_name_match_beats_alias_of_another_term(term_dir):
    write_term(
        term_dir, base_term("function calling", aliases=["tool use"], relationships={})
    )
    write_term(term_dir, base_term("tool use", aliases=["tools"], relationships={}))
    write_term(
        term_dir,
        base_term("agent", aliases=["bot"], relationships={"related": ["tool-use"]}),
    )
    run_import(term_dir)
    assert Relationship.objects.get(target_name="tool-use").target.slug == "tool-use"


def test_mixed_batch_with_one_bad_file_writes_nothing(corpus, tmp_path, count_writes):
    batch = tmp_path / "batch"
    shutil.copytree(corpus / "ai-glossary", batch)
    bad = batch / "temperature.yml"
    bad.write_text(
        bad.read_text("utf-8").replace("status: approved", "status: shipped"), "utf-8"
    )
    (batch / "broken.yml").write_bytes(b"term: [oops\n")
    with count_writes() as counter:
        report, err = run_import(batch)
    assert counter.writes == []
    assert Term.objects.count() == 0
    assert report["created"] == []
    files = {Path(e["file"]).name for e in report["errors"]}
    assert files == {"temperature.yml", "broken.yml"}
    assert "nothing was written" in err


def test_bad_input_leaves_existing_database_unchanged(corpus, tmp_path):
    run_import(corpus / "ai-glossary", corpus / "ai-glossary-site")
    before = database_state()
    batch = tmp_path / "batch"
    shutil.copytree(corpus / "ai-glossary", batch)
    edited = batch / "token.yml"
    edited.write_text(
        edited.read_text("utf-8").replace("status: approved", "status: draft"), "utf-8"
    )
    write_term(batch, base_term("new term", roles=["astronaut"]))
    report, _ = run_import(batch)
    assert [e["field"] for e in report["errors"]] == ["roles[0]"]
    assert "unknown role 'astronaut'" in report["errors"][0]["message"]
    assert report["errors"][0]["line"] is not None
    assert database_state() == before


def test_duplicate_slug_across_directories_is_an_error(tmp_path):
    write_term(tmp_path / "a", base_term("twin"))
    write_term(tmp_path / "b", base_term("twin"))
    report, _ = run_import(tmp_path / "a", tmp_path / "b")
    assert "term 'twin' is also defined in" in report["errors"][0]["message"]
    assert Term.objects.count() == 0


def test_missing_path_and_non_yaml_file_are_errors(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    report, _ = run_import(tmp_path / "nope", other, tmp_path)
    messages = {(Path(e["file"]).name, e["message"]) for e in report["errors"]}
    assert ("nope", "no such file or directory") in messages
    assert (
        "notes.txt",
        "not a term file: import takes .yml, .yaml, .ttl, .rdf, .jsonld and .csv files",
    ) in messages
    assert (tmp_path.name, "directory holds no .yml files") in messages


def test_category_spelling_clash_is_an_error(term_dir):
    write_term(term_dir, base_term("one", categories=["LLM Core"]))
    write_term(term_dir, base_term("two", categories=["llm core"]))
    report, _ = run_import(term_dir)
    assert (
        "category 'llm core' clashes with 'LLM Core'" in report["errors"][0]["message"]
    )


def test_dry_run_writes_nothing_and_lists_changed_fields(
    corpus, count_writes, tmp_path
):
    run_import(corpus / "ai-glossary")
    batch = tmp_path / "batch"
    shutil.copytree(corpus / "ai-glossary", batch)
    edited = batch / "token.yml"
    edited.write_text(
        edited.read_text("utf-8").replace("status: approved", "status: deprecated"),
        "utf-8",
    )
    (batch / "temperature.yml").unlink()
    write_term(batch, base_term("brand new term", roles=["product"]))
    before = database_state()
    with count_writes() as counter:
        report, _ = run_import(batch, dry_run=True, prune=True)
    assert counter.writes == []
    assert database_state() == before
    assert report["dry_run"] is True
    assert report["created"] == ["brand-new-term"]
    assert report["updated"] == ["token"]
    assert report["changes"] == {"token": ["status"]}
    assert report["deleted"] == ["temperature"]
    out = io.StringIO()
    call_command(
        "import_terms", str(batch), "--dry-run", stdout=out, stderr=io.StringIO()
    )
    text = out.getvalue()
    assert "update  token: status" in text
    assert "create  brand-new-term" in text
    assert "Dry run: nothing was written." in text


def test_prune_deletes_terms_not_in_paths_and_keeps_an_audit_event(term_dir, tmp_path):
    write_term(term_dir, base_term("keep", relationships={"related": ["gone"]}))
    write_term(term_dir, base_term("gone", aliases=["vanishing"], relationships={}))
    run_import(term_dir)
    assert Relationship.objects.get(target_name="gone").target.slug == "gone"
    (term_dir / "gone.yml").unlink()
    report, _ = run_import(term_dir)
    assert report["deleted"] == []
    assert Term.objects.filter(slug="gone").exists()
    report, _ = run_import(term_dir, prune=True)
    assert report["deleted"] == ["gone"]
    assert not Term.objects.filter(slug="gone").exists()
    assert Relationship.objects.get(target_name="gone").target is None
    event = TermEvent.objects.get(term_slug="gone", action="delete")
    assert event.term is None


def test_update_replaces_children_and_bumps_version(term_dir):
    write_term(term_dir, base_term("evolving", aliases=["a", "b"]))
    run_import(term_dir)
    term = Term.objects.get(slug="evolving")
    created_at, updated_at = term.created_at, term.updated_at
    write_term(
        term_dir, base_term("evolving", aliases=["b", "c", "a"], status="reviewed")
    )
    report, _ = run_import(term_dir)
    assert report["changes"] == {"evolving": ["aliases", "status"]}
    term.refresh_from_db()
    assert list(term.aliases.values_list("name", flat=True)) == ["b", "c", "a"]
    assert term.version == 2
    assert term.created_at == created_at
    assert term.updated_at > updated_at
    assert term.revisions.count() == 2


def test_import_records_the_given_user(term_dir, django_user_model):
    user = django_user_model.objects.create_user("editor1")
    write_term(term_dir, base_term("owned"))
    call_command(
        "import_terms",
        str(term_dir),
        "--user",
        "editor1",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    event = TermEvent.objects.get(term_slug="owned")
    assert (event.actor, event.actor_name) == (user, "editor1")
    assert TermRevision.objects.get(term__slug="owned").author == user
    with pytest.raises(CommandError, match="no user named 'ghost'"):
        call_command(
            "import_terms", str(term_dir), "--user", "ghost", stdout=io.StringIO()
        )


def test_data_files_define_roles_categories_and_site_texts(tmp_path):
    folder = tmp_path / "site"
    write_term(folder, base_term("role user", roles=["ops"], categories=["Ops Stuff"]))
    (folder / "roles.yml").write_text(
        yaml.safe_dump(
            {
                "roles": [
                    {
                        "slug": "ops",
                        "title": "Operators",
                        "summary": "Run things.",
                        "takeaway": "Watch it.",
                    }
                ]
            }
        )
    )
    (folder / "categories.yml").write_text(
        yaml.safe_dump(
            {
                "categories": [
                    {"name": "Ops Stuff", "apply_guidance": ["Make a dashboard."]}
                ]
            }
        )
    )
    (folder / "site.yml").write_text(
        yaml.safe_dump({"feedback_title": "Missing something?"})
    )
    report, _ = run_import(folder)
    assert report["errors"] == []
    assert report["data"]["roles"]["created"] == ["ops"]
    assert Role.objects.get(slug="ops").takeaway == "Watch it."
    assert Category.objects.get(slug="ops-stuff").apply_guidance == [
        "Make a dashboard."
    ]
    assert SiteText.objects.get(key="feedback_title").value == "Missing something?"
    assert list(
        Term.objects.get(slug="role-user").roles.values_list("slug", flat=True)
    ) == ["ops"]


def test_bad_data_file_blocks_the_whole_batch(tmp_path):
    folder = tmp_path / "site"
    write_term(folder, base_term("fine"))
    (folder / "roles.yml").write_text("roles:\n- slug: x\n  title: y\n")
    report, _ = run_import(folder)
    assert report["errors"]
    assert Term.objects.count() == 0


def test_fixtures_are_valid_and_varied():
    report, _ = run_import(FIXTURES)
    assert report["errors"] == []
    assert len(report["created"]) >= 20
    statuses = set(Term.objects.values_list("status", flat=True))
    assert statuses == {"draft", "reviewed", "approved", "deprecated"}
    resolved = Relationship.objects.exclude(target=None).count()
    dangling = Relationship.objects.filter(target=None).count()
    assert resolved > 10
    assert dangling >= 1


def test_text_report_and_exit_status(tmp_path):
    write_term(tmp_path / "bad", base_term("bad one", status="nope"))
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_terms", str(tmp_path / "bad"), stdout=out, stderr=err)
    assert "bad-one.yml:" in err.getvalue()
    assert "status: 'nope' is not one of" in err.getvalue()


def test_files_an_import_wrote_are_known_by_their_bytes_until_the_term_changes(
    corpus, tmp_path, people, count_writes
):
    from terms.models import ChangeSource, TermSource

    folder = tmp_path / "terms"
    shutil.copytree(corpus / "ai-glossary", folder)
    first, _ = run_import(folder)
    assert first["known_files"] == 0
    assert TermSource.objects.count() == 112
    # Unchanged bytes: not parsed again, nothing written, same report.
    with count_writes() as counter:
        again, _ = run_import(folder)
    assert again["known_files"] == 112
    assert len(again["unchanged"]) == 112
    assert counter.writes == []
    # A file edited on disk is read again and written; then it is known again.
    path = folder / "temperature.yml"
    data = read_yaml(path.read_text("utf-8"))
    data["short_def"] = "How far sampling strays from the likeliest token."
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    edited, _ = run_import(folder)
    assert edited["updated"] == ["temperature"]
    assert edited["known_files"] == 111
    assert run_import(folder)[0]["known_files"] == 112
    # A change written elsewhere (the admin, the API, a workflow step) gives the
    # term a new version, which retires the record: the file is read, and wins.
    from terms.documents.document import validate_term_data
    from terms.documents.mapping import document_from_term
    from terms.reads.selectors import known_roles
    from terms.workflow import services

    term = Term.objects.get(slug="log-probability")
    changed = document_from_term(term).to_data()
    changed["short_def"] = "Edited in the admin."
    document, problems = validate_term_data(changed, known_roles=known_roles())
    assert not problems
    services.terms_write(
        changes=[(document, term)], actor=people["superuser"], source=ChangeSource.ADMIN
    )
    back, _ = run_import(folder)
    assert back["known_files"] == 111
    assert back["updated"] == ["log-probability"]
    assert Term.objects.get(slug="log-probability").short_def != "Edited in the admin."
