from tinyml.cli import main

raise SystemExit(main())
