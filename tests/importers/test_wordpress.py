"""WordPress WXR 1.0, 1.1 and 1.2 (http and https namespaces)."""

from __future__ import annotations

import pytest

from townhall.domain.services import Services
from townhall.types import CommentStatus

from .conftest import Importer, by_source, check_invariants, comment_rows, thread_rows, utc


def test_isso_wordpress_fixture(services: Services, run_import: Importer) -> None:
    report = run_import("wordpress/isso-tests-wordpress.xml")
    assert report.format == "wordpress"  # WXR 1.0 without <wp:wxr_version>
    assert report.records_read == 8
    assert report.threads_created == 2
    assert dict(report.imported) == {"published": 8}
    assert dict(report.skipped) == {}
    threads = thread_rows(services.db)
    assert {k: t["comment_count"] for k, t in threads.items()} == {"/2014/test/": 7, "/?p=4": 1}
    assert threads["/2014/test/"]["title"] == "Hello, World…"
    assert threads["/2014/test/"]["created_at"] == utc(2014, 1, 14, 17, 31, 3)

    # Comment id 11 is in both items: source ids are unique per thread, so both are kept.
    elevens = [
        r["thread_key"] for r in comment_rows(services.db) if r["source_id"] == "wordpress:11"
    ]
    assert sorted(elevens) == ["/2014/test/", "/?p=4"]
    rows = {r["source_id"]: r for r in comment_rows(services.db, "/2014/test/")}
    assert rows["wordpress:7"]["parent_id"] == rows["wordpress:6"]["id"]
    assert rows["wordpress:8"]["depth"] == 2 and rows["wordpress:9"]["depth"] == 2
    assert rows["wordpress:8"]["root_id"] == rows["wordpress:6"]["id"]
    # comment_date_gmt wins over the local comment_date (12:13:14 local, 02:13:14 GMT).
    assert rows["wordpress:10"]["created_at"] == utc(2022, 6, 6, 2, 13, 14)
    # Comment 7 has no comment_date at all.
    assert rows["wordpress:7"]["created_at"] == utc(2014, 4, 29, 15, 21, 35)
    # "test@example.org\n   " in the file.
    assert rows["wordpress:2"]["author_email"] == "test@example.org"
    assert rows["wordpress:2"]["author_website"] == "http://example.tld/"
    # ::ffff:82.119.20.0 is an IPv4 address in IPv6 clothing.
    assert rows["wordpress:2"]["ip_hash"] == services.hasher.ip("82.119.20.0")
    assert rows["wordpress:2"]["text"] == "Erster!1"
    assert rows["wordpress:10"]["html"] == (
        "<p>When you have a comment with multiple lines:<br>\nWordPress exports it like this.</p>"
    )
    check_invariants(services.db)


def test_theme_unit_test_data(services: Services, run_import: Importer) -> None:
    report = run_import("wordpress/wordpress-importer-theme-unit-test-data.xml")
    assert report.format == "wordpress"  # https://wordpress.org/export/1.2/
    assert report.records_read == 33
    assert report.threads_created == 7
    assert dict(report.imported) == {"published": 26, "pending": 3}
    assert dict(report.skipped) == {"pingback": 2, "trackback": 2}
    assert sorted(p.record for p in report.skip_details["trackback"]) == [
        "comment 921",
        "comment 922",
    ]
    threads = thread_rows(services.db)
    assert {k: t["comment_count"] for k, t in threads.items()} == {
        "/wp-6-1-theme-block-category/": 1,
        "/about/page-with-comments/": 3,
        "/blog/": 0,
        "/2012/01/03/template-comments/": 19,
        "/2012/01/01/template-pingbacks-an-trackbacks/": 1,
        "/2012/01/04/template-password-protected/": 1,
        "/2009/08/06/edge-case-no-content/": 1,
    }
    closed = {k for k, t in threads.items() if t["closed"]}
    assert closed == {
        "/2012/01/01/template-pingbacks-an-trackbacks/",
        "/2012/01/04/template-password-protected/",
        "/2009/08/06/edge-case-no-content/",
    }
    rows = by_source(services.db)
    chain = [904, 905, 906, 907, 910, 911, 912, 913, 914, 915]
    for depth, number in enumerate(chain):
        row = rows[f"wordpress:{number}"]
        assert row["depth"] == depth
        assert row["root_id"] == (None if depth == 0 else rows["wordpress:904"]["id"])
    # A pending reply to a published comment.
    assert rows["wordpress:1017"]["status"] == CommentStatus.PENDING
    assert rows["wordpress:1017"]["parent_id"] == rows["wordpress:168"]["id"]
    # Local/GMT offsets differ per comment; GMT is what counts.
    assert rows["wordpress:167"]["created_at"] == utc(2007, 9, 4, 0, 49, 28)
    assert rows["wordpress:169"]["created_at"] == utc(2007, 9, 4, 17, 48, 51)
    assert rows["wordpress:881"]["author_name"] == "John Γιάννης Doe Κάποιος"
    # Headings and images are not allowed in comments; the text stays, the tags go.
    html_881 = rows["wordpress:881"]["html"]
    assert "<h1>" not in html_881 and "Header one" in html_881
    assert "<strong>Headings</strong>" in html_881
    assert "<img" not in rows["wordpress:917"]["html"]
    assert "<img" in rows["wordpress:917"]["text"]  # the source is kept as it was
    check_invariants(services.db)


