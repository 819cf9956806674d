"""Draw docs/status-page.png and docs/banner.png: a practice's status page and the banner on a
sample practice website, at phone width, in Debian's Chromium (apt-get install chromium).

    .venv/bin/python bench/screenshots.py
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

from broadcaster.public.banner import banner_snippet

DOCS = Path(__file__).resolve().parent.parent / "docs"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SAMPLE_SITE = """<!doctype html><html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Riverside Surgery</title>
<style>body{{font:16px/1.5 Georgia,serif;margin:0;color:#222}}
header{{background:#2e5e4e;color:#fff;padding:16px}}main{{padding:0 16px}}
nav a{{color:#fff;margin-right:12px}}</style></head><body>
<header><h1 style="margin:0">Riverside Surgery</h1>
<nav><a href="#">Appointments</a><a href="#">Prescriptions</a></nav></header>
<main>{snippet}<h2>Welcome</h2><p>We are open Monday to Friday, 8am to 6:30pm.</p>
<p>Order repeat prescriptions online or through the NHS App.</p></main></body></html>"""


def broadcaster(work: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    env |= {
        "BROADCASTER_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'b.db'}",
        "BROADCASTER_OUTBOX_DIR": str(work / "outbox"),
    }
    command = [sys.executable, "-m", "broadcaster", *args]
    subprocess.run(command, cwd=work, env=env, check=True, capture_output=True)  # noqa: S603  # our own CLI


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        broadcaster(
            work,
            "send",
            "--runbook",
            "phone-lines-down",
            "--field",
            "next_update=11am",
            "--group",
            "north-pcn",
        )
        broadcaster(work, "update", "INC-1", "--status", "identified", "--field", "next_update=1pm")
        broadcaster(work, "publish", "--to", str(work / "site"))
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(work / "site"))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        root = f"http://127.0.0.1:{server.server_port}"
        (work / "site" / "sample").mkdir()
        (work / "site" / "sample" / "index.html").write_text(
            SAMPLE_SITE.format(snippet=banner_snippet("X99001", root=root))
        )
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 360, "height": 740})
            page.goto(f"{root}/status/X99001/")
            page.screenshot(path=str(DOCS / "status-page.png"))
            page.goto(f"{root}/sample/")
            page.wait_for_selector("[role=status]")
            page.screenshot(path=str(DOCS / "banner.png"))
            browser.close()
        server.shutdown()
    for name in ("status-page.png", "banner.png"):
        print(f"docs/{name}: {(DOCS / name).stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
