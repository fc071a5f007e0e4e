from steward.cli.main import main

main()
