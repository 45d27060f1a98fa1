"""Files that are broken, hostile or odd: what can be read is imported, the rest is reported
precisely, and nothing ever raises."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_test_settings
from townhall.domain.services import Services
from townhall.domain.sites import create_site
from townhall.importers import ImportOptions, import_file

from .conftest import FIXTURES, Importer, by_source, check_invariants, fixture, thread_rows

DISQUS_HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" '
    'xmlns:dsq="http://disqus.com/disqus-internals">\n'
    '<thread dsq:id="1"><link>https://news.example/a/</link><title>A</title></thread>\n'
)


def _post(pid: str, body: str = "<p>Hi</p>", parent: str | None = None, **fields: str) -> str:
    parent_xml = f'<parent dsq:id="{parent}"/>' if parent else ""
    extra = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    return (
        f'<post dsq:id="{pid}"><message><![CDATA[{body}]]></message>'
        f"<createdAt>2020-01-01T00:00:{int(pid) % 60:02d}Z</createdAt>"
        f"<isDeleted>false</isDeleted><isSpam>false</isSpam>{extra}"
        f'<author><name>N{pid}</name></author><thread dsq:id="1"/>{parent_xml}</post>\n'
    )


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_entity_expansion_is_refused(run_import: Importer, tmp_path: Path) -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE disqus [\n<!ENTITY a "aaaaaaaaaa">\n'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">\n'
        ']>\n<disqus xmlns="http://disqus.com">&c;</disqus>\n'
    )
    report = run_import(_write(tmp_path, "bomb.xml", bomb), fmt="disqus")
    assert report.fatal is not None
    assert "never expands them" in report.fatal


def test_external_entities_are_refused(run_import: Importer, tmp_path: Path) -> None:
    xxe = (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        '<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item><title>&x;</title>'
        "</item></channel></rss>\n"
    )
    report = run_import(_write(tmp_path, "xxe.xml", xxe), fmt="wordpress")
    assert report.fatal is not None and "entities" in report.fatal


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        (b"", "auto", "the file is empty"),
        (b"   \n", "disqus", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "auto", "the format is not recognised"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "disqus", "not an XML file"),
        (b"<html><body>nope</body></html>", "auto", "root element <html>"),
        (b"<html><body>nope</body></html>", "disqus", "not a Disqus export"),
        (b"{not json", "commento", "not valid JSON"),
        (b'{"a": 1}', "commento", 'has no "comments" list'),
        (b"[1, 2", "generic", "not valid JSON"),
        (b"hello", "remark42", "line 1 is not JSON"),
        (b'{"type": "header"}\n', "townhall", "not a townhall export"),
        (b"not sqlite at all", "isso", "not an SQLite database"),
    ],
)
def test_unreadable_files(
    run_import: Importer, tmp_path: Path, content: bytes, fmt: str, message: str
) -> None:
    report = run_import(_write(tmp_path, "input", content), fmt=fmt)
    assert report.fatal is not None
    assert message in report.fatal


def test_wrong_format_names_the_root(run_import: Importer) -> None:
    report = run_import("wordpress/isso-tests-wordpress.xml", fmt="disqus")
    assert report.fatal == (
        "this is not a Disqus export: its root element is <rss>, not "
        "<disqus xmlns=\"http://disqus.com\"> (try format 'auto')"
    )


def test_sqlite_database_that_is_not_isso(run_import: Importer, tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE threads (id INTEGER)")
    conn.close()
    report = run_import(path, fmt="isso")
    assert report.fatal is not None and "not Isso's" in report.fatal


def test_truncated_file_keeps_complete_records(
    services: Services, run_import: Importer, tmp_path: Path
) -> None:
    text = fixture("disqus/schnack-disqus.xml").read_text()
    cut = text[: text.index("Hi Christopher!")]  # inside the third post
    report = run_import(_write(tmp_path, "cut.xml", cut), fmt="disqus")
    assert report.ok
    assert dict(report.imported) == {"published": 2}
    [problem] = report.skip_details["malformed"]
    assert problem.record == "post 1690922142" and problem.line == 80
    assert "the file ends inside this record" in problem.message


def test_broken_record_in_the_middle(
    services: Services, run_import: Importer, tmp_path: Path
) -> None:
    body = (
        DISQUS_HEAD
        + _post("10")
        + _post("11", parent="10").replace("<p>Hi</p>", "<p>Hi</p>]]> & <![CDATA[")
        + "<post dsq:id=12><message>unquoted</message></post>\n"
        + _post("13", parent="11")
        + _post("14", "<p>Control \x01 character</p>")
        + "</disqus>\n"
    )
    report = run_import(_write(tmp_path, "broken.xml", body), fmt="disqus")
    assert report.ok
    assert dict(report.imported) == {"published": 3}
    problems = [(p.line, p.record) for p in report.skip_details["malformed"]]
    assert problems == [
        (5, "post 11"),
        (6, "near '<post dsq:id=12><message>unquoted</message></post>'"),
    ]
    rows = by_source(services.db)
    # 13's parent 11 was lost: it hangs at the top, with a warning.
    assert rows["disqus:13"]["parent_id"] is None
    assert rows["disqus:14"]["text"] == "<p>Control   character</p>"  # \x01 read as a space
    warnings = [w.message for w in report.warnings]
    assert any("disqus:11" in w for w in warnings)
    assert "1 control character(s) that XML does not allow were read as spaces" in warnings
    check_invariants(services.db)


def test_deep_chain_and_a_loop(services: Services, run_import: Importer, tmp_path: Path) -> None:
    posts = [_post("100")]
    posts += [_post(str(100 + n), parent=str(99 + n)) for n in range(1, 600)]
    posts += [_post("900", parent="901"), _post("901", parent="900")]  # a corrupt loop
    report = run_import(_write(tmp_path, "deep.xml", DISQUS_HEAD + "".join(posts) + "</disqus>"))
    assert dict(report.imported) == {"published": 602}
    rows = by_source(services.db)
    assert rows["disqus:699"]["depth"] == 599
    assert rows["disqus:699"]["root_id"] == rows["disqus:100"]["id"]
    loop = sorted((rows["disqus:900"]["depth"], rows["disqus:901"]["depth"]))
    assert loop == [0, 1]
    assert any("loop back" in w.message for w in report.warnings)
    check_invariants(services.db)


def test_oversized_values_fit_their_columns(
    services: Services, run_import: Importer, tmp_path: Path
) -> None:
    long_url = "https://news.example/" + "a" * 3000
    body = (
        '<?xml version="1.0"?><disqus xmlns="http://disqus.com" '
        'xmlns:dsq="http://disqus.com/disqus-internals">'
        f'<thread dsq:id="1"><link>{long_url}</link><title>{"T" * 900}</title></thread>'
        f'<post dsq:id="{"9" * 300}"><message>x</message>'
        "<createdAt>2020-01-01T00:00:00Z</createdAt><isDeleted>false</isDeleted>"
        f"<isSpam>false</isSpam><author><name>{'N' * 500}</name>"
        f"<email>{'e' * 400}@mail.example</email></author>"
        '<thread dsq:id="1"/></post></disqus>'
    )
    report = run_import(_write(tmp_path, "big.xml", body))
    assert dict(report.imported) == {"published": 1}
    [thread] = thread_rows(services.db).values()
    assert len(thread["key"]) == 512 and thread["url"] == "" and len(thread["title"]) == 500
    [row] = by_source(services.db).values()
    assert len(row["author_name"]) == 200 and row["author_email"] is None
    assert row["source_id"].startswith("disqus:sha256:") and len(row["source_id"]) <= 200


def test_wordpress_zero_gmt_date(services: Services, run_import: Importer, tmp_path: Path) -> None:
    import zoneinfo

    wxr = (
        '<?xml version="1.0"?><rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item>'
        "<title>Old</title><link>https://blog.example/old/</link><wp:post_id>3</wp:post_id>"
        "<wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_author>A</wp:comment_author>"
        "<wp:comment_date>2008-07-01 12:00:00</wp:comment_date>"
        "<wp:comment_date_gmt>0000-00-00 00:00:00</wp:comment_date_gmt>"
        "<wp:comment_content>Old &amp; good</wp:comment_content>"
        "<wp:comment_approved>trash</wp:comment_approved></wp:comment>"
        "<wp:comment><wp:comment_id>2</wp:comment_id><wp:comment_author>B</wp:comment_author>"
        "<wp:comment_date_gmt>2008-07-01 13:00:00</wp:comment_date_gmt>"
        "<wp:comment_parent>1</wp:comment_parent>"
        "<wp:comment_content>Reply</wp:comment_content>"
        "<wp:comment_approved>1</wp:comment_approved></wp:comment>"
        "<wp:comment><wp:comment_id>3</wp:comment_id><wp:comment_type>order_note</wp:comment_type>"
        "<wp:comment_date_gmt>2008-07-01 13:00:00</wp:comment_date_gmt>"
        "<wp:comment_content>Private</wp:comment_content></wp:comment>"
        "</item></channel></rss>"
    )
    report = run_import(
        _write(tmp_path, "old.xml", wxr), timezone=zoneinfo.ZoneInfo("America/Chicago")
    )
    assert dict(report.imported) == {"deleted": 1, "published": 1}  # trash kept as tombstone
    assert dict(report.skipped) == {"unsupported": 1}
    rows = by_source(services.db)
    from .conftest import utc

    assert rows["wordpress:1"]["created_at"] == utc(2008, 7, 1, 17, 0, 0)  # CDT is UTC-5
    assert any("comment_date 2008-07-01 12:00:00" in w.message for w in report.warnings)


@pytest.fixture
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """One SQLite database for every example of a property test."""
    path = tmp_path_factory.mktemp("fuzz")
    svc = Services.from_settings(make_test_settings(path, f"sqlite:///{path / 'fuzz.db'}"))
    svc.db.migrate()
    create_site(svc.db, key="news", name="News", origins=["https://news.example"])
    yield svc
    svc.db.dispose()


FUZZ_FILES = [
    "disqus/schnack-disqus.xml",
    "disqus/isso-tests-disqus.xml",
    "wordpress/isso-tests-wordpress.xml",
    "commento/remark42-migrator-commento.json",
    "generic/isso-tests-generic.json",
    "remark42/remark42-synthetic-backup.jsonl",
]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(FUZZ_FILES),
    cut=st.integers(min_value=0, max_value=10_000),
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=10_000), st.binary(max_size=4)), max_size=4
    ),
    fmt=st.sampled_from(["auto", "declared"]),
)
def test_damaged_files_never_raise(
    scratch: Services, tmp_path: Path, name: str, cut: int, edits: list[tuple[int, bytes]], fmt: str
) -> None:
    data = bytearray((FIXTURES / name).read_bytes())
    for position, replacement in edits:
        at = position % (len(data) + 1)
        data[at : at + len(replacement)] = replacement
    data = data[: max(0, len(data) - cut)] if cut % 3 else data
    path = tmp_path / "damaged"
    path.write_bytes(bytes(data))
    declared = name.split("/")[0].replace("remark42", "remark42")
    report = import_file(
        scratch.db,
        scratch.hasher,
        path,
        format="auto" if fmt == "auto" else declared,
        site_key="news",
        options=ImportOptions(),
    )
    assert report.fatal is None or report.comments_imported == 0
    check_invariants(scratch.db)


def test_gzip_exports(services: Services, run_import: Importer, tmp_path: Path) -> None:
    import gzip

    data = (DISQUS_HEAD + "".join(_post(str(n)) for n in range(1, 301)) + "</disqus>\n").encode()
    whole = tmp_path / "export.xml.gz"
    whole.write_bytes(gzip.compress(data))
    report = run_import(whole)
    assert report.format == "disqus"
    assert dict(report.imported) == {"published": 300}
    # Cut short, as an interrupted download leaves it: what came before is read.
    cut = tmp_path / "cut.xml.gz"
    compressed = gzip.compress(data)
    cut.write_bytes(compressed[: len(compressed) * 2 // 3])
    report = run_import(cut, dry_run=True)
    assert report.ok
    assert 100 < report.records_read < 300
    assert report.skipped["duplicate"] == report.records_read - report.skipped["malformed"]
    assert any("gzip file is damaged or cut short" in w.message for w in report.warnings)


def test_broken_channel_element_does_not_lose_items(
    services: Services, run_import: Importer, tmp_path: Path
) -> None:
    comment = (
        "<wp:comment><wp:comment_id>{n}</wp:comment_id>"
        "<wp:comment_date_gmt>2020-01-01 00:00:00</wp:comment_date_gmt>"
        "<wp:comment_content>Hi {n}</wp:comment_content>"
        "<wp:comment_approved>1</wp:comment_approved></wp:comment>"
    )
    items = "".join(
        f"<item><title>T{n}</title><link>https://blog.example/{n}/</link>"
        f"<wp:post_id>{n}</wp:post_id>{comment.format(n=n)}</item>\n"
        for n in (1, 2)
    )
    wxr = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
        f"<title>Fish & chips</title>\n{items}</channel>\n</rss>\n"
    )
    report = run_import(_write(tmp_path, "wp.xml", wxr))
    assert dict(report.imported) == {"published": 2}
    [problem] = report.skip_details["malformed"]
    assert problem.line == 4 and problem.record == "near '<title>Fish & chips</title>'"
