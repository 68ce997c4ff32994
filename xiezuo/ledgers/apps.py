from django.apps import AppConfig


class Config(AppConfig):
    name = "xiezuo.ledgers"
    label = "ledgers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from xiezuo.ledgers import types

        types.autodiscover()
        import xiezuo.ledgers.jobs  # noqa: F401  (registers the job kind "ledger.import")
