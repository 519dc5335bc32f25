"""Celery worker application and the shell shared by all job tasks."""
