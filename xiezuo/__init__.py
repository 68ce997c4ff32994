"""xiezuo (协作): information system for East–West cooperation and paired assistance."""

__version__ = "0.1.0"
