"""Frozen copies of code whose outputs the current code must reproduce exactly."""
