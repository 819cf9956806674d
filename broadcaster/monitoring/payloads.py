"""Each monitor's webhook payload read into alerts: Prometheus Alertmanager (webhook version 4),
Uptime Kuma, and the generic form documented in the README.

Alertmanager's and Uptime Kuma's payloads carry more than is read here (they grow between
versions), so unknown fields are ignored; the generic form is ours, so it is strict. What an
alert is for comes from its labels (Alertmanager), the monitor's tags or the webhook URL's query
(Uptime Kuma), or the body (generic): `ods` (comma-separated ODS codes), `group`, `runbook`;
`policy` (`open`: send at once; `draft`: wait for a person to confirm); the webhook URL's query
gives defaults for all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from broadcaster.core.models import AlertPolicy
from broadcaster.monitoring.alerts import Alert, split_list

_LOOSE = ConfigDict(extra="ignore")
_STRICT = ConfigDict(extra="forbid", strict=True)
Text = Annotated[str, Field(max_length=2000)]
Key = Annotated[str, Field(min_length=1, max_length=200)]


class AlertmanagerAlert(BaseModel):
    model_config = _LOOSE

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    startsAt: str = ""  # noqa: N815  # Alertmanager's field name
    endsAt: str = ""  # noqa: N815
    fingerprint: Key


class AlertmanagerPayload(BaseModel):
    """https://prometheus.io/docs/alerting/latest/configuration/#webhook_config"""

    model_config = _LOOSE

    version: str = "4"
    status: Literal["firing", "resolved"]
    alerts: Annotated[list[AlertmanagerAlert], Field(max_length=1000)]
    commonLabels: dict[str, str] = {}  # noqa: N815


class KumaHeartbeat(BaseModel):
    model_config = _LOOSE

    status: int  # 0 down, 1 up, 2 pending, 3 maintenance
    msg: str = ""
    time: str = ""


class KumaTag(BaseModel):
    model_config = _LOOSE

    name: str
    value: str | None = None


class KumaMonitor(BaseModel):
    model_config = _LOOSE

    id: int | None = None
    name: Annotated[str, Field(min_length=1, max_length=200)]
    url: str | None = None
    tags: list[KumaTag] = []


class KumaPayload(BaseModel):
    """Uptime Kuma's webhook notification (JSON body): `heartbeat` and `monitor` are null for
    the Test button's message."""

    model_config = _LOOSE

    heartbeat: KumaHeartbeat | None = None
    monitor: KumaMonitor | None = None
    msg: str = ""


class GenericAlert(BaseModel):
    """The generic form: one alert, `key` naming its cause."""

    model_config = _STRICT

    key: Key
    status: Literal["firing", "resolved"]
    ods: Annotated[list[Annotated[str, Field(max_length=16)]], Field(max_length=10000)] = []
    group: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    runbook: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    fields: dict[str, Text] = {}
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    message: Text | None = None
    policy: AlertPolicy | None = None


def alertmanager_alerts(payload: AlertmanagerPayload, query: Mapping[str, str]) -> list[Alert]:
    out = []
    for alert in payload.alerts:
        labels = {**payload.commonLabels, **alert.labels}
        values = {**labels, **alert.annotations}
        out.append(
            Alert(
                source="alertmanager",
                # A `cause` label groups several alerts (one per target) into one incident.
                cause_key=f"alertmanager:{labels.get('cause') or alert.fingerprint}",
                firing=alert.status == "firing",
                ods=split_list([labels.get("ods") or query.get("ods")]),
                groups=split_list([labels.get("group") or query.get("group")]),
                runbook=labels.get("runbook") or alert.annotations.get("runbook") or query.get("runbook"),
                fields=values,
                title=alert.annotations.get("title") or alert.annotations.get("summary"),
                message=alert.annotations.get("message"),
                episode=alert.startsAt,
                policy=labels.get("policy") or query.get("policy"),
            )
        )
    return out


def uptime_kuma_alerts(payload: KumaPayload, query: Mapping[str, str]) -> list[Alert]:
    """Down (0) fires, up (1) resolves; pending, maintenance and the Test button do nothing."""
    beat, monitor = payload.heartbeat, payload.monitor
    if beat is None or monitor is None or beat.status not in (0, 1):
        return []
    tags = {t.name: t.value or "" for t in monitor.tags}
    values = {**{k: v for k, v in query.items() if k not in ("ods", "group", "runbook", "policy")}, **tags}
    return [
        Alert(
            source="uptime-kuma",
            cause_key=f"uptime-kuma:{tags.get('cause') or query.get('cause') or monitor.id or monitor.name}",
            firing=beat.status == 0,
            ods=split_list([tags.get("ods") or query.get("ods")]),
            groups=split_list([tags.get("group") or query.get("group")]),
            runbook=tags.get("runbook") or query.get("runbook"),
            fields=values,
            title=tags.get("title") or query.get("title"),
            message=tags.get("message") or query.get("message"),
            policy=tags.get("policy") or query.get("policy"),
        )
    ]


def generic_alerts(body: GenericAlert, query: Mapping[str, str]) -> list[Alert]:
    return [
        Alert(
            source="generic",
            cause_key=f"generic:{body.key}",
            firing=body.status == "firing",
            ods=split_list([*body.ods] if body.ods else [query.get("ods")]),
            groups=split_list([body.group or query.get("group")]),
            runbook=body.runbook or query.get("runbook"),
            fields=body.fields,
            title=body.title,
            message=body.message,
            policy=body.policy.value if body.policy is not None else query.get("policy"),
        )
    ]
