"""The engine: data, networks, augmentation, the training loop, evaluation, run folders and the job queue."""
