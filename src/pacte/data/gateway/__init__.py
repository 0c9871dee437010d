"""The data gateway: one bearer token per grant, one tier per call, every call in the journal.

* ``access``: authenticate a token, check a call against its grant, log the call;
* ``aggregates``: tier 3, differentially private aggregates (OpenDP) with the budget reserved first;
* ``extracts``: tiers 1 and 2, open and pseudonymised extracts;
* ``secure_room``: tier 4, restricted aggregate SQL with disclosure control;
* ``reader``: the typed read other domains use (``pacte.data.ports.GATEWAY``).
"""
