"""Isso's database and generic JSON, Commento's JSON and remark42's backups."""

from __future__ import annotations

import os
import time
import zoneinfo
from collections.abc import Iterator

import pytest

from townhall.domain.services import Services
from townhall.types import CommentStatus

from .conftest import Importer, by_source, check_invariants, comment_rows, thread_rows, utc


@pytest.fixture
def new_york_clock() -> Iterator[None]:
    """Run with the machine in New York: Isso's own importer would shift every date by it."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_isso_database(services: Services, run_import: Importer, new_york_clock: None) -> None:
    report = run_import("isso/isso-0.14.0-imported.db")
    assert report.format == "isso"
    assert report.records_read == 15
    assert report.threads_created == 6
    assert dict(report.imported) == {"published": 15}
    assert dict(report.skipped) == {}
    threads = thread_rows(services.db)
    assert {k: (t["title"], t["comment_count"]) for k, t in threads.items()} == {
        "/2014/test/": ("Hello, World…", 7),
        "/?p=4": ("...", 1),
        "/foo/": ("Welcome", 4),
        "/bar/": ("Bar!", 1),
        "/posts/0001/": ("Test post", 1),  # "Test+post" in Isso's table
        "/posts/0007/": ("Nat & Miguel", 1),  # "Nat+%26+Miguel"
    }
    assert threads["/foo/"]["url"] == ""  # Isso keeps paths only; see --base-url
    rows = by_source(services.db)
    # Float UNIX seconds, UTC, whatever the machine's zone.
    assert rows["isso:1"]["created_at"] == utc(2014, 1, 14, 17, 32, 12)
    assert rows["isso:9"]["created_at"] == utc(2014, 11, 1, 15, 6, 24)
    # Isso flattened schnack's chain 9 <- 10 <- 11 <- 12 to one level; that is what it has.
    for child in ("isso:10", "isso:11", "isso:12"):
        assert rows[child]["parent_id"] == rows["isso:9"]["id"]
        assert rows[child]["depth"] == 1
    # Rows Isso imported from Disqus hold HTML (with whitespace); it renders as HTML.
    assert rows["isso:9"]["text"].startswith("<p>Hey, wow!</p>")
    assert rows["isso:9"]["html"].startswith("<p>Hey, wow!</p><p>// Amazing post.</p>")
    assert rows["isso:1"]["ip_hash"] == services.hasher.ip("82.119.20.0")
    assert rows["isso:14"]["ip_hash"] is None  # 0.0.0.0: unknown
    check_invariants(services.db)


def test_isso_base_url(services: Services, run_import: Importer) -> None:
    run_import("isso/isso-0.14.0-imported.db", base_url="https://example.tld/")
    assert thread_rows(services.db)["/2014/test/"]["url"] == "https://example.tld/2014/test/"


def test_generic_json(services: Services, run_import: Importer) -> None:
    report = run_import("generic/isso-tests-generic.json")
    assert report.format == "generic"
    assert report.records_read == 2
    assert report.threads_created == 2
    assert dict(report.imported) == {"published": 2}
    threads = thread_rows(services.db)
    assert {k: t["title"] for k, t in threads.items()} == {
        "/posts/0001/": "Test post",
        "/posts/0007/": "Nat & Miguel",
    }
    # Both comments have id 0: unique per thread is enough.
    rows = comment_rows(services.db)
    assert [r["source_id"] for r in rows] == ["generic:0", "generic:0"]
    first, second = rows
    assert first["created_at"] == utc(2005, 2, 24, 4, 3, 37)  # no zone in the file: UTC
    assert first["author_email"] is None and first["email_hash"] is None  # "" in the file
    assert first["author_website"] == "http://www.tigerspice.com"
    assert first["ip_hash"] is None  # 0.0.0.0
    assert second["author_email"] == "105421439@87750645.com"
    assert second["text"] == "Ja-make-a me crazzy mon :)"
    check_invariants(services.db)


def test_generic_json_in_a_named_zone(services: Services, run_import: Importer) -> None:
    run_import("generic/isso-tests-generic.json", timezone=zoneinfo.ZoneInfo("Europe/Berlin"))
    first = comment_rows(services.db, "/posts/0001/")[0]
    assert first["created_at"] == utc(2005, 2, 24, 3, 3, 37)


def test_commento_export(services: Services, run_import: Importer) -> None:
    report = run_import("commento/remark42-migrator-commento.json")
    assert report.format == "commento"
    assert report.records_read == 3
    assert report.threads_created == 2
    assert dict(report.imported) == {"published": 3}
    threads = thread_rows(services.db)
    assert {k: t["comment_count"] for k, t in threads.items()} == {
        "/blog/post/2": 1,
        "/blog/post/1": 2,
    }
    assert threads["/blog/post/1"]["url"] == "https://example.com/blog/post/1"
    rows = {r["text"]: r for r in comment_rows(services.db)}
    anon = rows["Example comment created by user."]
    assert anon["author_name"] == "Anonymous" and anon["author_email"] is None
    assert (anon["likes"], anon["dislikes"]) == (1, 0)  # score 1
    assert anon["html"] == "<p>Example comment created by user.</p>"
    reply = rows["Great reply!"]
    assert reply["author_name"] == "Saturnin Uf"
    assert reply["author_email"] == "moregreatmail@gmail.com"
    assert reply["author_website"] == "https://example.com/profile/259"
    assert reply["parent_id"] == rows["Example 2 comment created by user."]["id"]
    # With and without fractional seconds.
    assert anon["created_at"] == utc(2021, 3, 12, 11, 21, 56)
    assert reply["created_at"].microsecond == 852651
    check_invariants(services.db)


def test_commento_export_of_empty_comments(services: Services, run_import: Importer) -> None:
    report = run_import("commento/remark42-rest-api-commento.json")
    assert report.ok  # the file was read; there was just nothing to import
    assert report.records_read == 7
    assert report.threads_created == 0
    assert dict(report.imported) == {}
    assert dict(report.skipped) == {"malformed": 7}
    assert {p.message for p in report.skip_details["malformed"]} == {"the comment has no text"}
    assert report.skip_details["malformed"][0].line == 4


def test_remark42_native_test_input(services: Services, run_import: Importer) -> None:
    report = run_import("remark42/remark42-native-test-import.jsonl")
    assert report.format == "remark42"
    assert report.records_read == 2
    assert report.threads_created == 2
    assert dict(report.imported) == {"published": 2}
    threads = thread_rows(services.db)
    assert threads["/"]["closed"] is True  # "read_only": true in the header
    assert threads["/2"]["closed"] is False
    rows = by_source(services.db)
    first = rows["remark42:efbc17f177ee1a1c0ee6e1e025749966ec071adc"]
    assert first["created_at"] == utc(2017, 12, 20, 21, 18, 22)  # 15:18:22-06:00
    assert first["html"] == (
        'some text, <a href="http://radio-t.com" rel="nofollow ugc noopener">link</a>'
    )
    assert first["ip_hash"] is None  # remark42's own HMAC: not comparable with ours
    orphan = rows["remark42:f863bd79-fec6-4a75-b308-61fe5dd02aa1"]
    assert orphan["parent_id"] is None  # pid 1234 is not in the file
    messages = sorted(w.message for w in report.warnings)
    assert messages[0].startswith("1 blocked remark42 user(s) were not turned into bans")
    assert "remark42:1234" in messages[1]


def test_remark42_backup(services: Services, run_import: Importer) -> None:
    report = run_import("remark42/remark42-synthetic-backup.jsonl", fmt="remark42")
    assert report.records_read == 10
    assert report.threads_created == 2
    assert dict(report.imported) == {"published": 5, "deleted": 1}
    assert dict(report.skipped) == {"deleted": 1, "malformed": 3}
    assert [(p.line, p.record) for p in report.skip_details["deleted"]] == [(6, "comment c5")]
    assert [(p.line, p.record) for p in report.skip_details["malformed"]] == [
        (8, ""),
        (9, "comment c8"),
        (10, "comment c9"),
    ]
    assert report.warning_count == 0
    threads = thread_rows(services.db)
    assert {k: (t["title"], t["comment_count"], t["closed"]) for k, t in threads.items()} == {
        "/2019/05/post/": ("A post about things", 4, False),
        "/about/?x=1": ("About", 1, True),
    }
    rows = by_source(services.db)
    c1, c2, c3, c4 = (rows[f"remark42:c{n}"] for n in (1, 2, 3, 4))
    assert c1["text"] == "First **bold** word"  # the Markdown source
    assert c1["html"] == "<p>First <strong>bold</strong> word</p>"  # remark42's rendering
    assert (c1["likes"], c1["dislikes"]) == (2, 1)
    assert c1["created_at"] == utc(2019, 5, 1, 8, 0, 0)
    assert c2["edited_at"] == utc(2019, 5, 1, 11, 35, 10, 500000)
    assert c3["status"] == CommentStatus.DELETED and c3["depth"] == 2
    assert c4["parent_id"] == c3["id"] and c4["depth"] == 3 and c4["root_id"] == c1["id"]
    c6 = rows["remark42:c6"]
    assert (c6["likes"], c6["dislikes"]) == (0, 2)
    assert c6["created_at"] == utc(2019, 6, 1, 7, 0, 0)
    assert rows["remark42:c10"]["html"] == "<p>hi </p>"
    check_invariants(services.db)
