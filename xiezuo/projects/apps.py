from django.apps import AppConfig


class Config(AppConfig):
    name = "xiezuo.projects"
    label = "projects"
    default_auto_field = "django.db.models.BigAutoField"
