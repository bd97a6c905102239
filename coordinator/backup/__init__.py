"""Backup and restore: one file with the database, the secret key and the instance files that matter.

`archive` does the work (plain Python over an SQLAlchemy engine and files); `cli` holds the
`coordinator backup` and `coordinator restore` commands.
"""
