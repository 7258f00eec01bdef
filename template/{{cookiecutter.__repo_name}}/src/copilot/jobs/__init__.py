"""Long-running analysis jobs: the queue interface, its backends, the job store and the runner."""

from copilot.jobs.base import BACKENDS, Handler, JobMessage, JobQueue, QueueUnavailable, create_queue

__all__ = ["BACKENDS", "Handler", "JobMessage", "JobQueue", "QueueUnavailable", "create_queue"]
