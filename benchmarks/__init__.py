"""Speed and memory of tinygrad_np against hand-derived NumPy and PyTorch (``run.py``)."""
