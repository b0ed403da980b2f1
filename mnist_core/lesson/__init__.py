"""The lesson: the steps registry and the reports built from the shipped runs."""
