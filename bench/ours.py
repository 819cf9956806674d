"""Our product under test, in its own process, through its public API: open, dispatch, update, settle.

    python -m bench.ours SPEC.json RESULT.json

Like `broadcaster serve`: the dispatcher is already running when the trigger arrives; the
incident is opened through IncidentService and the dispatcher woken, as the HTTP API does.
Logs go to a file as JSON at info level, as in production.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from dataclasses import asdict
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.client_spec import (
    NOTIFY_API_KEY,
    NOTIFY_EMAIL_TEMPLATE,
    NOTIFY_SMS_TEMPLATE,
    ClientResult,
    ClientSpec,
)
from bench.process_stats import EffortMeter
from bench.scenario import OPENING_TEXT, PAGE_TOKEN, UPDATE_TEXT
from broadcaster.config.log_setup import configure_logging
from broadcaster.config.settings import Settings
from broadcaster.content.message_content import content_from_text
from broadcaster.core.models import ChannelKind, IncidentStatus, Severity
from broadcaster.delivery.dispatcher import Dispatcher
from broadcaster.delivery.runtime import open_database, running_dispatcher
from broadcaster.directory.audience import Audience
from broadcaster.directory.practices import Directory, load_directory
from broadcaster.incidents.queries import IncidentQueries
from broadcaster.incidents.service import Actor, IncidentRequest, IncidentService, UpdateRequest
from broadcaster.store.records import StoredUpdate
from channels.email.spec import EMAIL_SMTP, SmtpSettings
from channels.facebook.spec import FACEBOOK_GRAPH, GraphSettings
from channels.notify.spec import SMS_NOTIFY, NotifySettings

ROUTES = (FACEBOOK_GRAPH, SMS_NOTIFY, EMAIL_SMTP)
ACTOR = Actor(name="bench", origin="bench@localhost")


def bench_settings(spec: ClientSpec, directory: Directory) -> Settings:
    work = Path(spec.workdir)
    return Settings(
        database_url=f"sqlite+aiosqlite:///{work / 'ours.db'}",
        directory=Path(spec.directory),
        node_name="bench",
        graph=GraphSettings(base_url=spec.graph_url, concurrency=spec.concurrency.graph),
        notify=NotifySettings(
            base_url=spec.notify_url,
            api_key=SecretStr(NOTIFY_API_KEY),
            sms_template_id=NOTIFY_SMS_TEMPLATE,
            email_template_id=NOTIFY_EMAIL_TEMPLATE,
            concurrency=spec.concurrency.notify,
            requests_per_minute=spec.notify_per_minute,
        ),
        smtp=SmtpSettings(
            host="127.0.0.1", port=spec.smtp_port, security="none", connections=spec.concurrency.smtp
        ),
        secrets={p.facebook.token: SecretStr(PAGE_TOKEN) for p in directory.practices if p.facebook},
    )


def opening_request(spec: ClientSpec, settings: Settings) -> IncidentRequest:
    channels = frozenset({ChannelKind.SMS}) if spec.texts_only else frozenset(ChannelKind)
    return IncidentRequest(
        title="Phone lines down",
        severity=Severity.MAJOR,
        content=content_from_text(OPENING_TEXT, sms_max_segments=settings.sms.max_segments),
        audience=Audience(everyone=True),
        channels=channels,
    )


def update_request(spec: ClientSpec, settings: Settings) -> UpdateRequest:
    return UpdateRequest(
        status=IncidentStatus.IDENTIFIED,
        content=content_from_text(UPDATE_TEXT, sms_max_segments=settings.sms.max_segments),
        sms=spec.update_sms,
    )


async def run(spec: ClientSpec) -> ClientResult:
    directory = load_directory(Path(spec.directory))  # before the trigger: a server has it loaded
    gc.freeze()  # as the CLI does after loading the directory
    settings = bench_settings(spec, directory)
    with (Path(spec.workdir) / "ours.log").open("w", encoding="utf-8") as log_file:
        configure_logging(log_format="json", level="info", secrets=settings.secret_values(), stream=log_file)
        async with open_database(settings) as engine:
            service = IncidentService(engine=engine, directory=directory, settings=settings)
            async with running_dispatcher(engine, settings, ROUTES) as dispatcher:
                await asyncio.sleep(0.5)  # the dispatcher finds nothing to do and goes idle
                return await _broadcast(spec, settings, engine, service, dispatcher)


async def _broadcast(
    spec: ClientSpec,
    settings: Settings,
    engine: AsyncEngine,
    service: IncidentService,
    dispatcher: Dispatcher,
) -> ClientResult:
    meter = EffortMeter()
    trigger = meter.start()
    opening = await service.open(opening_request(spec, settings), actor=ACTOR)
    dispatcher.wake()
    written = time.time()
    if spec.update_after is None:
        await _settle(engine, dispatcher, opening, spec)  # the update follows a settled opening
    else:
        await asyncio.sleep(max(0.0, trigger + spec.update_after - time.time()))
    update, update_posted = None, None
    if not spec.texts_only:
        update_posted = time.time()
        update = await service.post_update(opening.incident_id, update_request(spec, settings), actor=ACTOR)
        dispatcher.wake()
    if spec.update_after is not None:  # the update went out during the opening
        await _settle(engine, dispatcher, opening, spec)
    if update is not None:
        await _settle(engine, dispatcher, update, spec)
    finished = time.time()
    effort = await meter.finish()
    return ClientResult(
        trigger=trigger,
        written=written,
        update_posted=update_posted,
        finished=finished,
        **asdict(effort),
    )


async def _settle(
    engine: AsyncEngine, dispatcher: Dispatcher, stored: StoredUpdate, spec: ClientSpec
) -> None:
    # Followed through the result writer's outcome stream, as the CLI does; acceptance is timed at the fakes.
    await IncidentQueries(engine).follow(
        stored.update_id, outcomes=dispatcher.writer.outcomes, give_up_after=spec.give_up_after
    )


def main() -> None:
    spec_path, result_path = (Path(arg) for arg in sys.argv[1:3])
    result = asyncio.run(run(ClientSpec.load(spec_path)))
    result.save(result_path)


if __name__ == "__main__":
    main()
