"""Adding a provider is one new module and one line: tests/fakes/pigeon_provider.py, registered
in a fresh `broadcaster` process, is read from settings, named in the directory, checked
before sending and sent through by the real dispatcher."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from broadcaster.config.providers import PROVIDERS
from broadcaster.config.settings import compose_settings
from broadcaster.content.channel_limits import (
    APPRISE_BODY_MAX_CHARS,
    EMAIL_BODY_MAX_CHARS,
    EMAIL_SUBJECT_MAX_CHARS,
    FACEBOOK_POST_MAX_CHARS,
)
from broadcaster.content.sms_text import NOTIFY_MAX_CHARS
from broadcaster.core.models import ChannelKind
from tests.cli_runner import CliResult, cli_env
from tests.fakes.pigeon_provider import PIGEON_SETTINGS, SMS_PIGEON_SPEC

REPO = Path(__file__).resolve().parent.parent
# `broadcaster` as it would run with the one line added to broadcaster/config/providers.py.
WITH_PIGEON = """\
from broadcaster.config import providers
from tests.fakes.pigeon_provider import SMS_PIGEON_SPEC
providers.PROVIDERS = (*providers.PROVIDERS, SMS_PIGEON_SPEC)
from broadcaster.cli.main import main
main()
"""
DIRECTORY = """\
defaults: {sms_provider: pigeon}
practices:
  - {ods: P00001, name: Pier Surgery, sms: {recipients: ["07700 900001", "07700 900002"]}}
  - {ods: P00002, name: Loft Practice, sms: {recipients: ["07700 900003"], provider: outbox}}
"""
API_KEY = "pigeon-key-0123456789"


def pigeon_env(tmp_path: Path, directory: str = DIRECTORY, **settings: str) -> dict[str, str]:
    (tmp_path / "practices.yaml").write_text(directory, encoding="utf-8")
    env = cli_env(tmp_path, directory=str(tmp_path / "practices.yaml"), **settings)
    return env | {"PYTHONPATH": str(REPO)}


def run_with_pigeon(env: dict[str, str], workdir: Path, *args: str) -> CliResult:
    done = subprocess.run(  # noqa: S603  # our own CLI, arguments from the test
        [sys.executable, "-c", WITH_PIGEON, *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


class PigeonFake:
    """What the pigeon service received: each text and the key it came with."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str]]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/messages", self._message)
        return app

    async def _message(self, request: web.Request) -> web.Response:
        self.received.append((request.headers.get("Authorization", ""), await request.json()))
        return web.json_response({"id": f"pg-{len(self.received)}"}, status=201)


async def test_a_new_provider_module_and_one_line_deliver_texts(
    tmp_path: Path, aiohttp_server: object
) -> None:
    """`send` with pigeon registered: each recipient's text reaches the pigeon service with its key."""
    fake = PigeonFake()
    server: TestServer = await aiohttp_server(fake.app())  # type: ignore[operator]
    env = pigeon_env(tmp_path, pigeon__base_url=str(server.make_url("")), pigeon__api_key=API_KEY)

    sent = await asyncio.to_thread(
        run_with_pigeon, env, tmp_path, "send", "--all", "--title", "Phones", "--message", "Phones are down."
    )

    assert sent.code == 0, sent.err
    assert sorted(text["to"] for _, text in fake.received) == ["+447700900001", "+447700900002"]
    assert all(auth == f"Bearer {API_KEY}" for auth, _ in fake.received)
    assert all("Phones are down." in text["text"] for _, text in fake.received)
    assert API_KEY not in sent.out + sent.err


def test_a_new_providers_required_setting_is_named_before_sending(tmp_path: Path) -> None:
    """Without BROADCASTER_PIGEON__API_KEY, `check` exits 2 naming it (derived from the spec)."""
    result = run_with_pigeon(pigeon_env(tmp_path), tmp_path, "check")
    assert result.code == 2, result.err
    assert "route sms/pigeon needs pigeon.api_key (set BROADCASTER_PIGEON__API_KEY)" in result.err


def test_a_directory_naming_an_unknown_provider_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    """A typo in a provider is refused at its line, listing the providers registered for SMS."""
    directory = DIRECTORY.replace("provider: outbox", "provider: pidgeon")
    result = run_with_pigeon(pigeon_env(tmp_path, directory), tmp_path, "check")
    assert result.code == 2
    assert (
        "practices.yaml:4: practice P00002 (Loft Practice) [entry 2], field sms.provider: "
        "unknown sms provider 'pidgeon'; known: notify, apprise, outbox, pigeon"
    ) in result.err


def test_a_provider_not_registered_is_unknown_to_the_directory(tmp_path: Path) -> None:
    """The shipped `broadcaster`, without the line: pigeon is not an SMS provider it knows."""
    done = subprocess.run(  # our own CLI
        [sys.executable, "-m", "broadcaster", "check"],
        cwd=tmp_path,
        env=pigeon_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "unknown sms provider 'pigeon'; known: notify, apprise, outbox" in done.stderr


def test_a_new_providers_section_is_read_from_its_variables_and_scrubbed(
    tmp_path: Path, monkeypatch: object
) -> None:
    """BROADCASTER_PIGEON__* and a secret file `pigeon__api_key` fill its section; its key is a
    secret the logs are scrubbed of."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "pigeon__api_key").write_text(API_KEY, encoding="utf-8")
    monkeypatch.setenv("BROADCASTER_PIGEON__CONCURRENCY", "7")  # type: ignore[attr-defined]
    settings_class = compose_settings((*PROVIDERS, SMS_PIGEON_SPEC))

    settings = settings_class(_secrets_dir=secrets)  # type: ignore[call-arg]

    pigeon = PIGEON_SETTINGS.of(settings)
    assert (pigeon.concurrency, pigeon.api_key) == (7, SecretStr(API_KEY))
    assert API_KEY in settings.secret_values()


def test_every_channels_caps_are_within_what_each_of_its_providers_accepts() -> None:
    """Content is capped per channel: no cap may let through what a listed provider refuses."""
    body_caps = {
        ChannelKind.FACEBOOK: FACEBOOK_POST_MAX_CHARS,
        ChannelKind.SMS: NOTIFY_MAX_CHARS,
        ChannelKind.EMAIL: EMAIL_BODY_MAX_CHARS,
        ChannelKind.APPRISE: APPRISE_BODY_MAX_CHARS,
    }
    for spec in (*PROVIDERS, SMS_PIGEON_SPEC):
        if spec.limits.body_max_chars is not None:
            assert body_caps[spec.kind] <= spec.limits.body_max_chars, spec.route
        if spec.limits.subject_max_chars is not None:
            assert spec.limits.subject_max_chars >= EMAIL_SUBJECT_MAX_CHARS, spec.route


def test_reading_settings_and_the_directory_loads_no_adapter(tmp_path: Path) -> None:
    """Settings and the directory come from the specs alone: aiohttp, apprise, aiosmtplib stay unloaded."""
    probe = (
        "import sys\n"
        "from broadcaster.config.settings import load_settings\n"
        "from broadcaster.directory.practices import load_directory\n"
        "load_directory(load_settings().directory)\n"
        "print(sorted(m for m in ('aiohttp', 'apprise', 'aiosmtplib') if m in sys.modules))\n"
    )
    done = subprocess.run(  # noqa: S603  # our own interpreter
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"
