"""Watched-directory sync, GitOps style (the only watchfiles user)."""
