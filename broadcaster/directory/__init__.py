"""Who receives what: the practice directory file (practices, their endpoints and provider
routes) and audiences (all, groups, ODS codes).

May import core and config (the YAML reader, settings); nothing above.
"""
