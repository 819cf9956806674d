"""The core every other package shares: delivery and incident models, send outcomes, the channel
contract adapters implement, errors, the incident reference format (INC-n), and the two text
primitives every input is validated with (UK mobile numbers, control characters).

Imports nothing else from broadcaster: everything else may import it.
"""
