"""The HTTP API's request bodies: strict JSON models, and what to tell a caller whose body is refused.

Strict means JSON's own types only (`"all": "yes"` or `1` is not a boolean), no unknown fields
(a mistyped `"chanels"` would otherwise be dropped silently), and lists that must name something.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from broadcaster.core.models import IncidentStatus

_STRICT = ConfigDict(strict=True, extra="forbid")

# At least one character that is not white space: a blank title would give the subject "[INC-2] ".
NonBlank = Annotated[str, Field(min_length=1, pattern=r"\S")]


class AudienceBody(BaseModel):
    model_config = _STRICT

    all: bool = False
    groups: list[str] = []
    ods: list[str] = []


class UpdateBody(BaseModel):
    model_config = _STRICT

    status: IncidentStatus
    message: NonBlank
    sms: bool | None = None
    confidentiality_override: NonBlank | None = None


class ReopenBody(BaseModel):
    model_config = _STRICT

    message: NonBlank
    sms: bool | None = None  # None: texted, like the resolve it undoes
    confidentiality_override: NonBlank | None = None


class DraftDecisionBody(BaseModel):
    """`seq`: the draft the person read, refused (409) if a newer one waits; an empty body:
    whichever waits."""

    model_config = _STRICT

    seq: Annotated[int, Field(ge=0, le=2**31)] | None = None


class BodyRefused(Exception):
    """A request body that does not fit its model; `problems` name each field and what to send."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        self.problems = problems
        summary = "; ".join(f"{p['field']}: {p['problem']}" if p["field"] else p["problem"] for p in problems)
        super().__init__(f"invalid request body: {summary}")


Body = TypeVar("Body", bound=BaseModel)


def parse_body(model: type[Body], raw: bytes) -> Body:
    """The body as `model`, or BodyRefused saying what to change (never echoing input or internals)."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=True)
        raise BodyRefused([_problem(model, e) for e in errors]) from None


def _problem(model: type[BaseModel], error: ErrorDetails) -> dict[str, Any]:
    loc = list(error["loc"])
    return {"field": ".".join(str(part) for part in loc), "loc": loc, "problem": _wording(model, error)}


_FIXED_WORDING = {
    "model_type": "expected a JSON object {...}",
    "model_attributes_type": "expected a JSON object {...}",
    "dict_type": "expected a JSON object {...}",
    "missing": "is required",
    "bool_type": "must be true or false (a JSON boolean, not a string or number)",
    "string_pattern_mismatch": "must not be blank",  # the only pattern is NonBlank's
}


def _wording(model: type[BaseModel], error: ErrorDetails) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == "json_invalid":
        return f"the body is not valid JSON ({ctx.get('error', 'unreadable')}); send a JSON object"
    if kind in _FIXED_WORDING:
        return _FIXED_WORDING[kind]
    if kind == "extra_forbidden":
        known = ", ".join(_fields_at(model, error["loc"][:-1])) or "none"
        return f"unknown field; remove it (fields accepted here: {known})"
    if kind == "too_short":
        choices = _choices_at(model, error["loc"])
        return "must not be empty" + (f": name at least one of {', '.join(choices)}" if choices else "")
    # pydantic's own wording is plain English and never repeats the input or names a class.
    return str(error["msg"])


def _fields_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The field names accepted by the (nested) object at `loc`, for the unknown-field message."""
    annotation = _annotation_at(model, loc)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _choices_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The values allowed in the list of choices at `loc` (`channels`), for the empty-list message."""
    (item,) = get_args(_annotation_at(model, loc)) or (None,)
    return [str(choice) for choice in item] if isinstance(item, type) and issubclass(item, Enum) else []


def _annotation_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> Any:
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        current = field.annotation
    return current
