"""Presenter: a projector's view of the class: one lesson, the join code and QR code, the run on the projector."""

from ui.views import board_presenter

board_presenter.view()
