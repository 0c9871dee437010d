from django.apps import AppConfig


class OpenDataConfig(AppConfig):
    name = "pacte.opendata"
    verbose_name = "Données ouvertes, statistiques et déclarations"

    def ready(self) -> None:
        from pacte.data.ports import register_catalogue_dataset
        from pacte.opendata.catalogue import dump_dataset

        # the nightly dump is listed in the DCAT-AP catalogue as a dataset with its distribution
        register_catalogue_dataset("opendata.dump", dump_dataset)
