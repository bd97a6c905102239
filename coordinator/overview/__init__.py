"""The office's day: the start page (what is due, per role), the weekly digest and `coordinator digest`."""
