"""Who may do what: users (passwords, second factor, recovery codes), API tokens, the roles and
their permissions (permissions: `Principal`, `Action`, `Role`), the slowing and locking of failed
sign-ins (sign_in_throttle), and the server's key for cookies and stored TOTP secrets (server_keys).

May import core, config and store; used by cli and web. Knows nothing of HTTP.
"""
