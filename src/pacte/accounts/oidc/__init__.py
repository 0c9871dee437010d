"""FranceConnect (citizens) and ProConnect (public agents) through django-allauth's OpenID
Connect provider, with what both federations require on top of it: a ``nonce`` checked in the
ID token, the ``acr_values`` asked and checked, userinfo answered as a signed JWT, and logout
at the provider with ``id_token_hint``. Configured from the environment (configuration.py)."""
