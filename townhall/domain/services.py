"""The objects a running townhall shares: settings, database, hasher, events, caches.

Built once by ``create_app`` and handed down explicitly; there is no global state."""

from __future__ import annotations

from dataclasses import dataclass, field

from townhall.domain.events import EventBus
from townhall.domain.identity import Hasher
from townhall.domain.sites import SiteCache
from townhall.domain.threads import ThreadIndex
from townhall.settings import Settings
from townhall.store.database import Database
from townhall.store.history import SqlHistory


@dataclass
class Services:
    settings: Settings
    db: Database
    hasher: Hasher
    events: EventBus = field(default_factory=lambda: EventBus())
    sites: SiteCache = field(init=False)
    history: SqlHistory = field(init=False)
    threads: ThreadIndex = field(init=False)

    def __post_init__(self) -> None:
        self.sites = SiteCache(self.db)
        self.history = SqlHistory(self.db)
        self.threads = ThreadIndex(self.db)
        self.events.subscribe(self.threads.forget)

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        db = Database(settings.resolved_database_url)
        return cls(settings=settings, db=db, hasher=Hasher(settings.secret_bytes()))
