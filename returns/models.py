"""returns: its features arrive with their own issue.

The app is registered now so that its migrations, admin and tests have a home."""
