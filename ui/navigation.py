"""Every page of the app, in order: one line each (ui/main.py builds the navigation from it)."""

PAGES = [  # (file, title, icon, url path); the first is the default page
    ("pages/home.py", "Home", ":material/home:", "home"),
    ("pages/lessons.py", "Lessons", ":material/school:", "lessons"),
    ("pages/build.py", "Build", ":material/construction:", "build"),
    ("pages/train.py", "Train", ":material/play_circle:", "train"),
    ("pages/inspection.py", "Inspect", ":material/biotech:", "inspect"),
    ("pages/explain.py", "Explain", ":material/lightbulb:", "explain"),
    ("pages/playground2d.py", "2-D Playground", ":material/scatter_plot:", "playground"),
    ("pages/class_board.py", "Class", ":material/groups:", "class"),
    ("pages/gan.py", "GAN lab", ":material/blur_on:", "gan"),
    ("pages/applications.py", "Applications", ":material/apps:", "applications"),
]
HIDDEN = [("pages/presenter.py", "Presenter", ":material/co_present:", "present")]  # reached from the Class page
