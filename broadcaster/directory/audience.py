"""Who an incident is for: all practices, some groups (PCN, locality), or chosen ODS codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from broadcaster.core.errors import AudienceError
from broadcaster.directory.practices import Directory, Practice


@dataclass(frozen=True, slots=True)
class Audience:
    everyone: bool = False
    groups: tuple[str, ...] = ()
    ods_codes: tuple[str, ...] = field(default=())

    @classmethod
    def parse(cls, *, everyone: bool, groups: list[str], ods_codes: list[str]) -> Audience:
        if not (everyone or groups or ods_codes):
            raise AudienceError(
                "say who the incident is for: --all, --group NAME (PCN or locality) or --ods CODE"
            )
        if everyone and (groups or ods_codes):
            raise AudienceError("--all cannot be combined with --group or --ods")
        codes = tuple(dict.fromkeys(c.strip().upper() for c in ods_codes))
        return cls(everyone=everyone, groups=tuple(dict.fromkeys(groups)), ods_codes=codes)

    def to_json(self) -> dict[str, Any]:
        return {"all": self.everyone, "groups": list(self.groups), "ods": list(self.ods_codes)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        return cls(
            everyone=bool(data.get("all")),
            groups=tuple(data.get("groups", ())),
            ods_codes=tuple(data.get("ods", ())),
        )

    def describe(self) -> str:
        if self.everyone:
            return "all practices"
        parts = [f"group {g}" for g in self.groups] + list(self.ods_codes)
        return ", ".join(parts)

    def select(self, directory: Directory) -> list[Practice]:
        """The practices this audience names, in directory order; unknown names are an error."""
        if self.everyone:
            return list(directory.practices)
        known_groups, by_ods = directory.groups(), directory.by_ods()
        unknown = [f"group {g!r}" for g in self.groups if g not in known_groups]
        unknown += [f"ODS code {c}" for c in self.ods_codes if c not in by_ods]
        if unknown:
            raise AudienceError(
                f"{', '.join(unknown)} not found in {directory.path}; "
                f"known groups: {', '.join(sorted(known_groups)) or 'none'}"
            )
        wanted_groups, wanted_codes = set(self.groups), set(self.ods_codes)
        return [
            p for p in directory.practices if p.ods in wanted_codes or wanted_groups.intersection(p.groups)
        ]
