"""Disqus exports: the counts below were worked out by reading each file (see QUIRKS.md)."""

from __future__ import annotations

from townhall.domain.services import Services
from townhall.types import CommentStatus

from .conftest import Importer, by_source, check_invariants, comment_rows, thread_rows, utc


def test_isso_disqus_fixture(services: Services, run_import: Importer) -> None:
    report = run_import("disqus/isso-tests-disqus.xml", fmt="disqus")
    assert report.ok
    assert report.records_read == 6  # posts 4, 5, 6, 8, 9, 11
    assert report.threads_created == 2
    assert dict(report.imported) == {"published": 4, "deleted": 1}
    assert dict(report.skipped) == {"orphan": 1}
    [orphan] = report.skip_details["orphan"]
    assert (orphan.line, orphan.record) == (66, "post 6")
    assert "1337" in orphan.message

    threads = thread_rows(services.db)
    assert set(threads) == {"/", "/blog/2013/02/12/redacted/index.html"}
    assert threads["/"]["title"] == "Hello, World!"
    assert threads["/"]["url"] == "http://example.org/"
    assert threads["/"]["comment_count"] == 3
    assert threads["/"]["created_at"] == utc(2012, 12, 12, 12, 12, 12)
    # An empty <title /> (Isso issue #728): the key stands in for it.
    redacted = threads["/blog/2013/02/12/redacted/index.html"]
    assert redacted["title"] == "/blog/2013/02/12/redacted/index.html"
    assert redacted["comment_count"] == 1

    rows = by_source(services.db)
    assert set(rows) == {"disqus:4", "disqus:5", "disqus:8", "disqus:9", "disqus:11"}
    assert rows["disqus:5"]["parent_id"] == rows["disqus:4"]["id"]
    assert rows["disqus:5"]["depth"] == 1
    assert rows["disqus:5"]["created_at"] == utc(2013, 10, 11, 6, 51, 33)
    assert rows["disqus:5"]["html"] == "<p>Hello, World.</p>"
    # Post 9 is deleted but post 11 answers it: a tombstone keeps 11 in place.
    assert rows["disqus:9"]["status"] == CommentStatus.DELETED
    assert rows["disqus:9"]["html"] == ""
    assert rows["disqus:11"]["parent_id"] == rows["disqus:9"]["id"]
    assert rows["disqus:4"]["author_email"] == "foo@bar.com"
    assert rows["disqus:4"]["email_hash"] == services.hasher.email("foo@bar.com")
    assert rows["disqus:4"]["ip_hash"] == services.hasher.ip("127.0.0.1")
    # The dev host the thread was seen on is reported, with the fix.
    assert any("localhost:4000" in w.message and "--remap" in w.message for w in report.warnings)
    check_invariants(services.db)


def test_schnack_fixture_keeps_nesting_isso_would_flatten(
    services: Services, run_import: Importer
) -> None:
    report = run_import("disqus/schnack-disqus.xml")
    assert report.format == "disqus"
    assert report.records_read == 5
    assert report.threads_created == 2
    assert dict(report.imported) == {"published": 5}
    assert dict(report.skipped) == {}
    threads = thread_rows(services.db)
    assert {k: t["comment_count"] for k, t in threads.items()} == {"/foo/": 4, "/bar/": 1}
    assert threads["/foo/"]["title"] == "Welcome"

    rows = by_source(services.db)
    chain = ["disqus:1664694813", "disqus:1664831530", "disqus:1690922142", "disqus:1690992879"]
    root = rows[chain[0]]["id"]
    for depth, sid in enumerate(chain):
        assert rows[sid]["depth"] == depth
        assert rows[sid]["root_id"] == (None if depth == 0 else root)
    assert rows["disqus:1690992879"]["parent_id"] == rows["disqus:1690922142"]["id"]
    first = rows["disqus:1664694813"]
    # CDATA inside whitespace: the text is the CDATA, stripped; links get townhall's rel.
    assert first["text"].startswith("<p>Hey, wow!</p>")
    assert first["html"] == (
        '<p>Hey, wow!</p><p>// Amazing post.</p><p>Check <a href="http://example.example" '
        'title="example" rel="nofollow ugc noopener">example</a>.</p>'
    )
    assert first["created_at"] == utc(2014, 11, 1, 15, 6, 24)
    check_invariants(services.db)


def test_real_export_orphans_deleted_and_merged_dev_hosts(
    services: Services, run_import: Importer
) -> None:
    report = run_import("disqus/disqus2duoshuo-real-export.xml")
    assert report.records_read == 23
    assert report.threads_created == 2
    assert dict(report.imported) == {"published": 6}
    assert dict(report.skipped) == {"orphan": 6, "deleted": 11}
    threads = thread_rows(services.db)
    assert set(threads) == {"/post/mac-soft-and-config/", "/post/homebrew-on-mac-osx-mavericks/"}
    mac = threads["/post/mac-soft-and-config/"]
    # Its own thread has an empty title; the localhost:4000 thread of the same path has one.
    assert mac["title"] == "我使用的Mac OS X软件及其配置 | { Do Something }"
    assert mac["url"] == "http://guoyukun.cn/post/mac-soft-and-config/"
    assert mac["comment_count"] == 2
    brew = threads["/post/homebrew-on-mac-osx-mavericks/"]
    # The public www. URL wins over the localhost:4000 copy listed first in the file.
    assert brew["url"] == "http://www.guoyukun.cn/post/homebrew-on-mac-osx-mavericks/"
    assert brew["comment_count"] == 4
    rows = by_source(services.db)
    assert rows["disqus:1062327494"]["parent_id"] == rows["disqus:1045298318"]["id"]
    assert rows["disqus:1120695576"]["parent_id"] == rows["disqus:959466055"]["id"]
    assert rows["disqus:959466055"]["html"] == "<p>macvim在10.9下可以使用吗</p>"
    assert not any("development URL" in w.message for w in report.warnings)
    check_invariants(services.db)


