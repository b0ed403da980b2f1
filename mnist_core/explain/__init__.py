"""The explainers: what looks at a trained network (receptive fields, a drawn digit and what the model saw)."""
