"""Incidents raised and resolved by machines: an alert in one common form (alerts), read from
each monitor's webhook payload (payloads: Prometheus Alertmanager, Uptime Kuma, the generic
form), and acted on once per cause (alert_actions): a firing alert opens an incident, a changed
one updates it, a resolved one resolves it, a repeat changes nothing; the directory's health
checks (probes, health_checks) acted on the same way; and the heartbeat to an external dead
man's switch while this process could send (heartbeat).

May import core, config, directory, content, runbooks, store, delivery (the dispatcher's health,
for the heartbeat) and incidents; used by web and cli.
"""
