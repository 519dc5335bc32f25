"""maintenance service."""
