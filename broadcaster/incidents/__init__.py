"""The incident lifecycle as callers see it: open, update, resolve and reopen (service), the rules
of which update may follow which (lifecycle).

May import core, config, directory, content, runbooks and store; used by cli and web.
"""
