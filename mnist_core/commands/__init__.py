"""The command line (``python -m mnist_core``) and the studies it runs."""
