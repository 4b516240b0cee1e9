"""Photos, users and the rules about them. No I/O, no frameworks."""
