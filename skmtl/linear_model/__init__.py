"""Multi-task linear models."""