def test_thread_key_identifier_is_the_post_id(services: Services, run_import: Importer) -> None:
    run_import("wordpress/wordpress-importer-theme-unit-test-data.xml", thread_key="identifier")
    assert set(thread_rows(services.db)) == {"51", "155", "703", "1148", "1149", "1168", "1170"}


def test_remark42_wxr_pingback_parent(services: Services, run_import: Importer) -> None:
    report = run_import("wordpress/remark42-wxr-1.2-realmenweardress.xml")
    assert report.records_read == 4
    assert report.threads_created == 1
    assert dict(report.imported) == {"published": 2, "pending": 1}
    assert dict(report.skipped) == {"pingback": 1}
    [warning] = report.warnings
    assert warning.record == "comment 14" and "wordpress:13" in warning.message
    rows = by_source(services.db)
    assert rows["wordpress:14"]["parent_id"] is None  # its parent was the pingback
    assert rows["wordpress:9"]["status"] == CommentStatus.PENDING
    thread = thread_rows(services.db)["/2010/07/do-you-rp/"]
    assert thread["url"] == "https://realmenweardress.es/2010/07/do-you-rp/"
    assert thread["title"] == "Post with comments. One is not approved"
    assert thread["comment_count"] == 2
    check_invariants(services.db)


@pytest.mark.parametrize(
    ("name", "key", "text"),
    [
        ("wordpress-importer-valid-wxr-1.0.xml", "/?p=1", "Hi, this is a comment."),
        ("wordpress-importer-valid-wxr-1.1.xml", "/?p=1", "Hi, this is a comment."),
        ("wordpress-importer-small-export.xml", "/?p=1", "Hi, this is a comment."),
        ("wordpress-importer-slashes.xml", "/?p=1", "\\o/ ¯\\_(ツ)_/¯"),
        ("wordpress-importer-test-serialized-comment-meta.xml", "/comment-meta", "Hi, this is"),
        ("wordpress-importer-e2e-wxr-comprehensive.xml", "/site/?p=1000", "Great post!"),
    ],
)
def test_one_comment_files(
    services: Services, run_import: Importer, name: str, key: str, text: str
) -> None:
    report = run_import(f"wordpress/{name}", fmt="wordpress")
    assert report.records_read == 1
    assert report.threads_created == 1
    assert dict(report.imported) == {"published": 1}
    assert dict(report.skipped) == {}
    threads = thread_rows(services.db)
    assert list(threads) == [key]
    assert threads[key]["comment_count"] == 1
    [row] = by_source(services.db).values()
    assert row["text"].startswith(text)
    check_invariants(services.db)


def test_slashes_survive(services: Services, run_import: Importer) -> None:
    run_import("wordpress/wordpress-importer-slashes.xml")
    [row] = by_source(services.db).values()
    assert row["text"] == "\\o/ ¯\\_(ツ)_/¯"
    assert row["html"] == "<p>\\o/ ¯\\_(ツ)_/¯</p>"


def test_br_in_wordpress_html(services: Services, run_import: Importer) -> None:
    run_import("wordpress/wordpress-importer-small-export.xml")
    [row] = by_source(services.db).values()
    assert "<br>" in row["html"]
    assert "<br />" in row["text"]


def test_file_without_comments_is_not_an_error(services: Services, run_import: Importer) -> None:
    report = run_import("wordpress/wordpress-importer-wxr-utf-8-challenges.xml")
    assert report.ok
    assert report.format == "wordpress"
    assert report.records_read == 0
    assert report.threads_created == 0
    assert [w.message for w in report.warnings] == ["the file holds no comments"]
    assert thread_rows(services.db) == {}
