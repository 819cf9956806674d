"""What the HTTP API answers when a request is refused: a 4xx with a JSON body saying what to fix.

    BodyRefused        400  {"error": ..., "details": [{"field", "loc", "problem"}]}
    IncidentRefError   404  not a reference like INC-42
    UnknownIncident    404  no such incident
    LifecycleRefused   409  resolved: reopen it first; or not resolved, so nothing to reopen
    ConflictError      409  others kept updating the incident first; nothing was written
    NotAllowed         403  the principal's role or practices do not cover this; says what is needed
    BroadcasterError   422  refused content, unknown audience, missing setting
    web.HTTPException  its own 4xx (401, 403, 404, 405, 413, 429), headers kept, body as JSON

Messages never carry a secret (scrubbed) nor a path on the server (the directory's path becomes
"the practice directory", any other absolute path its file name).
"""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from broadcaster.accounts.permissions import NotAllowed
from broadcaster.config.log_setup import SCRUBBER
from broadcaster.core.errors import BroadcasterError, ConflictError, LifecycleRefused, UnknownIncident
from broadcaster.core.incident_refs import IncidentRefError
from broadcaster.web.bodies import BodyRefused

# An absolute POSIX path: starts at a "/" that does not follow a word character, ":" or "/"
# (so URLs such as https://graph.facebook.com/v26.0 are left alone).
# The API's own paths (/api/..., /login), which a message may name as what to call, are not the server's.
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.~-])/(?!api/|login\b)(?:[\w.~@+-]+/)*[\w.~@+-]+")
_DROPPED_HEADERS = frozenset({hdrs.CONTENT_TYPE, hdrs.CONTENT_LENGTH})


def error_replies(*, directory_path: Path) -> Middleware:
    """Middleware turning every refusal into a JSON 4xx; anything else propagates (and is a bug)."""
    public = _PublicWording(directory_path)

    @web.middleware
    async def errors(  # noqa: PLR0911  # one return per kind of refusal, as in the table above
        request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except BodyRefused as exc:
            return web.json_response({"error": public(str(exc)), "details": exc.problems}, status=400)
        except (IncidentRefError, UnknownIncident) as exc:
            return web.json_response({"error": public(str(exc))}, status=404)
        except NotAllowed as exc:
            return web.json_response({"error": public(str(exc))}, status=403)
        except (LifecycleRefused, ConflictError) as exc:
            return web.json_response({"error": public(str(exc))}, status=409)
        except BroadcasterError as exc:
            return web.json_response({"error": public(str(exc))}, status=422)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            headers = {k: v for k, v in exc.headers.items() if k not in _DROPPED_HEADERS}
            return web.json_response(
                {"error": public(exc.text or exc.reason)}, status=exc.status, headers=headers
            )

    return errors


class _PublicWording:
    """A message as a caller of the API may see it: no secrets, no server paths."""

    def __init__(self, directory_path: Path) -> None:
        self._paths = [str(directory_path)]  # resolved when the directory was loaded

    def __call__(self, message: str) -> str:
        text = SCRUBBER.scrub(message)
        for path in self._paths:
            text = text.replace(path, "the practice directory")
        return _ABSOLUTE_PATH.sub(lambda m: Path(m.group(0)).name, text)
