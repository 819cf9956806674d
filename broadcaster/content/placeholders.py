"""`{placeholder}` templates: find the names a text uses and fill them for one practice.

Only bare names are allowed (`{alt_phone}`): no attribute access, indexing or format specs,
so a template can never reach into Python objects. `{{` and `}}` are literal braces.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_FORMATTER = string.Formatter()


class TemplateSyntaxError(ValueError):
    pass


def placeholders_in(template: str) -> list[str]:
    """Names used by `template`, in order of first use; raises TemplateSyntaxError if malformed."""
    names: list[str] = []
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise TemplateSyntaxError(f"{exc}; write literal braces as {{{{ and }}}}") from None
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if spec or conversion or not _NAME.match(name):
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise TemplateSyntaxError(
                f"{shown} is not a placeholder: use lower_case names like {{alt_phone}}"
            )
        if name not in names:
            names.append(name)
    return names


def fill(template: str, values: Mapping[str, str]) -> str:
    """Fill every placeholder; the caller has already checked that none is missing."""
    return template.format_map(values)
