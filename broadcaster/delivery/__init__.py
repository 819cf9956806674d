"""Getting queued messages out: the dispatcher (claim, send, retry per provider route), the result
writer and its outcome stream, the retry policy, the registry that builds each route's adapter
from its spec, the checks made before sending, and the runtime that wires one process together.

May import core, config, directory, content (the reference marker), store and channels.
"""
