"""Who receives what: the practice directory file (practices, their endpoints and provider
routes) and audiences (all, groups, ODS codes).

May import core and config (the YAML reader, settings, the provider names a channel may
use); nothing above.
"""
