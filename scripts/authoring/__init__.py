"""What authors run: the book command, its checks and statistics, the pseudocode lexer."""
