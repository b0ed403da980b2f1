"""The engine: training a network. The layer-spec language (``specs``) and its receptive-field
arithmetic (``fields``), designs and networks, each step's recipe, data, augmentation, the
training loop and evaluation."""
