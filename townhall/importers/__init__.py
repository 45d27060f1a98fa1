"""Importing comments from Disqus, WordPress, Isso, Commento, remark42 and Isso's generic JSON,
and exporting/restoring a site in townhall's own format. See docs/importing.md."""

from __future__ import annotations

from townhall.importers.pipeline import FORMATS, ImportOptions, Progress, import_file
from townhall.importers.report import ImportReport

__all__ = ["FORMATS", "ImportOptions", "ImportReport", "Progress", "import_file"]
