"""Facebook Pages through the Graph API: posting and threading (page_channel), one Graph call
with its timeout and reply (graph_call), and what each Graph error means (errors)."""
