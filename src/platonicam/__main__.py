from platonicam.cli.main import main

main()
