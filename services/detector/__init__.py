"""detector service."""
