"""Retrieval-augmented answers over the plant's maintenance documents."""
