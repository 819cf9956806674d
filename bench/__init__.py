"""Fan-out benchmark: our dispatcher against a bare aiohttp client and the apprise CLI, on local fakes."""
