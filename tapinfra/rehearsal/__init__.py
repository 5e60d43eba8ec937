"""The deploy rehearsal: apply, re-plan, update, replace, protect and destroy a stack against
a moto server of its own, with every known emulator gap applied to a copy and reported.

``tapinfra rehearse`` runs it on a user's config; the test suite runs it through the same
:func:`tapinfra.rehearsal.runner.run_all`. moto is optional: ``pip install tapinfra[rehearse]``.
"""
