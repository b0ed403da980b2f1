"""The explainers: what looks at a trained network (a measured receptive field, what each layer
makes of a digit, attributions, projections, a drawn or photographed digit and what the model saw)."""
