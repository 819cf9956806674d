"""Channel readiness: would each practice's channels work now (`broadcaster readiness`, `serve`)."""
