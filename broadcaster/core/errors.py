"""Errors that stop something before anything is sent. Each message says what to change.

    BroadcasterError
     +-- ConfigError          a setting or secret is missing or wrong
     +-- FileProblemsError    a directory or runbook file is invalid: one line per problem
     |    +-- DirectoryError
     |    +-- RunbookError
     +-- AudienceError        a group or ODS code in the audience matches nothing
     +-- ContentRefused       missing placeholder, unsafe content, over a channel's limit
     +-- UnknownIncident      no incident with that reference
     +-- LifecycleRefused     the incident's state does not allow it (resolved: reopen it first)

Remote outcomes (a provider said no) are never exceptions: see broadcaster.core.outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class BroadcasterError(Exception):
    """Something a person must fix before the broadcaster will send."""


class ConfigError(BroadcasterError):
    pass


@dataclass(frozen=True, slots=True)
class FileProblem:
    path: Path
    line: int | None  # 1-based, None when the problem is about the whole file
    where: str  # "practice Y00001 (Riverside Surgery), field sms.recipients[0]"
    message: str  # what is wrong and what to do

    def __str__(self) -> str:
        location = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{location}: {self.where}: {self.message}" if self.where else f"{location}: {self.message}"


class FileProblemsError(BroadcasterError):
    def __init__(self, problems: list[FileProblem]) -> None:
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{len(problems)} {noun}; nothing was sent:\n{lines}")


class DirectoryError(FileProblemsError):
    pass


class RunbookError(FileProblemsError):
    pass


class AudienceError(BroadcasterError):
    pass


class ContentRefused(BroadcasterError):
    pass


class UnknownIncident(BroadcasterError):
    pass


class LifecycleRefused(BroadcasterError):
    pass


class ConflictError(BroadcasterError):
    """Others kept changing the incident while this request was being written; nothing was."""


class NotAnExercise(BroadcasterError):
    """A drill report was asked for an incident that was sent for real."""
