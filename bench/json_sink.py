"""A webhook sink for the apprise command line: any JSON POST is accepted after the fakes' latency.

python -m bench.json_sink --port N --latency 0.1 --jitter 0.02 --dump FILE
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from tests.fakes.bench_records import AcceptedMessage, run_app_until_stopped, write_records


@dataclass
class JsonSink:
    latency: float = 0.0
    jitter: float = 0.0
    seed: int = 0
    accepted: list[AcceptedMessage] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._receive)
        return app

    async def _receive(self, request: web.Request) -> web.Response:
        self.arrivals.append(time.time())
        await asyncio.sleep(self.latency + self._random.uniform(0.0, self.jitter))
        try:
            message = str(json.loads(await request.read()).get("message", ""))
        except (ValueError, AttributeError):
            return web.json_response({"error": "not a JSON object"}, status=400)
        self.accepted.append(AcceptedMessage(time.time(), "webhook", request.path, request.path, message))
        return web.json_response({"ok": True})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--jitter", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dump", type=Path, required=True)
    args = parser.parse_args()
    sink = JsonSink(latency=args.latency, jitter=args.jitter, seed=args.seed)
    run_app_until_stopped(
        sink.app(),
        host=args.host,
        port=args.port,
        dump=args.dump,
        write=lambda path: write_records(path, accepted=sink.accepted, arrivals=sink.arrivals),
    )


if __name__ == "__main__":
    main()
