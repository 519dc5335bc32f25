"""The `deepfakestream` command line."""
