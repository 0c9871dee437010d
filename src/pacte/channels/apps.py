from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "pacte.channels"
    verbose_name = "Canaux de diffusion et reprise"

    def ready(self) -> None:
        from pacte.accounts.state_record import STATE_PROMISES
        from pacte.channels import record

        record.register(STATE_PROMISES)
