from django.apps import AppConfig


class Config(AppConfig):
    name = "xiezuo.ledgers"
    label = "ledgers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from xiezuo.ledgers import types

        types.autodiscover()
        from xiezuo.ledgers import imports

        imports.register_all()  # every ledger an import kind (job kind "ledger.import")
