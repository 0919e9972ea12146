"""The reader: from retrieved passages to the span that answers, and how sure it is."""
