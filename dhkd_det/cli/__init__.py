"""The command lines, as functions: ``train.run``, ``test.run``,
``reproduce.run`` and ``export.main`` are the console commands
``dhkd-train``, ``dhkd-test``, ``dhkd-reproduce`` and ``dhkd-export`` of an
installed package, and what ``tools/train.py``, ``tools/test.py``,
``tools/reproduce.py`` and ``tools/export_student.py`` call in a source
checkout.  Each reads ``sys.argv``; nothing here runs on import."""
