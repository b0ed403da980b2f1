"""The run store on disk: a run's folder, its files and their checks, checkpoints, heartbeats and mistakes."""
