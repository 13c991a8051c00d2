"""Celery app, beat schedule and thin tasks."""
