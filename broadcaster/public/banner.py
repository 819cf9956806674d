"""The banner a practice pastes into its own website: one <script> line.

A script rather than an iframe, because an iframe cannot shrink to nothing when there is no
incident, and a blank box on every practice's home page would be worse. The script is made
safe in other ways: it is fixed (the snippet pins it with Subresource Integrity, so a changed
file is refused by the browser), it reads only a small JSON file per practice, writes what it
reads as text (never HTML) and builds its one link itself, sends no cookies or referrer, and
sets none. With no open incident, or when the data cannot be read, it adds nothing to the page.
"""

from __future__ import annotations

import base64
import hashlib
import json
from html import escape

from broadcaster.public.published import PublicPractice, PublicView
from broadcaster.public.times import machine, shown

BANNER_JS = """\
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch) { return; }
  var ods = script.getAttribute("data-ods") || "";
  if (!/^[A-Z][0-9]{5}$/.test(ods)) { return; }
  var base = script.src.replace(/banner\\.js([?#].*)?$/, "");
  var asked = {credentials: "omit", cache: "no-cache", referrerPolicy: "no-referrer"};
  fetch(base + "banner/" + ods + ".json", asked)
    .then(function (reply) { return reply.ok ? reply.json() : null; })
    .then(function (data) {
      if (!data || data.open !== true) { return; }
      var box = document.createElement("div");
      box.setAttribute("role", "status");
      box.style.cssText = "background:#fff3cd;color:#212b32;border-left:6px solid #d5281b;" +
        "padding:12px 16px;margin:8px 0;font:16px/1.4 system-ui,Arial,sans-serif";
      var title = document.createElement("strong");
      title.textContent = String(data.title);
      box.appendChild(title);
      box.appendChild(document.createTextNode(" \\u2013 " + String(data.status) +
        " (updated " + String(data.updated) + "). "));
      var link = document.createElement("a");
      link.href = base + "status/" + ods + "/";
      link.textContent = "Latest updates and what to do";
      link.style.color = "#005eb8";
      box.appendChild(link);
      script.parentNode.insertBefore(box, script);
    })
    .catch(function () { /* no banner rather than a broken page */ });
}());
"""


def banner_data(view: PublicView, practice: PublicPractice) -> bytes:
    """`/banner/{ods}.json`: the practice's open incident in a few words, or {"open": false}."""
    incident = view.open_incident_of(practice.ods)
    if incident is None:
        data: dict[str, object] = {"open": False, "ods": practice.ods}
    else:
        data = {
            "open": True,
            "ods": practice.ods,
            "title": incident.title,
            "status": incident.latest.label,
            "updated": shown(incident.updated_at),
            "updated_at": machine(incident.updated_at),
        }
    return json.dumps(data, ensure_ascii=False).encode()


def script_integrity() -> str:
    digest = hashlib.sha384(BANNER_JS.encode()).digest()
    return f"sha384-{base64.b64encode(digest).decode()}"


def banner_snippet(practice_ods: str, *, root: str) -> str:
    """The one line a practice pastes where the banner should appear."""
    src = f"{root}/banner.js"
    return (
        f'<script src="{escape(src)}" data-ods="{practice_ods}" integrity="{script_integrity()}" '
        'crossorigin="anonymous" async></script>'
    )


def snippets_page(view: PublicView, *, root: str) -> str:
    """`/banner/`: each practice's line to paste, for whoever looks after its website."""
    rows = "".join(
        f"<li><strong>{escape(p.name)}</strong> ({p.ods})<br>"
        f"<code>{escape(banner_snippet(p.ods, root=root))}</code></li>"
        for p in view.practices
    )
    return (
        '<!doctype html><html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        "<title>Status banner for practice websites</title></head><body><main>"
        "<h1>Status banner for practice websites</h1>"
        "<p>Paste your practice's line into your website where the banner should appear. "
        "It shows nothing unless your practice has a current problem, sets no cookies and "
        "tracks nobody.</p>"
        f"<ul>{rows}</ul></main></body></html>"
    )
