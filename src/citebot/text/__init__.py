"""Text shared by every stage: the one tokenizer and temporal expressions."""
