"""One module per ``python -m tapinfra`` command (see ``tapinfra/__main__.py``)."""
