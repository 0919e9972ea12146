"""A neural span reader trained here on SQuAD (see scripts/train_neural.py)."""
