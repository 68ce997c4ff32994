from django.apps import AppConfig


class Config(AppConfig):
    name = "xiezuo.engagement"
    label = "engagement"
    default_auto_field = "django.db.models.BigAutoField"
