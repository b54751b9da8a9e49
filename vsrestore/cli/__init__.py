"""The ``vsrestore`` command line."""
