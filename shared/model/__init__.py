"""The detection model: network definition, checkpoints (model cards) and inference wrappers."""
