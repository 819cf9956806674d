"""Runbooks: pre-approved incident templates, read from YAML and turned into an update's texts.

The format is documented for comms teams in docs/runbooks.md. A runbook fills its own FIELDS
(what the sender types: "which systems", "next update by") and leaves practice placeholders
(`{alt_phone}`) for broadcaster.content.render to fill per practice.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from broadcaster.config.yaml_source import YamlDocument, describe_validation_error, dotted, load_yaml
from broadcaster.content.channel_limits import SMS_DEFAULT_MAX_SEGMENTS, SMS_MAX_SEGMENTS
from broadcaster.content.placeholders import TemplateSyntaxError, placeholders_in
from broadcaster.content.render import ChannelTexts
from broadcaster.core.errors import ContentRefused, FileProblem, RunbookError
from broadcaster.core.models import IncidentStatus, Severity
from broadcaster.directory.practices import BUILT_IN_PLACEHOLDERS

# The practice placeholders a runbook may use without being told about more (docs/runbooks.md).
STANDARD_PRACTICE_PLACEHOLDERS = {
    "alt_phone": "a phone number that is answered when the usual line is not",
    "website": "the practice website address",
    "address": "the practice's address",
    "opening_hours": "when the practice is open, in words",
}
CHECKLIST_HEADING = "What to do now:"
# The two YAML traps of texts: ": " starts a "name: value" pair, a leading "{" a mapping.
_QUOTING_TIP = (
    'a ": " or a leading "{" in a text confuses YAML: write the text as a |- or >- block, '
    "or in double quotes (docs/runbooks.md)"
)
RUNBOOK_SUFFIX = ".yaml"
_RUNBOOK_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")  # it names the runbook on the CLI
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_FORMATTER = string.Formatter()
Loc = tuple[str | int, ...]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class FieldSpec(_Strict):
    prompt: Text
    example: Text  # also what `runbooks check` renders with, so make it realistically long
    default: Text | None = None  # used when the sender gives no value; without one, a value is required


class StatusTexts(_Strict):
    sms: Text
    facebook: Text
    email: Text
    staff_checklist: Annotated[list[Text], Field(min_length=1)]


class StatusMessages(_Strict):
    investigating: StatusTexts
    identified: StatusTexts
    monitoring: StatusTexts
    resolved: StatusTexts


class RunbookFile(_Strict):
    title: Text
    severity: Severity
    summary: Text
    sms_segments: Annotated[int, Field(ge=1, le=SMS_MAX_SEGMENTS)] = SMS_DEFAULT_MAX_SEGMENTS
    fields: dict[str, FieldSpec] = {}
    messages: StatusMessages


class MissingFieldValues(ContentRefused):
    """A runbook was used without a value for a field its texts need (or with an unknown one)."""

    def __init__(self, runbook: str, missing: Mapping[str, FieldSpec], unknown: list[str]) -> None:
        self.runbook, self.missing, self.unknown = runbook, dict(missing), unknown
        lines = [
            f'  --field {name}="..."  {spec.prompt} (for example: {spec.example})'
            for name, spec in missing.items()
        ]
        if unknown:
            lines.append(f"  not fields of this runbook: {', '.join(unknown)}")
        super().__init__(
            f'runbook "{runbook}" needs a value for each of these fields; '
            "nothing was sent:\n" + "\n".join(lines)
        )


@dataclass(frozen=True, slots=True)
class Runbook:
    name: str  # the file name without .yaml: "cyber-attack"
    spec: RunbookFile
    document: YamlDocument = field(repr=False, compare=False)

    @property
    def path(self) -> Path:
        return self.document.path

    def messages(self, status: IncidentStatus) -> StatusTexts:
        texts: StatusTexts = getattr(self.spec.messages, status.value)
        return texts

    def example_fields(self) -> dict[str, str]:
        return {name: spec.example for name, spec in self.spec.fields.items()}

    def templates(self, status: IncidentStatus | None = None) -> list[tuple[Loc, str]]:
        """(where in the file, template) for a status's texts, or the title if status is None."""
        if status is None:
            return [(("title",), self.spec.title)]
        texts, at = self.messages(status), ("messages", status.value)
        found: list[tuple[Loc, str]] = [
            ((*at, "sms"), texts.sms),
            ((*at, "facebook"), texts.facebook),
            ((*at, "email"), texts.email),
        ]
        return found + [((*at, "staff_checklist", i), item) for i, item in enumerate(texts.staff_checklist)]

    def fields_used(self, status: IncidentStatus | None = None) -> list[str]:
        """The fields a status's texts (or, with no status, the title) need a value for."""
        used = {n for _, t in self.templates(status) for n in placeholders_in(t)}
        return [name for name in self.spec.fields if name in used]

    def title_for(self, fields: Mapping[str, str]) -> str:
        values = self._values_for(None, fields)
        return "".join(
            literal + (values[name] if name else "")
            for literal, name, _, _ in _FORMATTER.parse(self.spec.title)
        )

    def texts_for(self, status: IncidentStatus, fields: Mapping[str, str]) -> ChannelTexts:
        """This status's texts with fields filled and practice placeholders left for render."""
        values, texts = self._values_for(status, fields), self.messages(status)
        facebook = fill_fields(texts.facebook, values)
        checklist = "\n".join(f"- {fill_fields(item, values)}" for item in texts.staff_checklist)
        return ChannelTexts(
            sms=fill_fields(texts.sms, values),
            facebook=facebook,
            email_body=f"{fill_fields(texts.email, values)}\n\n{CHECKLIST_HEADING}\n{checklist}",
            plain=facebook,  # other channels may be public (X): patient wording is safe anywhere
        )

    def problem(self, loc: Loc, message: str) -> FileProblem:
        return FileProblem(self.path, self.document.line_of(loc), dotted(loc), message)

    def _values_for(self, status: IncidentStatus | None, given: Mapping[str, str]) -> dict[str, str]:
        defaults = {name: spec.default for name, spec in self.spec.fields.items() if spec.default}
        values = {**defaults, **{name: value.strip() for name, value in given.items() if value.strip()}}
        unknown = sorted(name for name in given if name not in self.spec.fields)
        missing = {name: self.spec.fields[name] for name in self.fields_used(status) if not values.get(name)}
        if missing or unknown:
            raise MissingFieldValues(self.name, missing, unknown)
        return values


