"""Reliable writes: year references from a locked counter, retry of a whole transaction on a
deadlock or a serialization failure, and ``Idempotency-Key`` for the API's POST requests."""
