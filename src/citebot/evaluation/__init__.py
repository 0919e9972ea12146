"""Evaluation: SQuAD files, their official scoring, cross-fitting and `citebot eval squad`."""
