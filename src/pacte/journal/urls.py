from django.urls import path, re_path

from pacte.journal import tile_views, views, witness_views

app_name = "journal"
urlpatterns = [
    path("journal/verifiable/", views.explorer, name="explorer"),
    path("journal/entree/<int:index>/", views.entry, name="entry"),
    # C2SP tlog-tiles static paths (the ninja API under api/v1/ does not match these)
    re_path(
        r"^api/v1/log/tile/entries/(?P<rest>[0-9x./p]+)$",
        tile_views.entry_bundle,
        name="tile-entries",
    ),
    re_path(r"^api/v1/log/tile/(?P<rest>[0-9]+/[0-9x./p]+)$", tile_views.hash_tile, name="tile"),
    # the witness role, C2SP tlog-witness (submission and monitoring prefix: api/v1/witness)
    path(
        "api/v1/witness/add-checkpoint", witness_views.add_checkpoint, name="witness-add-checkpoint"
    ),
    re_path(
        r"^api/v1/witness/(?P<origin_hash>[0-9a-f]{64})/checkpoint$",
        witness_views.witnessed_checkpoint,
        name="witness-checkpoint",
    ),
]
