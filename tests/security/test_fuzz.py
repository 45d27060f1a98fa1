"""schemathesis against /api/openapi.json of a real `townhall serve`, every operation, on both
databases (CI size; `python security/run.py --fuzz-examples N` runs it bigger): no 5xx, and no
response that the document does not describe (status, content type, headers, body). Then the
same for the moderation API's operations (tag moderation of the same document), as an admin."""

from __future__ import annotations

from pathlib import Path

import pytest

from security.fuzz import run_fuzz
from security.servers import database, postgres_reachable

pytestmark = pytest.mark.slow

EXAMPLES = 10


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_schemathesis_finds_nothing(kind: str, tmp_path: Path) -> None:
    if kind == "postgres" and (reason := postgres_reachable()):
        pytest.skip(reason)
    with database(kind, tmp_path) as target:
        report = run_fuzz(target, examples=EXAMPLES, seed=8)
    assert report.operations >= 9  # every documented operation was exercised
    assert report.test_cases > 100
    assert report.failures == [], "\n\n".join(report.failures)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_schemathesis_finds_nothing_in_the_moderation_api(kind: str, tmp_path: Path) -> None:
    if kind == "postgres" and (reason := postgres_reachable()):
        pytest.skip(reason)
    with database(kind, tmp_path) as target:
        report = run_fuzz(target, examples=EXAMPLES, seed=8, moderation=True)
    assert report.operations >= 15
    assert report.failures == [], "\n\n".join(report.failures)
