"""Load a YAML file keeping where each value came from, so errors can name the line."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent

from broadcaster.core.errors import FileProblem


class YamlDocument:
    """A parsed file, and (on demand) where each of its values came from.

    `data` comes from the fast safe loader (libyaml-backed with ruamel.yaml.clib): a directory
    of 6,500 practices parses in under 2 s instead of 10. Only when a problem needs a line number
    is the text parsed again by the slower round-trip loader, which remembers lines.
    """

    def __init__(self, path: Path, text: str, data: Any) -> None:
        self.path, self.data, self._text = path, data, text

    @cached_property
    def _located(self) -> Any:
        return YAML(typ="rt").load(self._text)

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """1-based line of the deepest part of `loc` that exists in the document."""
        root = self._located
        node, line = root, None
        for key in loc:
            try:
                if isinstance(node, CommentedMap) and key in node:
                    line = node.lc.key(key)[0] + 1
                    node = node[key]
                elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
                    line = node.lc.item(key)[0] + 1
                    node = node[key]
                else:
                    break
            except (KeyError, IndexError, TypeError):
                break
        if line is None and isinstance(root, CommentedMap | CommentedSeq):
            line = root.lc.line + 1
        return line


# Directories and runbooks nest four or five levels. The loaders recurse once a level (the C one
# without a guard: 50,000 levels crash the process, 500 exhaust Python's stack), so a file nested
# deeper than this is refused before it is loaded.
MAX_NESTING = 50


def load_yaml(path: Path, *, syntax_tip: str = "") -> YamlDocument | FileProblem:
    """Parse `path`, or describe why it cannot be read as a problem with its line.

    `syntax_tip` is added to a YAML syntax error (not to a duplicate key or a too-deep file).
    """
    text = _read_text(path)
    if isinstance(text, FileProblem):
        return text
    try:
        too_deep = _line_too_deep(text)
    except MarkedYAMLError as exc:
        return _syntax_problem(path, exc, syntax_tip)
    if too_deep is not None:
        return FileProblem(
            path,
            too_deep,
            "",
            f"nested more than {MAX_NESTING} levels deep, which no directory or runbook needs: "
            "look for brackets or dashes that do not close, or another file pasted in",
        )
    try:
        return YamlDocument(path, text, YAML(typ="safe").load(text))
    except MarkedYAMLError:
        pass  # libyaml's scanner refuses a few things ruamel's own accepts: let that one decide
    try:
        document = YamlDocument(path, text, None)
        document.data = document._located  # the slow parse is the data here
    except MarkedYAMLError as exc:
        return _syntax_problem(path, exc, syntax_tip)
    return document


def _read_text(path: Path) -> str | FileProblem:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return FileProblem(path, None, "", "file not found; check the path in your settings")
    except (OSError, UnicodeDecodeError) as exc:
        return FileProblem(path, None, "", f"cannot read the file ({exc}); save it as UTF-8 text")


def _line_too_deep(text: str) -> int | None:
    """The 1-based line where the nesting first goes past MAX_NESTING, if it does.

    Parser events come from a state machine with a stack of its own, not from recursion, so a
    file of any depth is safe to read this way; it costs under a tenth of loading the file.
    """
    try:
        return _first_too_deep(YAML(typ="safe").parse(text))
    except MarkedYAMLError:  # as in load_yaml: ruamel's own parser has the last word
        return _first_too_deep(YAML(typ="rt").parse(text))


def _first_too_deep(events: Iterable[Any]) -> int | None:
    depth = 0
    for event in events:
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                return int(event.start_mark.line) + 1
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
    return None


_DUPLICATE_KEY = re.compile(r'found duplicate key "(.*?)" with value')


def _syntax_problem(path: Path, exc: MarkedYAMLError, tip: str) -> FileProblem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    if isinstance(exc, DuplicateKeyError):  # valid syntax, so no tip about writing it
        key = _DUPLICATE_KEY.search(exc.problem or "")
        named = f'"{key.group(1)}"' if key else "a key"
        return FileProblem(path, line, "", f"{named} is given twice in the same block: keep one of them")
    message = f"not valid YAML: {exc.problem or exc.context}"
    return FileProblem(path, line, "", f"{message}; {tip}" if tip else message)


def problems_from(
    doc: YamlDocument,
    exc: ValidationError,
    where: Callable[[YamlDocument, tuple[str | int, ...]], str],
) -> list[FileProblem]:
    """One FileProblem per validation error, with its line, in file order."""
    problems = [
        FileProblem(doc.path, doc.line_of(loc), where(doc, loc), message)
        for loc, message in describe_validation_error(exc)
    ]
    return sorted(problems, key=lambda p: p.line or 0)


def describe_validation_error(exc: ValidationError) -> list[tuple[tuple[str | int, ...], str]]:
    """(location, readable message) for each pydantic error, without echoing input values twice."""
    described = []
    for error in exc.errors(include_url=False, include_input=False):
        message = _FRIENDLIER.get(error["type"], error["msg"])
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        described.append((tuple(error["loc"]), message))
    return described


# pydantic's wording, said the way a practice manager editing the file would want it.
_FRIENDLIER = {
    "extra_forbidden": "unknown field: check its spelling and indentation against the documented format",
    "missing": "required field is missing",
}


def dotted(loc: Sequence[str | int]) -> str:
    """("sms", "recipients", 1) -> "sms.recipients[1]"."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
