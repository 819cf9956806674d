"""The HTTP API: routes and handlers (api), the token gate and wrong-token throttle (auth),
strict request bodies (bodies), refusals as JSON 4xx (errors), the monitors' webhooks
(hook_routes), and the phone console (console/).

The top layer beside cli: may import anything below; nothing imports it but the CLI's `serve`.
"""
