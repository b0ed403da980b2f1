from mnist_core.commands.cli import main

raise SystemExit(main())
