"""Importing the same file twice adds nothing; a dry run writes nothing and says the same."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from townhall.domain.services import Services
from townhall.store.schema import comments, moderation_log, threads, votes

from .conftest import Importer, check_invariants

EVERY_FILE = [
    "disqus/isso-tests-disqus.xml",
    "disqus/schnack-disqus.xml",
    "disqus/disqus2duoshuo-real-export.xml",
    "disqus/remark42-disqus.xml",
    "wordpress/isso-tests-wordpress.xml",
    "wordpress/wordpress-importer-theme-unit-test-data.xml",
    "wordpress/remark42-wxr-1.2-realmenweardress.xml",
    "isso/isso-0.14.0-imported.db",
    "generic/isso-tests-generic.json",
    "commento/remark42-migrator-commento.json",
    "remark42/remark42-synthetic-backup.jsonl",
]


def _state(services: Services) -> dict[str, list[Any]]:
    with services.db.read() as conn:
        return {
            "threads": [tuple(r) for r in conn.execute(select(threads).order_by(threads.c.id))],
            "comments": [tuple(r) for r in conn.execute(select(comments).order_by(comments.c.id))],
            "votes": [tuple(r) for r in conn.execute(select(votes).order_by(votes.c.comment_id))],
        }


@pytest.mark.parametrize("name", EVERY_FILE)
def test_second_import_adds_nothing(services: Services, run_import: Importer, name: str) -> None:
    first = run_import(name)
    assert first.comments_imported > 0
    before = _state(services)
    second = run_import(name)
    assert second.ok
    assert second.comments_imported == 0
    assert second.threads_created == 0
    assert second.skipped["duplicate"] == first.comments_imported
    assert second.comments_skipped == first.comments_skipped + first.comments_imported
    assert _state(services) == before  # not even a version bump
    check_invariants(services.db)


def test_dry_run_writes_nothing_and_reports_the_same(
    services: Services, run_import: Importer
) -> None:
    name = "wordpress/wordpress-importer-theme-unit-test-data.xml"
    dry = run_import(name, dry_run=True)
    assert dry.dry_run
    assert _state(services) == {"threads": [], "comments": [], "votes": []}
    real = run_import(name)
    for field in ("records_read", "threads_created", "imported", "skipped"):
        assert getattr(dry, field) == getattr(real, field), field
    # A dry run after the import sees every comment as already there.
    again = run_import(name, dry_run=True)
    assert again.comments_imported == 0 and again.skipped["duplicate"] == 29


def test_import_is_logged_for_moderators(services: Services, run_import: Importer) -> None:
    run_import("disqus/schnack-disqus.xml")
    run_import("disqus/schnack-disqus.xml")  # imported nothing: no log line
    with services.db.read() as conn:
        rows = conn.execute(select(moderation_log)).mappings().all()
    [row] = rows
    assert (row["actor"], row["action"]) == ("system", "import")
    assert row["details"]["imported"] == {"published": 5}


def test_later_export_replies_to_earlier_import(
    services: Services, run_import: Importer, tmp_path: Any
) -> None:
    """An incremental export holds a reply whose parent came with the previous file."""
    xml = (
        '<?xml version="1.0"?><disqus xmlns="http://disqus.com" '
        'xmlns:dsq="http://disqus.com/disqus-internals">'
        '<thread dsq:id="3057176120"><id>foo</id><link>http://localhost:3000/foo/</link>'
        "<title>Welcome</title></thread>"
        '<post dsq:id="77"><message><![CDATA[<p>Late reply</p>]]></message>'
        "<createdAt>2015-01-01T00:00:00Z</createdAt><isDeleted>false</isDeleted>"
        "<isSpam>false</isSpam><author><name>Late</name></author>"
        '<thread dsq:id="3057176120"/><parent dsq:id="1690992879"/></post></disqus>'
    )
    later = tmp_path / "later.xml"
    later.write_text(xml)
    run_import("disqus/schnack-disqus.xml")
    report = run_import(later)
    assert dict(report.imported) == {"published": 1}
    assert report.threads_updated == 1
    assert report.warning_count == 1  # only the dev-host note
    with services.db.read() as conn:
        rows = {r["source_id"]: r for r in conn.execute(select(comments)).mappings()}
    assert rows["disqus:77"]["parent_id"] == rows["disqus:1690992879"]["id"]
    assert rows["disqus:77"]["depth"] == 4
    assert rows["disqus:77"]["root_id"] == rows["disqus:1664694813"]["id"]
    check_invariants(services.db)
