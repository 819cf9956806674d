"""How the service is configured: settings from the environment, .env and the secrets directory,
secret references, logging and its scrubber, the shipped files, and the YAML reader that every
operator-edited file goes through.

May import core only.
"""
