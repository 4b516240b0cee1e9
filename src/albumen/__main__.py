from albumen.cli import main

main()
