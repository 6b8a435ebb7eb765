from veriforge.cli import main

main()
