from django.apps import AppConfig


class Config(AppConfig):
    name = "xiezuo.regions"
    label = "regions"
    default_auto_field = "django.db.models.BigAutoField"
