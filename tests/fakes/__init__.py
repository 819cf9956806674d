"""Local stand-ins for the providers, following their documented behaviour and errors."""
