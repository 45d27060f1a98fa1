"""Helpers for the moderation tests: a SQLite-only service set for the checks (they are
database-independent and run often), and small posting helpers. The action tests use the
shared ``services`` fixture, which runs on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ORIGIN, RELAXED_LIMITS, make_test_settings
from townhall.domain.comments import NewComment, Posted, submit_comment
from townhall.domain.identity import Reader
from townhall.domain.services import Services
from townhall.domain.sites import Site, create_site, update_site
from townhall.moderation.toxicity import kernels

# Tests of the pinned training kernels run where the pinning does (kernels.can_pin).
PINNABLE = pytest.mark.skipif(
    not kernels.can_pin(), reason=f"the pinned kernels need {kernels.REQUIREMENTS}"
)
# Kernels other than the pinned ones on any x86-64 CPU: other OpenBLAS kernels, one thread and
# numpy's baseline loops. X86_V4 and the AVX-512 groups go too: on a CPU with AVX-512 (the AMD
# EPYC of 2026-11-27 18:00 had it) turning X86_V3 off left numpy on X86_V4.
OTHER_KERNELS = {
    "OPENBLAS_CORETYPE": "Sandybridge",
    "OPENBLAS_NUM_THREADS": "1",
    "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
}


@pytest.fixture
def sqlite_services(tmp_path: Path) -> Iterator[Services]:
    settings = make_test_settings(tmp_path, f"sqlite:///{tmp_path / 'checks.db'}")
    svc = Services.from_settings(settings)
    svc.db.migrate()
    yield svc
    svc.db.dispose()


@pytest.fixture
def sqlite_site(sqlite_services: Services) -> Site:
    return create_site(
        sqlite_services.db, key="news", name="News", origins=[ORIGIN], policy=RELAXED_LIMITS
    )


def reader(n: int = 1, *, ip: int | None = None) -> Reader:
    """A distinct reader (token hash) posting from a distinct address (unless ``ip`` says)."""
    address = n if ip is None else ip
    return Reader(
        reader_id=hashlib.sha256(f"reader-{n}".encode()).hexdigest(),
        ip_hash=hashlib.sha256(f"ip-{address}".encode()).hexdigest(),
    )


def post(
    services: Services,
    text: str,
    who: Reader | None = None,
    *,
    thread: str = "/story",
    email: str | None = None,
    **more: Any,
) -> Posted:
    return submit_comment(
        services,
        NewComment(
            site="news",
            thread=thread,
            text=text,
            author_name="Ann",
            author_email=email,
            thread_title="A story",
            thread_url=ORIGIN + thread,
            **more,
        ),
        who or reader(),
    )


def set_policy(services: Services, **changes: Any) -> None:
    update_site(services.db, "news", policy_changes=changes)
    services.sites.forget()
