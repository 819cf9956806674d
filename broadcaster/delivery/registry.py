"""Where the core meets the concrete channel adapters: build one per provider route in use.

Each route's spec (broadcaster.config.providers) says how to build it; this module owns the
resources the adapters share and closes them with the channels.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import BaseModel

from broadcaster.config.providers import spec_for_route
from broadcaster.config.secret_refs import SecretLookup
from broadcaster.core.channel_contract import Channel

if TYPE_CHECKING:
    import aiohttp

    from broadcaster.config.settings import Settings

T = TypeVar("T")


@dataclass
class ChannelSet:
    """The adapters for a run, their concurrency limits, and the resources they share."""

    channels: dict[str, Channel] = field(default_factory=dict)
    concurrency: dict[str, int] = field(default_factory=dict)
    _closers: list[Callable[[], Awaitable[None] | None]] = field(default_factory=list)

    def close_with(self, close: Callable[[], Awaitable[None] | None]) -> None:
        """Release a shared resource (a session, a pool) after the channels are closed."""
        self._closers.append(close)

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()
        for close in self._closers:
            if (pending := close()) is not None:
                await pending


def build_channels(settings: Settings, routes: Iterable[str]) -> ChannelSet:
    """Adapters for exactly the routes in use; a route whose settings are missing fails here."""
    built = ChannelSet()
    context = _Context(settings, SecretLookup(settings.secrets), built)
    for route in sorted(set(routes)):
        built.channels[route], built.concurrency[route] = spec_for_route(route).build(context)
    return built


class _Context:
    """The BuildContext every factory of one ChannelSet is given."""

    def __init__(self, settings: BaseModel, secrets: SecretLookup, built: ChannelSet) -> None:
        self._settings, self._secrets, self._built = settings, secrets, built
        self._shared: dict[str, Any] = {}

    @property
    def settings(self) -> BaseModel:
        return self._settings

    @property
    def secrets(self) -> SecretLookup:
        return self._secrets

    def http_session(self) -> aiohttp.ClientSession:
        def open_session() -> aiohttp.ClientSession:
            import aiohttp  # noqa: PLC0415  # only when some route speaks HTTP

            # One pool for every HTTP provider; the per-route semaphores bound what is in flight.
            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
            self._built.close_with(session.close)
            return session

        return self.shared("http_session", open_session)

    def thread_pool(self, name: str, workers: int) -> ThreadPoolExecutor:
        def open_pool() -> ThreadPoolExecutor:
            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
            self._built.close_with(lambda: pool.shutdown(wait=False, cancel_futures=True))
            return pool

        return self.shared(f"thread_pool:{name}", open_pool)

    def shared(self, name: str, make: Callable[[], T]) -> T:
        if name not in self._shared:
            self._shared[name] = make()
        return cast(T, self._shared[name])