def fill_fields(template: str, values: Mapping[str, str]) -> str:
    """Fill the placeholders named in `values`; keep the rest, and all braces, for render.fill."""
    out = []
    for literal, name, _spec, _conversion in _FORMATTER.parse(template):
        out.append(_escape_braces(literal))
        if name is not None:
            # A typed value is text, never a template: "{alt_phone}" in it stays as typed.
            out.append(_escape_braces(values[name]) if name in values else f"{{{name}}}")
    return "".join(out)


def _escape_braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def load_runbook(path: Path) -> Runbook:
    """Read and validate one runbook; raise RunbookError listing every problem with its line."""
    runbook, problems = _read(path)
    if runbook is None or problems:
        raise RunbookError(problems)
    return runbook


def load_runbooks(folder: Path) -> dict[str, Runbook]:
    """Every runbook in `folder` by name; raise RunbookError if any file has a problem."""
    runbooks, problems = read_runbooks(folder)
    if problems:
        raise RunbookError(problems)
    return runbooks


def read_runbooks(folder: Path) -> tuple[dict[str, Runbook], list[FileProblem]]:
    """The runbooks that are valid, and the problems of those that are not."""
    if not folder.is_dir():
        return {}, [FileProblem(folder, None, "", "no such folder; check the runbooks path")]
    runbooks, problems = {}, []
    for path in sorted(folder.iterdir()):
        if path.suffix == ".yml":
            rename = f"rename it to end in {RUNBOOK_SUFFIX}: only those are read as runbooks"
            problems.append(FileProblem(path, None, "", rename))
        if path.suffix != RUNBOOK_SUFFIX:
            continue
        runbook, found = _read(path)
        problems += found
        if runbook is not None and not found:
            runbooks[runbook.name] = runbook
    if not runbooks and not problems:
        problems.append(FileProblem(folder, None, "", f"no runbooks (*{RUNBOOK_SUFFIX}) found"))
    return runbooks, problems


