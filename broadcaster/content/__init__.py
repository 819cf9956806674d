"""What a message says and whether it may be sent: rendering per channel and update, runbook
placeholders, SMS encoding and segments, per-channel limits, the confidentiality and size checks,
and the dry-run preview.

Pure functions of text, practices and settings; may import core, config and directory (for the
practices a message is rendered for). Never the store, delivery or any adapter.
"""
