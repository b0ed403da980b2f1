"""mnist_core: everything the MNIST lesson dashboard computes, with no UI inside.

The layout is the architecture:

- ``engine``: data, networks, augmentation, the training loop, evaluation, run folders
  and the job queue: what trains and scores a model.
- ``lesson``: the steps registry (each step's network, recipe and Target / Results /
  Analysis) and the reports built from the shipped runs.
- ``explain``: what looks at a trained network: receptive fields and inference on a
  drawn or uploaded digit.
- ``commands``: the command line (``python -m mnist_core``) and the studies it runs
  (seeds, schedules, speed).
"""
