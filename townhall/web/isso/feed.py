"""The Atom feed of a thread (``GET /feed?uri=…``): its newest published comments.

Isso serves one only when its operator sets ``[rss] base``; townhall knows each thread's
article URL (or the site's origin), so the feed is always on."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from townhall.domain.listing import Snapshot
from townhall.domain.sites import Site
from townhall.domain.threads import Thread
from townhall.types import CommentStatus

ATOM = "http://www.w3.org/2005/Atom"
THREADING = "http://purl.org/syndication/thread/1.0"
MAX_ENTRIES = 100
_NEVER = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def article_url(site: Site, thread: Thread | None, uri: str) -> str:
    if thread is not None and thread.url:
        return thread.url
    origin = site.origins[0] if site.origins else ""
    return origin + uri if uri.startswith("/") else origin + "/" + uri


def atom_feed(
    site: Site, thread: Thread | None, snap: Snapshot | None, uri: str, limit: int
) -> bytes:
    page = article_url(site, thread, uri)
    host = urlsplit(page).hostname or site.key
    feed = ET.Element("feed", {"xmlns": ATOM, "xmlns:thr": THREADING})
    updated = ET.SubElement(feed, "updated")
    ET.SubElement(feed, "id").text = f"tag:{host},2026:townhall/{site.key}/thread{uri}"
    title = thread.title if thread is not None and thread.title != thread.key else ""
    ET.SubElement(feed, "title").text = f"Comments on {title or host + uri}"
    ET.SubElement(feed, "link", {"href": page})
    newest = _NEVER
    if snap is not None:
        published = [
            node
            for cid, node in snap.nodes.items()
            if snap.visible_status.get(cid) == CommentStatus.PUBLISHED
        ]
        published.sort(key=lambda n: (n.created_at, n.id), reverse=True)
        for node in published[:limit]:
            changed = node.edited_at or node.created_at
            newest = max(newest, changed)
            entry = ET.SubElement(feed, "entry")
            ET.SubElement(entry, "id").text = f"tag:{host},2026:townhall/{site.key}/{node.id}"
            ET.SubElement(entry, "title").text = f"Comment #{node.id}"
            ET.SubElement(entry, "published").text = _iso(node.created_at)
            ET.SubElement(entry, "updated").text = _iso(changed)
            author = ET.SubElement(entry, "author")
            ET.SubElement(author, "name").text = node.author_name
            if node.author_website:
                ET.SubElement(author, "uri").text = node.author_website
            ET.SubElement(entry, "link", {"href": f"{page}#isso-{node.id}"})
            ET.SubElement(entry, "content", {"type": "html"}).text = node.html
            if node.parent_id is not None:
                ET.SubElement(
                    entry,
                    "thr:in-reply-to",
                    {
                        "ref": f"tag:{host},2026:townhall/{site.key}/{node.parent_id}",
                        "href": f"{page}#isso-{node.parent_id}",
                    },
                )
    updated.text = _iso(newest)
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body
