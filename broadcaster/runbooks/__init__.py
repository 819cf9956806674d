"""Pre-approved incident templates: loading them (templates) and checking every one against every
practice and status (check, for CI and `broadcaster runbooks check`).

May import core, config, directory and content.
"""
