"""Inspection-image classification: synthetic data, the CNN, training and serving."""
