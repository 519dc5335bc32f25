"""segmenter service."""
