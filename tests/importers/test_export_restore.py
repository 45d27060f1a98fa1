"""townhall's own format: export a busy site, restore it into an empty database, export again;
both exports and every table row must be equal."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import ORIGIN, PgTemplates, make_test_settings
from townhall.domain import moderation as mod
from townhall.domain.comments import NewComment, submit_comment, vote
from townhall.domain.comments import flag as flag_comment
from townhall.domain.identity import Reader
from townhall.domain.services import Services
from townhall.domain.sites import Site
from townhall.importers import ImportOptions, import_file
from townhall.importers.export import ExportError, export_site
from townhall.importers.native import TABLES
from townhall.store.database import Database

from .conftest import check_invariants, fixture

MOD = "editor@news.example"


def _reader(n: int) -> Reader:
    return Reader(
        reader_id=hashlib.sha256(f"reader-{n}".encode()).hexdigest(),
        ip_hash=hashlib.sha256(f"ip-{n}".encode()).hexdigest(),
    )


def _post(services: Services, text: str, n: int, **more: Any) -> int:
    posted = submit_comment(
        services,
        NewComment(
            site="news",
            thread="/live/story",
            text=text,
            author_name=f"Reader {n}",
            author_email=f"reader{n}@mail.example",
            thread_title="A live story",
            thread_url=ORIGIN + "/live/story",
            **more,
        ),
        _reader(n),
    )
    return int(posted.comment.id)


def _busy_site(services: Services) -> None:
    """Imported comments of several formats plus everything readers and moderators make."""
    for name in (
        "disqus/isso-tests-disqus.xml",
        "wordpress/wordpress-importer-theme-unit-test-data.xml",
        "remark42/remark42-synthetic-backup.jsonl",
        "commento/remark42-migrator-commento.json",
    ):
        report = import_file(
            services.db,
            services.hasher,
            fixture(name),
            format="auto",
            site_key="news",
            options=ImportOptions(keep_hidden=True),
        )
        assert report.ok and report.comments_imported
    first = _post(services, "A first comment on the live story.", 1)
    reply = _post(services, "A reply to it, with **Markdown**.", 2, parent_id=str(first))
    third = _post(services, "Something to take down.", 3)
    _post(services, "Another reply.", 4, parent_id=str(reply))
    vote(services, first, 1, _reader(2))
    vote(services, first, -1, _reader(3))
    flag_comment(services, reply, "off_topic", "not about the story", _reader(3))
    mod.mark_spam(services, MOD, third, "advertising")
    mod.remove(services, MOD, reply, "personal attack")
    mod.ban(services, MOD, kind="reader", comment_id=third, reason="spam run")
    mod.ban(services, MOD, kind="email", value="troll@mail.example", all_sites=True, reason="x")
    mod.add_reader_note(services, MOD, first, "Argues in good faith.")


def _rows(db: Database) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    with db.read() as conn:
        for kind, table in TABLES.items():
            order = list(table.primary_key.columns)
            # Derived columns (a comment's flood signature) are not exported: recomputed data.
            kept = [c for c in table.columns if not c.info.get("derived")]
            rows = conn.execute(select(*kept).order_by(*order)).mappings()
            out[kind] = [dict(r) for r in rows]
    return out


def _without_time(export: Path) -> list[str]:
    lines = export.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    del header["exported_at"]
    return [json.dumps(header), *lines[1:]]


@pytest.fixture
def second_db(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Database]:
    """An empty, migrated database of the same kind as the test's."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'restored.db'}"
    else:
        templates: PgTemplates = request.getfixturevalue("pg")
        url = templates.new_database()
    db = Database(url)
    db.migrate()
    yield db
    db.dispose()


def test_export_restore_export_is_exact(
    services: Services, site: Site, second_db: Database, tmp_path: Path
) -> None:
    _busy_site(services)
    first = tmp_path / "first.jsonl"
    result = export_site(services.db, "news", str(first))
    assert result.counts["comment"] > 40
    assert all(result.counts[k] > 0 for k in TABLES), result.counts
    assert first.stat().st_mode & 0o077 == 0  # emails and hashes inside: owner only

    report = import_file(second_db, services.hasher, first, format="auto", site_key=None)
    assert report.ok, report.fatal
    assert report.format == "townhall"
    assert dict(report.skipped) == {}
    assert report.warning_count == 0
    assert report.extra["restored"] == result.counts

    second = tmp_path / "second.jsonl"
    export_site(second_db, "news", str(second))
    assert _without_time(first) == _without_time(second)
    before, after = _rows(services.db), _rows(second_db)
    for kind in TABLES:
        for old, new in zip(before[kind], after[kind], strict=True):
            assert old == new, (kind, {k: (v, new[k]) for k, v in old.items() if new[k] != v})
    check_invariants(second_db)


