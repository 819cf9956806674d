"""The HTTP API: routes and handlers (api), the token gate and wrong-token throttle (auth),
strict request bodies (bodies), and refusals as JSON 4xx (errors).

The top layer beside cli: may import anything below; nothing imports it but the CLI's `serve`.
"""
