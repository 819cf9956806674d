"""What patients may see, outside the service: the published view of incidents (published), and
its forms: status pages (pages), Atom feeds (feeds), CAP 1.2 alerts (cap), the practice-website
banner (banner), the whole site as files (site), its HTTP routes (routes) and the copy written to
a folder or an S3-compatible bucket (publish).

Only published holds the rule of what is public; every form reads the view it builds, which
never carries recipients, staff emails, checklists, credentials or the audit trail.

May import core, config, directory, content (placeholders, status labels), store and the
incidents' read side; used by web and cli.
"""
