"""Facebook Pages through the Graph API: posting and threading (page_channel), one Graph call
with its timeout and reply (graph_call), what each Graph error means (errors), and its route,
settings and factory (spec)."""
