"""Disaster recovery for the Copilot's vector store (the RAG corpus and index inputs) and configuration.

``dr_backup.py`` writes one compressed archive with a checksum manifest; ``dr_restore.py`` verifies
an archive against its manifest and restores it in place. The playbook is docs/disaster-recovery.md.
"""
