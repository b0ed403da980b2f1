"""mnist_core: everything the MNIST lesson dashboard computes, with no UI inside.

The layout is the architecture; each package imports only those below it (``lint-imports``
holds this, from ``pyproject.toml``):

- ``commands``: the command line (``python -m mnist_core``) and the studies it runs
  (seeds, schedules, speed, a class rehearsal).
- ``classroom``: serving a class: the job queue and its fairness, who is who, the
  backends that train (a worker here, or Ray) and the live feed a page follows.
- ``lesson``: the steps' story (Target / Results / Analysis), the target itself, and the
  reports built from the shipped runs.
- ``explain``: what looks at a trained network: a measured receptive field, what each
  layer makes of a digit, attributions, projections, a drawn or photographed digit.
- ``runs``: the run store on disk: a run's folder and the checks of its files,
  checkpoints, heartbeats and mistakes.
- ``engine``: training a network: data, the layer-spec language, receptive-field
  arithmetic, designs, networks, each step's recipe, augmentation, the loop, evaluation.
- ``common``: atomic file writes and counted nouns.

``classroom``, ``lesson`` and ``explain`` sit side by side and do not import each other.
"""
