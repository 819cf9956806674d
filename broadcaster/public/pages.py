"""The public status pages: plain HTML that reads well on a small phone, with no JavaScript.

One page for the whole area (open incidents by practice, recent history) and one per practice
(its open incident's thread, newest first, and what to do instead). Every text comes from the
published view and is escaped here; `root` is prepended to every link, so the same pages work
served by `broadcaster serve` and copied to a static host.
"""

from __future__ import annotations

from html import escape

from broadcaster.public.published import PublicIncident, PublicPractice, PublicUpdate, PublicView
from broadcaster.public.times import machine, shown

# An area page lists every practice only when the list stays short enough for a phone.
_LIST_ALL_UP_TO = 300

_STYLE = """
body{font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Arial,sans-serif;color:#212b32;
background:#f0f4f5;margin:0;padding:0 1rem 2rem}
main{max-width:40rem;margin:0 auto}
h1{font-size:1.6rem;line-height:1.2;margin:1rem 0 .25rem}
h2{font-size:1.25rem;margin:1.5rem 0 .5rem}
h3{font-size:1.05rem;margin:0 0 .25rem}
a{color:#005eb8}a:focus{outline:3px solid #ffeb3b;background:#ffeb3b;color:#212b32}
.box{background:#fff;border-left:6px solid #005eb8;padding:.75rem 1rem;margin:.75rem 0}
.problem{border-color:#d5281b}.resolved{border-color:#007f3b}
.help{border-color:#ffb81c}
.status{font-weight:700}
ol.thread{list-style:none;padding:0}
.meta,footer{color:#4c6272;font-size:.95rem}
"""

_HELP = (
    '<section class="box help" aria-labelledby="help"><h2 id="help">If you need medical help now</h2>'
    '<ul><li>Use <a href="https://111.nhs.uk">NHS 111 online</a> or call <strong>111</strong>.</li>'
    "<li>In an emergency, call <strong>999</strong>.</li>"
    "<li>A pharmacist can help with many minor illnesses.</li></ul></section>"
)


def area_page(view: PublicView, *, root: str) -> str:
    """`/status`: every practice with an open incident, then recent history."""
    open_now = view.open_incidents()
    body = [f"<h1>{escape(view.area_name)}: GP practice service status</h1>", _updated(view)]
    body.append('<h2 id="now">Current problems</h2>')
    if not open_now:
        body.append('<p class="box resolved">No practice has reported a problem.</p>')
    for incident in open_now:
        links = ", ".join(_practice_link(p, root) for p in incident.practices)
        body.append(
            f'<article class="box problem"><h3>{escape(incident.title)}</h3>'
            f'<p class="status">{escape(incident.latest.label)}</p>'
            f'<p class="meta">Last updated <time datetime="{machine(incident.updated_at)}">'
            f"{shown(incident.updated_at)}</time></p><p>Practices affected: {links}</p></article>"
        )
    body.append(_HELP)
    body.append(_practice_list(view, root))
    body.append(_history(view.incidents, root=root))
    feed = f"{root}/status/feed.atom"
    return _document(f"{view.area_name}: service status", body, feed=feed)


def practice_page(view: PublicView, practice: PublicPractice, *, root: str) -> str:
    """`/status/{ods}`: the practice's open incident, newest update first, and what to do instead."""
    place = f", {escape(practice.postcode)}" if practice.postcode else ""
    body = [f"<h1>{escape(practice.name)}</h1>", f'<p class="meta">Service status{place}</p>']
    current = view.open_incident_of(practice.ods)
    if current is None:
        body.append('<p class="box resolved">No current problems reported.</p>')
    else:
        body.append(_thread(current, practice))
    body.append(_HELP)
    body.append(_history([i for i in view.incidents_of(practice.ods) if i is not current], root=root))
    body.append(f'<p><a href="{root}/status/">All practices in {escape(view.area_name)}</a></p>')
    feed = f"{root}/status/{practice.ods}/feed.atom"
    return _document(f"{practice.name}: service status", body, feed=feed)


