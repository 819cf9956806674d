"""Whether the SMTP relay would take mail now: connect, log in when a login is set, quit. No mail."""

from __future__ import annotations

import socket
import ssl

import aiosmtplib

from broadcaster.core.provider_spec import ProbeContext, Readiness
from channels.email.spec import SMTP_SETTINGS, SmtpSettings


async def probe_smtp_login(ctx: ProbeContext) -> Readiness:
    settings = SMTP_SETTINGS.of(ctx.settings)
    client = aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        timeout=settings.timeout_seconds,
        use_tls=settings.security == "tls",
        start_tls=settings.security == "starttls",
        tls_context=ssl.create_default_context() if settings.security != "none" else None,
        local_hostname=socket.gethostname(),  # no blocking FQDN lookup (see channels.email.smtp)
    )
    where = f"{settings.host}:{settings.port}"
    try:
        await client.connect()
        if settings.username:
            password = settings.password.get_secret_value() if settings.password else ""
            await client.login(settings.username, password)
        await client.quit()
    except aiosmtplib.SMTPAuthenticationError as exc:
        return Readiness(False, _hidden(settings, f"SMTP login refused by {where} ({exc.code})"))
    except aiosmtplib.SMTPResponseException as exc:
        return Readiness(False, _hidden(settings, f"SMTP {exc.code} from {where}: {exc.message}"))
    except (aiosmtplib.SMTPException, OSError) as exc:
        return Readiness(False, f"SMTP server {where} not reachable ({type(exc).__name__})")
    finally:
        if client.is_connected:
            client.close()
    if settings.username:
        return Readiness(True, f"SMTP login accepted by {where}")
    return Readiness(True, f"SMTP server {where} answered (no login set)")


def _hidden(settings: SmtpSettings, text: str) -> str:
    """Never the password, even if a server echoes it back."""
    if settings.password is not None and settings.password.get_secret_value():
        text = text.replace(settings.password.get_secret_value(), "[redacted]")
    return text[:300]
