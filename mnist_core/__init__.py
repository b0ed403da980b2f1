"""mnist_core: everything the MNIST lesson dashboard computes, with no UI inside.

Data (``data``), the networks (``models``, ``steps``), training (``train``,
``schedule``, ``augment``), evaluation (``evaluate``), receptive fields (``rf``),
inference on drawn digits (``inference``), persisted runs and the background job
queue (``runs``, ``jobs``), and the command line (``python -m mnist_core``).
"""
