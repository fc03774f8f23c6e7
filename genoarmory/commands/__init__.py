"""One module per subcommand; each exposes `main(argv) -> int`."""
