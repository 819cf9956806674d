"""Load a YAML file keeping where each value came from, so errors can name the line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from broadcaster.errors import FileProblem


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


def load_yaml(path: Path) -> YamlDocument | FileProblem:
    """Parse `path`, or describe why it cannot be read as a problem with its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return FileProblem(path, None, "", "file not found; check the path in your settings")
    except (OSError, UnicodeDecodeError) as exc:
        return FileProblem(path, None, "", f"cannot read the file ({exc}); save it as UTF-8 text")
    try:
        return YamlDocument(path, text, YAML(typ="safe").load(text))
    except MarkedYAMLError:
        pass  # libyaml's scanner refuses a few things ruamel's own accepts: let that one decide
    try:
        document = YamlDocument(path, text, None)
        document.data = document._located  # the slow parse is the data here
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        return FileProblem(path, line, "", f"not valid YAML: {exc.problem or exc.context}")
    return document


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
