from django.apps import AppConfig


class Config(AppConfig):
    name = "xiezuo.labour"
    label = "labour"
    default_auto_field = "django.db.models.BigAutoField"