def test_thread_key_identifier(services: Services, run_import: Importer) -> None:
    report = run_import("disqus/disqus2duoshuo-real-export.xml", thread_key="identifier")
    assert dict(report.imported) == {"published": 6}
    # Disqus <id> as given, even when it is a URL; empty ids fall back to the URL path.
    assert set(thread_rows(services.db)) == {
        "homebrew-on-mac-osx-mavericks",
        "http://guoyukun.cn/post/mac-soft-and-config/",
    }


def test_remap_rewrites_hosts_and_prefixes(services: Services, run_import: Importer) -> None:
    from townhall.importers.urls import Remap

    report = run_import(
        "disqus/disqus2duoshuo-real-export.xml",
        remaps=(
            Remap.parse("guoyukun.cn=https://guoyukun.example"),
            Remap.parse("http://www.guoyukun.cn/post/=https://guoyukun.example/articles/"),
            Remap.parse("nowhere.example=elsewhere.example"),
        ),
    )
    threads = thread_rows(services.db)
    # The prefix rule changes the path, hence the key.
    assert set(threads) == {
        "/post/mac-soft-and-config/",
        "/articles/homebrew-on-mac-osx-mavericks/",
    }
    assert threads["/post/mac-soft-and-config/"]["url"] == (
        "https://guoyukun.example/post/mac-soft-and-config/"
    )
    assert threads["/articles/homebrew-on-mac-osx-mavericks/"]["url"] == (
        "https://guoyukun.example/articles/homebrew-on-mac-osx-mavericks/"
    )
    # 12 threads on guoyukun.cn; 11 of the 13 on www.guoyukun.cn are under /post/.
    assert report.extra["remapped"] == {
        "guoyukun.cn=https://guoyukun.example": 12,
        "http://www.guoyukun.cn/post/=https://guoyukun.example/articles/": 11,
        "nowhere.example=elsewhere.example": 0,
    }
    assert any("nowhere.example" in w.message for w in report.warnings)


def test_remap_dev_host_removes_the_warning(services: Services, run_import: Importer) -> None:
    from townhall.importers.urls import Remap

    report = run_import(
        "disqus/isso-tests-disqus.xml", remaps=(Remap.parse("localhost:4000=https://blog.example"),)
    )
    url = thread_rows(services.db)["/blog/2013/02/12/redacted/index.html"]["url"]
    assert url == "https://blog.example/blog/2013/02/12/redacted/index.html"
    assert not any("development URL" in w.message for w in report.warnings)


def test_malformed_remark42_file_imports_the_good_records(
    services: Services, run_import: Importer
) -> None:
    report = run_import("disqus/remark42-disqus.xml")
    assert report.ok
    assert report.format == "disqus"  # detected despite the stray backtick
    assert report.records_read == 6
    assert report.threads_created == 2
    assert dict(report.imported) == {"published": 4}
    assert dict(report.skipped) == {"spam": 1, "malformed": 1}
    [bad] = report.skip_details["malformed"]
    assert (bad.line, bad.record) == (135, "post x299986073")
    assert "line 147" in bad.message and "not well-formed" in bad.message
    [spam] = report.skip_details["spam"]
    assert (spam.line, spam.record) == (119, "post 299986073")
    messages = [(w.line, w.message) for w in report.warnings]
    assert messages[0] == (1, "1 stray character(s) before the XML start ('`') were ignored")
    assert messages[1][0] == 102 and "no dsq:id" in messages[1][1]
    threads = thread_rows(services.db)
    assert threads["/p/2011/03/05/podcast-229/"]["closed"] is True
    assert threads["/p/2011/03/05/podcast-229/"]["title"] == "Радио-Т: Радио-Т 229"
    assert threads["/2011/03/229_8880.html"]["comment_count"] == 2
    no_id = [r for r in comment_rows(services.db) if r["source_id"].startswith("disqus:sha256:")]
    assert [r["text"] for r in no_id] == ["This comment had no ID"]
    check_invariants(services.db)


def test_deleted_post_and_deleted_thread_variants(services: Services, run_import: Importer) -> None:
    report = run_import("disqus/remark42-disqus-deleted-post.xml")
    assert dict(report.imported) == {"published": 3}
    assert dict(report.skipped) == {"deleted": 1, "spam": 1, "malformed": 1}
    assert report.skip_details["deleted"][0].record == "post 299619020"


def test_deleted_thread_drops_its_posts(services: Services, run_import: Importer) -> None:
    report = run_import("disqus/remark42-disqus-deleted-thread.xml")
    assert report.threads_created == 1
    assert dict(report.imported) == {"published": 2}
    assert dict(report.skipped) == {"deleted": 3, "malformed": 1}
    assert all("247937687" in p.message for p in report.skip_details["deleted"])
    assert set(thread_rows(services.db)) == {"/2011/03/229_8880.html"}


def test_keep_hidden_imports_spam_and_deleted(services: Services, run_import: Importer) -> None:
    report = run_import("disqus/disqus2duoshuo-real-export.xml", keep_hidden=True)
    assert dict(report.imported) == {"published": 6, "deleted": 11}
    assert dict(report.skipped) == {"orphan": 6}
    # The deleted ones do not count as visible comments.
    counts = {k: t["comment_count"] for k, t in thread_rows(services.db).items()}
    assert counts["/post/mac-soft-and-config/"] == 2
    check_invariants(services.db)
