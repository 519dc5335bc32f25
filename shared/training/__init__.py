"""Training and evaluation toolkit for the detection model (one network definition, shared
with serving: shared/model/network.py)."""
