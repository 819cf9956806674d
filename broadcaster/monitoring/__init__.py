"""Incidents raised and resolved by machines: an alert in one common form (alerts), read from
each monitor's webhook payload (payloads: Prometheus Alertmanager, Uptime Kuma, the generic
form), and acted on once per cause (alert_actions): a firing alert opens an incident, a changed
one updates it, a resolved one resolves it, a repeat changes nothing.

May import core, config, directory, content, runbooks, store and incidents; used by web and cli.
"""
