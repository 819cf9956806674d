"""Any service apprise supports, and texts through an apprise SMS URL: the adapter run in a
thread pool we own (channel) and its routes, settings and factory (spec)."""
