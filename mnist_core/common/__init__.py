"""What every layer may use: atomic file writes and counted nouns. Imports nothing of the project."""
