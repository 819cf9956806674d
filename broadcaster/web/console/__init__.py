"""The web console: phone-first HTML pages (sign-in lives in web.sign_in_pages) to send from a
runbook or free text, preview per channel, watch the practice x channel grid fill in live
(Server-Sent Events from the result writer's outcome stream), retry a failed cell, and post
updates; and the JSON API routes behind the same actions (preview, retry, runbooks, practices,
users).

Plain HTML forms that POST and redirect, so sending works without JavaScript; one small
vanilla script (static/grid.js) keeps the grid live. Part of the web layer: imports anything
below it; only web.api imports it.
"""
