"""The core every other package shares: delivery and incident models, send outcomes, the channel
contract adapters implement, the spec each provider describes itself with (provider_spec) and
the constrained setting types its settings use, errors, the incident reference format (INC-n),
and the two text primitives every input is validated with (UK mobile numbers, control
characters).

Imports nothing else from broadcaster: everything else may import it.
"""
