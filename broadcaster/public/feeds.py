"""Atom feeds of the published view: one for the area, one per practice, newest update first.

Written with feedgen rather than by hand: it refuses a feed missing what RFC 4287 requires
(id, title, updated, an author), writes RFC 3339 dates and escapes every text, and has been
read by feed validators for years. Ids are stable URNs, so a reader never shows an entry twice.
"""

from __future__ import annotations

import uuid

from feedgen.feed import FeedGenerator

from broadcaster.public.published import PublicIncident, PublicPractice, PublicUpdate, PublicView
from broadcaster.public.times import utc

_AREA_DETAIL_UP_TO = 20  # an area entry names its practices' pages when they are this few


def area_feed(view: PublicView, *, root: str, sender: str) -> bytes:
    feed = _feed(view, sender, key="status", title=f"{view.area_name}: GP practice service status")
    feed.link(href=f"{root}/status/", rel="alternate", type="text/html")
    feed.link(href=f"{root}/status/feed.atom", rel="self", type="application/atom+xml")
    for incident, update in _entries(view.incidents):
        entry = feed.add_entry(order="append")
        entry.id(_urn(sender, f"status/{incident.ref}.{update.seq}"))
        entry.title(f"{update.label}: {incident.title}")
        entry.updated(utc(update.at))
        entry.published(utc(update.at))
        entry.link(href=f"{root}/status/", rel="alternate", type="text/html")
        entry.content(_area_text(incident, update), type="text")
    return bytes(feed.atom_str(pretty=True))


def practice_feed(view: PublicView, practice: PublicPractice, *, root: str, sender: str) -> bytes:
    feed = _feed(view, sender, key=f"status/{practice.ods}", title=f"{practice.name}: service status")
    page = f"{root}/status/{practice.ods}/"
    feed.link(href=page, rel="alternate", type="text/html")
    feed.link(href=f"{page}feed.atom", rel="self", type="application/atom+xml")
    for incident, update in _entries(view.incidents_of(practice.ods)):
        entry = feed.add_entry(order="append")
        entry.id(_urn(sender, f"status/{practice.ods}/{incident.ref}.{update.seq}"))
        entry.title(f"{update.label}: {incident.title}")
        entry.updated(utc(update.at))
        entry.published(utc(update.at))
        entry.link(href=page, rel="alternate", type="text/html")
        entry.content(update.texts.get(practice.ods, ""), type="text")
    return bytes(feed.atom_str(pretty=True))


def _feed(view: PublicView, sender: str, *, key: str, title: str) -> FeedGenerator:
    feed = FeedGenerator()
    feed.id(_urn(sender, key))
    feed.title(title)
    feed.author({"name": view.area_name})
    feed.language("en-GB")
    # The feed changes only when an update is published: its own time would defeat caching.
    feed.updated(utc(view.updated_at or 0))
    return feed


def _entries(
    incidents: list[PublicIncident] | tuple[PublicIncident, ...],
) -> list[tuple[PublicIncident, PublicUpdate]]:
    pairs = [(i, u) for i in incidents for u in i.updates]
    return sorted(pairs, key=lambda pair: (pair[1].at, pair[0].id, pair[1].seq), reverse=True)


def _area_text(incident: PublicIncident, update: PublicUpdate) -> str:
    texts = set(update.texts.values())
    names = ", ".join(p.name for p in incident.practices)
    if len(texts) == 1:
        return f"{texts.pop()}\n\nPractices affected: {names}"
    detail = "Each practice's status page has its own details, such as the number to call instead."
    if len(incident.practices) <= _AREA_DETAIL_UP_TO:
        return f"{detail}\n\nPractices affected: {names}"
    return f"{detail}\n\n{len(incident.practices)} practices are affected."


def _urn(sender: str, key: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{sender}/{key}").urn
