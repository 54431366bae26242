"""What each page draws: views, widgets and run control, shared by the thin pages."""
