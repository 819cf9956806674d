"""Each published update as a CAP 1.2 alert (OASIS Common Alerting Protocol), for systems that
relay public warnings.

The opening message is an Alert; a later update an Update, and the resolving one a Cancel (with
an AllClear response), each referencing every earlier alert of the incident. Practices given the
same words share one <info>; each practice is an <area> named by practice and postcode. Times
carry a numeric offset: the CAP 1.2 schema refuses "Z".
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from broadcaster.core.models import IncidentStatus, Severity
from broadcaster.public.published import PublicIncident, PublicPractice, PublicUpdate
from broadcaster.public.times import machine

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
INSTRUCTION = (
    "For urgent medical help use NHS 111 online (111.nhs.uk) or call 111. In an emergency call 999. "
    "A pharmacist can help with many minor illnesses."
)
ET.register_namespace("", CAP_NAMESPACE)  # CAP readers expect the default namespace, not ns0:
# CAP severities are about threat to life and property: a practice outage is at most Severe.
_SEVERITY = {
    Severity.CRITICAL: "Severe",
    Severity.MAJOR: "Moderate",
    Severity.MINOR: "Minor",
    Severity.INFO: "Minor",
}


def alert_identifier(incident: PublicIncident, update: PublicUpdate) -> str:
    return f"{incident.ref}.{update.seq}"


def cap_alert(
    incident: PublicIncident, update: PublicUpdate, *, sender: str, sender_name: str, root: str
) -> bytes:
    """The CAP 1.2 <alert> for one update of a published incident."""
    alert = ET.Element(_q("alert"))
    _add(alert, "identifier", alert_identifier(incident, update))
    _add(alert, "sender", sender)
    _add(alert, "sent", machine(update.at))
    _add(alert, "status", "Actual")  # exercises are never published (published.is_public)
    _add(alert, "msgType", _msg_type(update))
    _add(alert, "scope", "Public")
    earlier = [u for u in incident.updates if u.seq < update.seq]
    if earlier:
        refs = " ".join(f"{sender},{alert_identifier(incident, u)},{machine(u.at)}" for u in earlier)
        _add(alert, "references", refs)
    _add(alert, "incidents", incident.ref)
    by_text: dict[str, list[PublicPractice]] = {}
    for practice in incident.practices:
        by_text.setdefault(update.texts.get(practice.ods, ""), []).append(practice)
    for text, practices in by_text.items():
        _info(alert, incident, update, text, practices, sender_name=sender_name, root=root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + bytes(ET.tostring(alert, encoding="utf-8"))


def _info(
    alert: ET.Element,
    incident: PublicIncident,
    update: PublicUpdate,
    text: str,
    practices: list[PublicPractice],
    *,
    sender_name: str,
    root: str,
) -> None:
    resolved = update.status is IncidentStatus.RESOLVED
    info = ET.SubElement(alert, _q("info"))
    _add(info, "language", "en-GB")
    _add(info, "category", "Health")
    _add(info, "event", incident.title)
    if resolved:
        _add(info, "responseType", "AllClear")
    _add(info, "urgency", "Past" if resolved else "Immediate")
    _add(info, "severity", "Minor" if resolved else _SEVERITY[incident.severity])
    _add(info, "certainty", "Observed")
    _add(info, "senderName", sender_name)
    _add(info, "headline", f"{update.label}: {incident.title}"[:160])
    _add(info, "description", text)
    _add(info, "instruction", INSTRUCTION)
    page = f"{root}/status/{practices[0].ods}/" if len(practices) == 1 else f"{root}/status/"
    _add(info, "web", page)
    for practice in practices:
        area = ET.SubElement(info, _q("area"))
        _add(
            area, "areaDesc", f"{practice.name}, {practice.postcode}" if practice.postcode else practice.name
        )
        if practice.postcode:
            geocode = ET.SubElement(area, _q("geocode"))
            _add(geocode, "valueName", "postcode")
            _add(geocode, "value", practice.postcode)


def _msg_type(update: PublicUpdate) -> str:
    if update.seq == 0:
        return "Alert"
    return "Cancel" if update.status is IncidentStatus.RESOLVED else "Update"


def _q(name: str) -> str:
    return f"{{{CAP_NAMESPACE}}}{name}"


def _add(parent: ET.Element, name: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, _q(name))
    element.text = text
    return element
