"""The public page cache lives in pacte.public_cache (the API lists of lower domains use it too);
this name stays for the views that import it from here."""

from pacte.public_cache import public_api_list, public_page

__all__ = ["public_api_list", "public_page"]
