"""What an import did, for the operator: counts, every skipped record with its line and
reason, warnings, and a fatal error when nothing could be read."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from townhall.importers.records import Problem, SkipReason
from townhall.types import CommentStatus

MAX_DETAILS = 1000  # per reason, and for warnings; counts are always complete


@dataclass
class ImportReport:
    format: str
    file: str
    site: str
    dry_run: bool = False
    fatal: str | None = None
    records_read: int = 0  # comment records found in the file (read or not)
    threads_created: int = 0
    threads_updated: int = 0  # threads that existed and received comments
    imported: Counter[str] = field(default_factory=Counter)  # by comment status
    skipped: Counter[str] = field(default_factory=Counter)  # by SkipReason
    skip_details: dict[str, list[Problem]] = field(default_factory=dict)
    warning_count: int = 0
    warnings: list[Problem] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    elapsed: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)  # format-specific totals (townhall)

    @property
    def ok(self) -> bool:
        return self.fatal is None

    @property
    def comments_imported(self) -> int:
        return sum(self.imported.values())

    @property
    def comments_skipped(self) -> int:
        return sum(self.skipped.values())

    def add(self, problem: Problem) -> None:
        if problem.reason is None:
            self.warning_count += 1
            if len(self.warnings) < MAX_DETAILS:
                self.warnings.append(problem)
            return
        self.skip(problem)

    def skip(self, problem: Problem) -> None:
        assert problem.reason is not None
        reason = problem.reason.value
        self.skipped[reason] += 1
        details = self.skip_details.setdefault(reason, [])
        if len(details) < MAX_DETAILS:
            details.append(problem)

    def count_imported(self, status: CommentStatus) -> None:
        self.imported[status.value] += 1

    def finish(self) -> None:
        self.elapsed = time.monotonic() - self.started

    def as_json(self) -> dict[str, Any]:
        def problem(p: Problem) -> dict[str, Any]:
            return {"line": p.line, "record": p.record, "message": p.message}

        return {
            "format": self.format,
            "file": self.file,
            "site": self.site,
            "dry_run": self.dry_run,
            "fatal": self.fatal,
            "records_read": self.records_read,
            "threads_created": self.threads_created,
            "threads_updated": self.threads_updated,
            "comments_imported": dict(self.imported),
            "comments_skipped": dict(self.skipped),
            "skipped": {
                reason: [problem(p) for p in details]
                for reason, details in self.skip_details.items()
            },
            "warning_count": self.warning_count,
            "warnings": [problem(p) for p in self.warnings],
            "elapsed_seconds": round(self.elapsed, 3),
            **self.extra,
        }


REASON_TEXT = {
    SkipReason.SPAM: "spam",
    SkipReason.DELETED: "deleted (no live replies)",
    SkipReason.DUPLICATE: "duplicate (in the file twice, or imported before)",
    SkipReason.ORPHAN: "orphan (its thread is not in the file)",
    SkipReason.MALFORMED: "malformed",
    SkipReason.PINGBACK: "pingback",
    SkipReason.TRACKBACK: "trackback",
    SkipReason.UNSUPPORTED: "not a reader comment",
}


def summary(report: ImportReport, *, details: int = 10) -> list[str]:
    """The report as text for a terminal: counts first, then up to ``details`` records per
    reason and warnings (all of them are in ``--report FILE``)."""
    if report.fatal is not None:
        return [f"error: {report.fatal}"]
    verb = "would import" if report.dry_run else "imported"
    lines = [
        f"{report.format} file {report.file} -> site {report.site!r}"
        + (" (dry run: nothing was written)" if report.dry_run else "")
    ]
    restored = report.extra.get("restored")
    if isinstance(restored, dict):
        lines.append(
            "  restored: " + ", ".join(f"{n} {kind}(s)" for kind, n in restored.items() if n)
        )
    lines.append(
        f"  threads: {report.threads_created} new, {report.threads_updated} existing received "
        "comments"
    )
    by_status = ", ".join(f"{n} {status}" for status, n in sorted(report.imported.items()))
    lines.append(
        f"  comments: {report.comments_imported} {verb}"
        + (f" ({by_status})" if by_status else "")
        + f", {report.comments_skipped} skipped, of {report.records_read} in the file"
    )
    for reason in SkipReason:
        count = report.skipped.get(reason.value, 0)
        if not count:
            continue
        lines.append(f"  skipped as {REASON_TEXT[reason]}: {count}")
        for problem in report.skip_details.get(reason.value, [])[:details]:
            where = problem.where()
            lines.append(f"    {where + ': ' if where else ''}{problem.message}")
        if count > details:
            lines.append(f"    ... and {count - details} more")
    if report.warning_count:
        lines.append(f"  warnings: {report.warning_count}")
        for problem in report.warnings[:details]:
            where = problem.where()
            lines.append(f"    {where + ': ' if where else ''}{problem.message}")
        if report.warning_count > details:
            lines.append(f"    ... and {report.warning_count - details} more")
    rate = report.records_read / report.elapsed if report.elapsed > 0 else 0.0
    lines.append(f"  took {report.elapsed:.1f} s ({rate:,.0f} records/s)")
    return lines
