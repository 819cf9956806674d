"""What the web app holds for its handlers: the store, the service, settings, the dispatcher and
the directory. Apart from api.py, so the console's handlers and the API's share them without
importing each other."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import Settings
from broadcaster.delivery.dispatcher import Dispatcher
from broadcaster.directory.practices import Directory
from broadcaster.incidents.service import IncidentService

ENGINE = web.AppKey("engine", AsyncEngine)
SERVICE = web.AppKey("service", IncidentService)
SETTINGS = web.AppKey("settings", Settings)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
DIRECTORY = web.AppKey("directory", Directory)
