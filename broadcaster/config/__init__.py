"""How the service is configured: settings from the environment, .env and the secrets directory,
secret references, logging and its scrubber, the shipped files, the YAML reader that every
operator-edited file goes through, and the list of providers (providers) that Settings, the
directory and delivery all read.

May import core, and the providers' spec modules (channels/*/spec.py) from providers only: those
import core alone, so the settings never load an adapter.
"""
