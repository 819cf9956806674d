"""The `broadcaster` command. main holds the command table and imports no command module
until it runs (start-up time); running has what every command shares.

The top layer beside web: may import anything below.
"""