def test_restore_keeps_the_database_usable(
    services: Services, site: Site, second_db: Database, tmp_path: Path
) -> None:
    """After a restore with explicit ids, new rows get fresh ids (PostgreSQL sequences)."""
    _post(services, "Before the move.", 1)
    export = tmp_path / "site.jsonl"
    export_site(services.db, "news", str(export))
    import_file(second_db, services.hasher, export, format="townhall", site_key=None)
    moved = Services(
        settings=make_test_settings(tmp_path, second_db.url), db=second_db, hasher=services.hasher
    )
    new_id = _post(moved, "After the move.", 2)
    assert new_id > 1


def test_restore_under_another_site_key(
    services: Services, site: Site, second_db: Database, tmp_path: Path
) -> None:
    _post(services, "To be copied.", 1)
    export = tmp_path / "site.jsonl"
    export_site(services.db, "news", str(export))
    report = import_file(second_db, services.hasher, export, format="townhall", site_key="copy")
    assert report.ok and report.site == "copy"
    with second_db.read() as conn:
        assert [r.key for r in conn.execute(select(TABLES["site"]))] == ["copy"]


def test_restore_refuses_a_database_with_rows(
    services: Services, site: Site, tmp_path: Path
) -> None:
    export = tmp_path / "site.jsonl"
    export_site(services.db, "news", str(export))
    report = import_file(services.db, services.hasher, export, format="townhall", site_key=None)
    assert report.fatal is not None
    assert "empty database" in report.fatal and "1 site row(s)" in report.fatal


def test_restore_reports_bad_rows_and_what_depends_on_them(
    services: Services, site: Site, second_db: Database, tmp_path: Path
) -> None:
    _post(services, "A parent.", 1)
    export = tmp_path / "site.jsonl"
    export_site(services.db, "news", str(export))
    lines = export.read_text().splitlines()
    comment_line = next(i for i, line in enumerate(lines) if '"type":"comment"' in line)
    broken = json.loads(lines[comment_line])
    broken["status"] = "exploded"
    lines[comment_line] = json.dumps(broken)
    lines.insert(
        comment_line + 1,
        '{"type": "vote", "comment_id": 999, "voter": "x", "value": 1,'
        ' "created_at": "2020-01-01T00:00:00Z"}',
    )
    lines = lines[:-1]  # drop the end line: as if the copy was cut short
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("\n".join(lines) + "\n")
    report = import_file(second_db, services.hasher, damaged, format="townhall", site_key=None)
    assert report.ok
    problems = [(p.line, p.record, p.message) for p in report.skip_details["malformed"]]
    assert problems == [
        (
            comment_line + 1,
            f"comment {broken['id']}",
            "status: 'exploded' is not one of its values",
        ),
        (comment_line + 2, "vote", "comment_id 999 names a comment the file does not hold"),
    ]
    assert [w.message for w in report.warnings] == [
        "the file has no end line: the export may be cut short"
    ]


def test_compressed_export(
    services: Services, site: Site, second_db: Database, tmp_path: Path
) -> None:
    import gzip

    _post(services, "Packed.", 1)
    export = tmp_path / "site.jsonl.gz"
    result = export_site(services.db, "news", str(export))
    lines = gzip.decompress(export.read_bytes()).decode().splitlines()
    assert json.loads(lines[-1])["counts"] == result.counts
    report = import_file(second_db, services.hasher, export, format="auto", site_key=None)
    assert report.format == "townhall" and report.extra["restored"] == result.counts


def test_export_of_unknown_site(services: Services, site: Site, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown site 'nope'"):
        export_site(services.db, "nope", str(tmp_path / "x.jsonl"))
    assert not (tmp_path / "x.jsonl").exists()
