"""`townhall import` and `townhall export` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from townhall.cli import main
from townhall.domain.services import Services
from townhall.domain.sites import Site
from townhall.settings import Settings

from .conftest import fixture, thread_rows


def _run(settings: Settings, *args: str) -> Result:
    runner = CliRunner()
    return runner.invoke(
        main,
        [
            *args,
            "--database-url",
            settings.resolved_database_url,
            "--data-dir",
            str(settings.data_dir),
        ],
        env={"TOWNHALL_SECRET_KEY": str(settings.secret_key)},
        catch_exceptions=False,
    )


def test_import_prints_the_report(
    settings: Settings, services: Services, site: Site, tmp_path: Path
) -> None:
    report_file = tmp_path / "report.json"
    result = _run(
        settings,
        "import",
        "auto",
        str(fixture("disqus/remark42-disqus.xml")),
        "--site",
        "news",
        "--remap",
        "radio-t.umputun.com=https://radio-t.com",
        "--report",
        str(report_file),
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "comments: 4 imported (4 published), 2 skipped, of 6 in the file" in out
    assert "skipped as malformed: 1" in out
    assert "line 135, post x299986073: not well-formed XML at line 147, column 23" in out
    assert "line 1: 1 stray character(s) before the XML start ('`') were ignored" in out
    data = json.loads(report_file.read_text())
    assert data["comments_imported"] == {"published": 4}
    assert data["skipped"]["spam"] == [
        {
            "line": 119,
            "record": "post 299986073",
            "message": "spam, and no imported reply depends on it",
        }
    ]
    # The email is private: nothing of it in what the command prints.
    assert "mihail.noname" not in out
    assert thread_rows(services.db)["/2011/03/229_8880.html"]["url"] == (
        "https://radio-t.com/2011/03/229_8880.html"
    )


def test_dry_run(settings: Settings, services: Services, site: Site) -> None:
    result = _run(
        settings,
        "import",
        "wordpress",
        str(fixture("wordpress/isso-tests-wordpress.xml")),
        "--site",
        "news",
        "--dry-run",
    )
    assert result.exit_code == 0
    assert "(dry run: nothing was written)" in result.stdout
    assert "comments: 8 would import (8 published)" in result.stdout
    assert thread_rows(services.db) == {}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["import", "disqus", "{bad}", "--site", "news"], 1, "error: this is not a Disqus export"),
        (["import", "auto", "{good}", "--site", "nope"], 1, "error: unknown site 'nope'"),
        (["import", "disqus", "{good}"], 2, "--site is required"),
        (["import", "disqus", "{good}", "--site", "news", "--remap", "x"], 2, "write OLD=NEW"),
        (
            ["import", "disqus", "{good}", "--site", "news", "--timezone", "Mars/Base"],
            2,
            "not a time zone name",
        ),
        (["import", "disqus", "/no/such/file.xml", "--site", "news"], 2, "does not exist"),
        (["import", "excel", "{good}", "--site", "news"], 2, "'excel' is not one of"),
        (["export", "--site", "nope", "{out}"], 1, "unknown site 'nope'"),
    ],
)
def test_errors_are_messages_not_tracebacks(
    settings: Settings,
    services: Services,
    site: Site,
    tmp_path: Path,
    args: list[str],
    code: int,
    message: str,
) -> None:
    paths = {
        "{bad}": str(fixture("wordpress/isso-tests-wordpress.xml")),
        "{good}": str(fixture("disqus/schnack-disqus.xml")),
        "{out}": str(tmp_path / "out.jsonl"),
    }
    result = _run(settings, *[paths.get(a, a) for a in args])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_export_then_restore_with_the_commands(
    settings: Settings, services: Services, site: Site, tmp_path: Path
) -> None:
    _run(settings, "import", "auto", str(fixture("disqus/schnack-disqus.xml")), "--site", "news")
    export = tmp_path / "news.jsonl"
    result = _run(settings, "export", "--site", "news", str(export))
    assert result.exit_code == 0
    assert "exported site 'news'" in result.stderr and "5 comment(s)" in result.stderr
    lines = export.read_text().splitlines()
    assert json.loads(lines[0])["format"] == "townhall-export"
    assert json.loads(lines[-1]) == {
        "type": "end",
        "counts": {
            "site": 1,
            "thread": 2,
            "comment": 5,
            "vote": 0,
            "flag": 0,
            "ban": 0,
            "moderation_log": 1,
            "reader_note": 0,
        },
    }
    fresh = Settings(
        data_dir=tmp_path / "fresh",
        database_url=f"sqlite:///{tmp_path / 'fresh.db'}",
        secret_key=settings.secret_key,
    )
    result = _run(fresh, "import", "townhall", str(export))
    assert result.exit_code == 0, result.output
    assert "restored: 1 site(s), 2 thread(s), 5 comment(s), 1 moderation_log(s)" in result.stdout
    # Into a database that has rows: refused, and said why.
    again = _run(fresh, "import", "townhall", str(export))
    assert again.exit_code == 1
    assert "restored into an empty database only" in again.stderr
