from django.apps import AppConfig


class Config(AppConfig):
    name = "xiezuo.consumption"
    label = "consumption"
    default_auto_field = "django.db.models.BigAutoField"
