"""The lesson: the steps' story, the target, the schedules Step 4 chose from, and the reports built
from the shipped runs."""
