"""Applications: a card per application; Start opens its preset with a view made for it."""

from ui.views import applications

applications.page()