def _read(path: Path) -> tuple[Runbook | None, list[FileProblem]]:
    loaded = load_yaml(path, syntax_tip=_QUOTING_TIP)
    if isinstance(loaded, FileProblem):
        return None, [loaded]
    try:
        spec = RunbookFile.model_validate(loaded.data if loaded.data is not None else {})
    except ValidationError as exc:
        return None, _validation_problems(loaded, exc)
    runbook = Runbook(name=path.stem, spec=spec, document=loaded)
    problems = _template_problems(runbook)
    if not problems:  # field checks need every template readable
        problems = _field_problems(runbook)
    if not _RUNBOOK_NAME.match(runbook.name) or len(runbook.name) > 64:
        rename = "name the file in lower-case words joined by hyphens (cyber-attack.yaml)"
        problems.insert(0, FileProblem(path, None, "file name", rename))
    return runbook, sorted(problems, key=lambda p: p.line or 0)


def _validation_problems(doc: YamlDocument, exc: ValidationError) -> list[FileProblem]:
    problems = []
    for (loc, said), error in zip(describe_validation_error(exc), exc.errors(), strict=True):
        message = said
        if len(loc) == 2 and loc[0] == "messages" and error["type"] == "missing":
            message = f"status {loc[1]} is missing: {', '.join(IncidentStatus)} all need texts"
        elif error["type"] == "string_type" and isinstance(_value_at(doc, loc), dict):
            message = f"this text was read as 'name: value' pairs; {_QUOTING_TIP}"
        where = dotted(loc) or "top level"
        problems.append(FileProblem(doc.path, doc.line_of(loc), where, message))
    return sorted(problems, key=lambda p: p.line or 0)


def _value_at(doc: YamlDocument, loc: Loc) -> object:
    value: Any = doc.data  # whatever the YAML held: only read, to explain an error
    for key in loc:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _template_problems(runbook: Runbook) -> list[FileProblem]:
    problems = []
    for status in (None, *IncidentStatus):
        for loc, template in runbook.templates(status):
            try:
                names = placeholders_in(template)
            except TemplateSyntaxError as exc:
                problems.append(runbook.problem(loc, f"broken placeholder: {exc}"))
                continue
            if status is None and (outside := [n for n in names if n not in runbook.spec.fields]):
                shared = "it is shared by every practice and is the email subject"
                message = f"the title may only use this runbook's fields, not {braced(outside)}"
                problems.append(runbook.problem(loc, f"{message}: {shared}"))
    return problems


def _field_problems(runbook: Runbook) -> list[FileProblem]:
    taken = set(BUILT_IN_PLACEHOLDERS) | set(STANDARD_PRACTICE_PLACEHOLDERS)
    used = {n for status in (None, *IncidentStatus) for n in runbook.fields_used(status)}
    problems = []
    for name in runbook.spec.fields:
        if not _FIELD_NAME.match(name):
            problems.append(runbook.problem(("fields", name), "field names are lower_case_words"))
        elif name in taken:
            message = f"{name} is a practice placeholder; give the field another name"
            problems.append(runbook.problem(("fields", name), message))
        elif name not in used:
            message = f"no text uses this field: use it as {braced([name])} or remove it"
            problems.append(runbook.problem(("fields", name), message))
    return problems


def braced(names: list[str]) -> str:
    """["alt_phone", "website"] -> "{alt_phone}, {website}", as a reader would type them."""
    return ", ".join(f"{{{name}}}" for name in names)
