from django.apps import AppConfig


class Config(AppConfig):
    name = "xiezuo.registry"
    label = "registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import xiezuo.registry.imports  # noqa: F401  (registers the import kinds registry, monitoring)