def not_found_page(*, root: str) -> str:
    body = [
        "<h1>Page not found</h1>",
        "<p>There is no status page at this address. Check the practice code in the address.</p>",
        f'<p><a href="{root}/status/">See every practice\'s status</a></p>',
        _HELP,
    ]
    return _document("Page not found", body, feed=None)


def unavailable_page(*, root: str) -> str:
    body = [
        "<h1>Status not available just now</h1>",
        "<p>Please try again in a minute, or check your practice's Facebook page.</p>",
        _HELP,
    ]
    return _document("Status not available", body, feed=None)


def paragraphs(text: str) -> str:
    """Blank lines part paragraphs; single line breaks are kept."""
    parts = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in parts)


def _thread(incident: PublicIncident, practice: PublicPractice) -> str:
    items = "".join(_update_item(u, practice) for u in reversed(incident.updates))
    return (
        '<section class="box problem" aria-labelledby="current">'
        f'<h2 id="current">{escape(incident.title)}</h2>'
        f'<p class="status">Status: {escape(incident.latest.label)}</p>'
        f'<p class="meta">Reference {incident.ref}. Newest update first.</p>'
        f'<ol class="thread" reversed>{items}</ol></section>'
    )


def _update_item(update: PublicUpdate, practice: PublicPractice) -> str:
    return (
        f"<li><h3>{escape(update.label)}, "
        f'<time datetime="{machine(update.at)}">{shown(update.at)}</time></h3>'
        f"{paragraphs(update.texts.get(practice.ods, ''))}</li>"
    )


def _history(incidents: list[PublicIncident] | tuple[PublicIncident, ...], *, root: str) -> str:
    past = [i for i in incidents if not i.is_open]
    if not past:
        return ""
    rows = "".join(
        f"<li><strong>{escape(i.title)}</strong>: {shown(i.opened_at)} to "
        f"{shown(i.resolved_at or i.updated_at)} ({len(i.practices)} practice"
        f"{'' if len(i.practices) == 1 else 's'})</li>"
        for i in past
    )
    return f'<h2 id="history">Recently resolved</h2><ul>{rows}</ul>'


def _practice_list(view: PublicView, root: str) -> str:
    if len(view.practices) > _LIST_ALL_UP_TO:
        return (
            "<h2>Your practice</h2><p>Each practice has its own page at "
            f"<code>{escape(root)}/status/</code> followed by its practice code.</p>"
        )
    affected = {p.ods for i in view.open_incidents() for p in i.practices}
    rows = "".join(
        f"<li>{_practice_link(p, root)}: "
        f"{'problem reported' if p.ods in affected else 'no problems reported'}</li>"
        for p in view.practices
    )
    return f'<h2 id="practices">Every practice</h2><ul>{rows}</ul>'


def _practice_link(practice: PublicPractice, root: str) -> str:
    return f'<a href="{root}/status/{practice.ods}/">{escape(practice.name)}</a>'


def _updated(view: PublicView) -> str:
    if view.updated_at is None:
        return '<p class="meta">No incidents reported yet.</p>'
    at = view.updated_at
    return f'<p class="meta">Last change <time datetime="{machine(at)}">{shown(at)}</time> (UK time)</p>'


def _document(title: str, body: list[str], *, feed: str | None) -> str:
    alternate = (
        f'<link rel="alternate" type="application/atom+xml" title="Updates (Atom feed)" href="{feed}">'
        if feed
        else ""
    )
    footer = (
        f'<footer><p><a href="{feed}">Follow these updates in a feed reader</a></p></footer>' if feed else ""
    )
    return (
        '<!doctype html><html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title>{alternate}<style>{_STYLE}</style></head>"
        f"<body><main>{''.join(body)}{footer}</main></body></html>"
    )
