"""The offline stand-in for every provider: messages become files under one folder (folder),
one route per channel (spec)."""
