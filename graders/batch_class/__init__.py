"""Grading a whole class on several machines: a GitHub Actions workflow and a Kubernetes Indexed Job.

Both clone the class's repositories (by organisation and assignment prefix, with ``gh``), grade them
in N shards with ``capstone grade-batch --shard K/N`` and join the shards' gradebooks with
``capstone gradebook merge``.
"""
